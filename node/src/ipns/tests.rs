//! Create → validate round trips and tampering, on records built in memory.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libp2p_identity::Keypair;
use rand::{Rng, SeedableRng};

use super::*;

const VALUE: &str = "/ipfs/bafkqaddwgevxmmraojswg33smq";

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn eol() -> SystemTime {
    now() + Duration::from_nanos(3_600_000_000_123)
}

fn make(kp: &Keypair, seq: u64) -> IpnsRecord {
    create_record(kp, VALUE, seq, eol(), Duration::from_secs(300)).unwrap()
}

fn check(entry: &IpnsEntry, kp: &Keypair) -> Result<ValidatedRecord> {
    let name = IpnsName::from_public_key(&kp.public());
    validate(&entry.encode(), &name, now())
}

#[test]
fn ed25519_round_trip() {
    let kp = Keypair::generate_ed25519();
    let rec = make(&kp, 7);
    assert_eq!(
        rec.entry().pub_key,
        None,
        "ed25519 keys are inlined in the name"
    );
    let name = IpnsName::from_public_key(&kp.public());
    let v = validate(&rec.to_bytes(), &name, now()).unwrap();
    assert_eq!(v.value, VALUE);
    assert_eq!(v.sequence, 7);
    assert_eq!(v.validity, eol());
    assert_eq!(v.ttl, Some(Duration::from_secs(300)));
    assert_eq!(v.public_key, kp.public());
    assert!(rec.verify_signature_v1(&kp.public()));
    assert_eq!(IpnsRecord::from_bytes(&rec.to_bytes()).unwrap(), rec);
    let validity = std::str::from_utf8(&rec.data().validity).unwrap();
    assert_eq!(validity, "2023-11-14T23:13:20.000000123Z");
}

#[test]
fn secp256k1_round_trip() {
    let kp = Keypair::generate_secp256k1();
    let rec = make(&kp, 1);
    assert_eq!(rec.entry().pub_key, None);
    assert!(check(rec.entry(), &kp).is_ok());
}

#[test]
fn v2_only_record_is_valid() {
    let kp = Keypair::generate_ed25519();
    let mut e = make(&kp, 3).entry().clone();
    e.value = None;
    e.signature_v1 = None;
    e.validity = None;
    e.validity_type = None;
    e.sequence = None;
    e.ttl = None;
    assert_eq!(check(&e, &kp).unwrap().sequence, 3);
}

#[test]
fn tampering_is_rejected() {
    let kp = Keypair::generate_ed25519();
    let good = make(&kp, 5).entry().clone();

    let mut e = good.clone();
    let mut data = RecordData::decode(e.data.as_deref().unwrap()).unwrap();
    data.sequence = 6;
    e.data = Some(data.encode());
    e.sequence = Some(6);
    assert_eq!(check(&e, &kp), Err(IpnsError::BadSignature));

    let mut e = good.clone();
    e.value = Some(b"/ipfs/bafkqaaa".to_vec());
    assert_eq!(check(&e, &kp), Err(IpnsError::FieldMismatch("Value")));

    let mut e = good.clone();
    e.sequence = Some(99);
    assert_eq!(check(&e, &kp), Err(IpnsError::FieldMismatch("Sequence")));

    let mut e = good.clone();
    e.ttl = None;
    assert_eq!(check(&e, &kp), Err(IpnsError::FieldMismatch("TTL")));

    let mut e = good.clone();
    e.validity = Some(b"2999-01-01T00:00:00Z".to_vec());
    assert_eq!(check(&e, &kp), Err(IpnsError::FieldMismatch("Validity")));

    let mut e = good.clone();
    e.signature_v2.as_mut().unwrap()[10] ^= 1;
    assert_eq!(check(&e, &kp), Err(IpnsError::BadSignature));

    let mut e = good.clone();
    e.signature_v1.as_mut().unwrap()[10] ^= 1;
    assert!(check(&e, &kp).is_ok(), "V1 signature is never consulted");

    let mut e = good.clone();
    e.signature_v2 = None;
    assert_eq!(check(&e, &kp), Err(IpnsError::MissingSignatureV2));

    let mut e = good.clone();
    e.data = None;
    assert_eq!(check(&e, &kp), Err(IpnsError::MissingData));
}

#[test]
fn wrong_key_or_name_is_rejected() {
    let kp = Keypair::generate_ed25519();
    let other = Keypair::generate_ed25519();
    let rec = make(&kp, 1);
    assert_eq!(check(rec.entry(), &other), Err(IpnsError::BadSignature));

    let mut e = rec.entry().clone();
    e.pub_key = Some(other.public().encode_protobuf());
    assert_eq!(check(&e, &kp), Err(IpnsError::PublicKeyMismatch));

    let mut e = rec.entry().clone();
    e.pub_key = Some(vec![1, 2, 3]);
    assert!(matches!(
        check(&e, &kp),
        Err(IpnsError::InvalidPublicKey(_))
    ));

    let rsa_name: IpnsName = "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3"
        .parse()
        .unwrap();
    let r = validate(&rec.to_bytes(), &rsa_name, now());
    assert_eq!(r, Err(IpnsError::PublicKeyNotFound));
}

#[test]
fn expiry_uses_given_now() {
    let kp = Keypair::generate_ed25519();
    let bytes = make(&kp, 1).to_bytes();
    let name = IpnsName::from_public_key(&kp.public());
    assert!(
        validate(&bytes, &name, eol()).is_ok(),
        "valid up to and including EOL"
    );
    let late = eol() + Duration::from_nanos(1);
    assert_eq!(validate(&bytes, &name, late), Err(IpnsError::Expired));
}

#[test]
fn size_limit_is_enforced() {
    let kp = Keypair::generate_ed25519();
    let long = format!("/ipfs/{}", "a".repeat(MAX_RECORD_SIZE));
    let r = create_record(&kp, &long, 1, eol(), Duration::ZERO);
    assert!(matches!(r, Err(IpnsError::TooLarge { .. })));

    let mut bytes = make(&kp, 1).to_bytes();
    // pad with an unknown length-delimited field 15 up to just over the limit
    let pad = MAX_RECORD_SIZE - bytes.len();
    bytes.push(0x7a);
    bytes.extend_from_slice(&[0x80 | (pad & 0x7f) as u8, (pad >> 7) as u8]);
    bytes.resize(bytes.len() + pad, 0);
    let name = IpnsName::from_public_key(&kp.public());
    let r = validate(&bytes, &name, now());
    assert!(matches!(r, Err(IpnsError::TooLarge { .. })));
    assert!(matches!(
        IpnsRecord::from_bytes(&bytes),
        Err(IpnsError::TooLarge { .. })
    ));
}

#[test]
fn out_of_range_inputs_are_refused() {
    let kp = Keypair::generate_ed25519();
    let r = create_record(&kp, VALUE, u64::MAX, eol(), Duration::ZERO);
    assert_eq!(r.unwrap_err(), IpnsError::OutOfRange("sequence"));
    let r = create_record(&kp, VALUE, 1, eol(), Duration::MAX);
    assert_eq!(r.unwrap_err(), IpnsError::OutOfRange("ttl"));
}

#[test]
fn mutated_bytes_never_panic() {
    let kp = Keypair::generate_ed25519();
    let name = IpnsName::from_public_key(&kp.public());
    let good = make(&kp, 1).to_bytes();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for _ in 0..3000 {
        let mut b = good.clone();
        for _ in 0..rng.random_range(1..4) {
            let i = rng.random_range(0..b.len());
            b[i] = rng.random();
        }
        b.truncate(rng.random_range(0..=b.len()));
        if let Ok(v) = validate(&b, &name, now()) {
            assert_eq!(v.value, VALUE);
        }
    }
}

#[test]
fn selection_prefers_sequence_then_validity() {
    let kp = Keypair::generate_ed25519();
    let old = make(&kp, 1);
    let new = make(&kp, 2);
    assert_eq!(better(&old, &new), &new);
    assert_eq!(better(&new, &old), &new);
    let longer = create_record(
        &kp,
        VALUE,
        2,
        eol() + Duration::from_secs(1),
        Duration::ZERO,
    )
    .unwrap();
    assert_eq!(better(&new, &longer), &longer);
    assert_eq!(better(&longer, &new), &longer);
    assert_eq!(better(&new, &new), &new);
    let mut e = longer.entry().clone();
    e.signature_v2 = None;
    let v1_only = IpnsRecord::from_entry(e).unwrap();
    assert_eq!(better(&v1_only, &old), &old, "V2 signature beats sequence");
}
