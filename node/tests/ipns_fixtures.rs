//! IPNS records of the gateway-conformance-shaped fixtures, plus create → validate round trips
//! through the public API (Ed25519 and RSA).
//!
//! The record checks run on the set the tests generate (`wanda_node::test_fixtures`: records
//! signed by seeded keys) and then on the official gateway-conformance fixtures when their
//! folder exists (`$WANDA_CONFORMANCE_FIXTURES`, default `../shared/gateway-conformance-fixtures`).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libp2p_identity::{Keypair, PeerId};
use wanda_node::ipns::{
    IpnsEntry, IpnsError, IpnsName, IpnsRecord, RecordData, ValidatedRecord, create_record,
    format_rfc3339, validate,
};
use wanda_node::test_fixtures::{FixtureSet, rsa_keypair, sets};

/// 2024-01-01T00:00:00Z: before every fixture's EOL.
fn fixed_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

/// The IPNS name a fixture file is named after (its stem up to `_` or `.`).
fn name_of(file: &str) -> IpnsName {
    let stem = Path::new(file).file_name().unwrap().to_str().unwrap();
    let name = stem.split(['_', '.']).next().unwrap();
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check(set: &FixtureSet, file: &str) -> Result<ValidatedRecord, IpnsError> {
    validate(&set.read(file), &name_of(file), fixed_now())
}

/// The six vectors from the spec's "Test Vectors" appendix, with the verdicts
/// the spec gives: V2 is mandatory, V1 signatures are ignored, and a `value`
/// that differs from the signed `data[Value]` invalidates the record.
#[test]
fn spec_test_vectors() {
    for set in sets() {
        let files = set.record_files("ipns_records");
        assert_eq!(files.len(), 6, "{}", set.label);
        let value_of = |case: &str| {
            let (_, v) = set.vector_values.iter().find(|(c, _)| *c == case).unwrap();
            v.as_str()
        };
        let mut valid = 0;
        for file in &files {
            let result = check(set, file);
            let ok_value =
                |case: &str| assert_eq!(result.as_ref().unwrap().value, value_of(case), "{file}");
            let case = file.split_once('_').unwrap().1.split_once('_').unwrap().1;
            match case.strip_suffix(".ipns-record").unwrap() {
                "v1" => assert_eq!(result, Err(IpnsError::MissingSignatureV2)),
                case @ ("v1-v2" | "v2" | "v1-v2-broken-signature-v1") => ok_value(case),
                "v1-v2-broken-signature-v2" => assert_eq!(result, Err(IpnsError::BadSignature)),
                "v1-v2-broken-v1-value" => {
                    assert_eq!(result, Err(IpnsError::FieldMismatch("Value")))
                }
                other => panic!("unexpected vector {other}"),
            }
            if let Ok(v) = result {
                valid += 1;
                assert_eq!(format_rfc3339(v.validity).unwrap(), set.vector_validity);
                let late = UNIX_EPOCH + Duration::from_secs(5_000_000_000);
                let r = validate(&set.read(file), &name_of(file), late);
                assert_eq!(r, Err(IpnsError::Expired), "{file}");
            }
        }
        assert_eq!(valid, 3, "{}", set.label);
    }
}

/// The vectors' V1 signatures really are what their names say, which also pins
/// the V1 signing payload (`value ‖ validity ‖ "EOL"`) our records use.
#[test]
fn v1_signatures_match_vector_names() {
    for set in sets() {
        for file in set.record_files("ipns_records") {
            let Ok(rec) = IpnsRecord::from_bytes(&set.read(&file)) else {
                assert!(file.ends_with("_v1.ipns-record"), "{file}");
                continue;
            };
            let key = name_of(&file).inline_public_key().unwrap().unwrap();
            // The broken-v1-value vector's V1 signature does not cover its altered
            // `value`; it is rejected by the field check either way.
            if file.ends_with("_v1-v2.ipns-record") {
                assert!(rec.verify_signature_v1(&key), "{file}");
            }
            if file.contains("broken-signature-v1") {
                assert!(!rec.verify_signature_v1(&key), "{file}");
            }
            let v2_ok = rec.verify_signature_v2(&key);
            assert_eq!(v2_ok, !file.contains("broken-signature-v2"), "{file}");
        }
    }
}

/// The records outside `ipns_records/`.
fn other_record_files(set: &FixtureSet) -> Vec<String> {
    let mut files = Vec::new();
    for dir in ["gateway-cache", "path_gateway_dag", "subdomain_gateway"] {
        files.extend(set.record_files(dir));
    }
    files
}

#[test]
fn gateway_fixture_records_validate() {
    for set in sets() {
        let listed: Vec<&str> = set.records.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(other_record_files(set), listed, "{}", set.label);
        for r in &set.records {
            let file = &r.file;
            let v = check(set, file).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(v.value, r.value, "{file}");
            assert_eq!(v.sequence, r.sequence, "{file}");
            assert_eq!(format_rfc3339(v.validity).unwrap(), r.validity, "{file}");
            // Only the RSA (Qm…) name needs its key embedded in the record.
            let embedded = v.record.entry().pub_key.is_some();
            assert_eq!(embedded, file.contains("/Qm"), "{file}");
        }
    }
}

/// Our encoders reproduce Kubo/boxo bytes exactly: the DAG-CBOR `data` document
/// and the protobuf envelope of every fixture record re-encode identically.
#[test]
fn encoders_match_fixture_bytes() {
    for set in sets() {
        let mut files = set.record_files("ipns_records");
        files.extend(other_record_files(set));
        for file in &files {
            let bytes = set.read(file);
            let entry = IpnsEntry::decode(&bytes).unwrap();
            assert_eq!(entry.encode(), bytes, "{file} protobuf");
            if let Some(data) = &entry.data {
                assert_eq!(
                    &RecordData::decode(data).unwrap().encode(),
                    data,
                    "{file} cbor"
                );
            }
        }
    }
}

#[test]
fn names_round_trip() {
    for set in sets() {
        for s in &set.peer_id_names {
            let name: IpnsName = s.parse().unwrap();
            assert_eq!(name.peer_id().to_base58(), *s);
            let k = name.to_string();
            assert!(k.starts_with('k'), "{k}");
            assert_eq!(k.parse::<IpnsName>().unwrap(), name);
        }
        for file in set.record_files("path_gateway_dag") {
            let name = name_of(&file);
            let k51 = file.split_once('/').unwrap().1.split_once('.').unwrap().0;
            assert_eq!(name.to_string(), k51);
            let peer: PeerId = name.peer_id().to_base58().parse().unwrap();
            assert_eq!(IpnsName::from_peer_id(peer).to_string(), k51);
        }
    }
}

#[test]
fn rsa_and_ed25519_round_trip() {
    let eol = fixed_now() + Duration::from_secs(48 * 3600);
    for kp in [Keypair::generate_ed25519(), rsa_keypair()] {
        let name = IpnsName::from_public_key(&kp.public());
        let rec = create_record(&kp, "/ipfs/bafkqaaa", 42, eol, Duration::from_secs(60)).unwrap();
        let is_rsa = kp.public().try_into_rsa().is_ok();
        assert_eq!(
            rec.entry().pub_key.is_some(),
            is_rsa,
            "pubKey embedded only for RSA"
        );
        let parsed: IpnsName = name.to_string().parse().unwrap();
        assert_eq!(parsed, name);
        let v = validate(&rec.to_bytes(), &parsed, fixed_now()).unwrap();
        assert_eq!(
            (v.value.as_str(), v.sequence, v.validity),
            ("/ipfs/bafkqaaa", 42, eol)
        );

        let mut e = rec.entry().clone();
        e.value = Some(b"/ipfs/bafkqaba".to_vec());
        let r = validate(&e.encode(), &name, fixed_now());
        assert_eq!(r, Err(IpnsError::FieldMismatch("Value")));

        let mut e = rec.entry().clone();
        let mut data = RecordData::decode(e.data.as_deref().unwrap()).unwrap();
        data.sequence += 1;
        e.data = Some(data.encode());
        e.sequence = Some(43);
        assert_eq!(
            validate(&e.encode(), &name, fixed_now()),
            Err(IpnsError::BadSignature)
        );

        let mut e = rec.entry().clone();
        let sig = e.signature_v2.as_mut().unwrap();
        let mid = sig.len() / 2;
        sig[mid] ^= 0x40;
        assert_eq!(
            validate(&e.encode(), &name, fixed_now()),
            Err(IpnsError::BadSignature)
        );
    }
}
