//! IPNS records against the official gateway-conformance fixtures, plus
//! create → validate round trips through the public API (Ed25519 and RSA).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libp2p_identity::{Keypair, PeerId};
use wanda_node::ipns::{
    IpnsEntry, IpnsError, IpnsName, IpnsRecord, RecordData, ValidatedRecord, create_record,
    format_rfc3339, validate,
};

/// 2024-01-01T00:00:00Z: before every fixture's EOL.
fn fixed_now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_704_067_200)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/gateway-conformance-fixtures")
}

fn read(rel: &str) -> Vec<u8> {
    let p = fixtures().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The IPNS name a fixture file is named after (its stem up to `_` or `.`).
fn name_of(file: &str) -> IpnsName {
    let stem = Path::new(file).file_name().unwrap().to_str().unwrap();
    let name = stem.split(['_', '.']).next().unwrap();
    name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn check(file: &str) -> Result<ValidatedRecord, IpnsError> {
    validate(&read(file), &name_of(file), fixed_now())
}

fn record_files(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".ipns-record"))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    files.sort();
    files
}

/// The six vectors from the spec's "Test Vectors" appendix, with the verdicts
/// the spec gives: V2 is mandatory, V1 signatures are ignored, and a `value`
/// that differs from the signed `data[Value]` invalidates the record.
#[test]
fn spec_test_vectors() {
    let files = record_files("ipns_records");
    assert_eq!(files.len(), 6);
    for file in &files {
        let result = check(file);
        let ok_value = |v: &str| assert_eq!(result.as_ref().unwrap().value, v, "{file}");
        match file.split_once('_').unwrap().1.split_once('_').unwrap().1 {
            "v1.ipns-record" => assert_eq!(result, Err(IpnsError::MissingSignatureV2)),
            "v1-v2.ipns-record" => ok_value("/ipfs/bafkqaddwgevxmmraojswg33smq"),
            "v2.ipns-record" => ok_value("/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi"),
            "v1-v2-broken-signature-v1.ipns-record" => {
                ok_value("/ipfs/bafkqahtwgevxmmrao5uxi2bamjzg623fnyqhg2lhnzqxi5lsmuqhmmi")
            }
            "v1-v2-broken-signature-v2.ipns-record" => {
                assert_eq!(result, Err(IpnsError::BadSignature))
            }
            "v1-v2-broken-v1-value.ipns-record" => {
                assert_eq!(result, Err(IpnsError::FieldMismatch("Value")))
            }
            other => panic!("unexpected vector {other}"),
        }
        if let Ok(v) = result {
            assert_eq!(
                format_rfc3339(v.validity).unwrap(),
                "2123-08-14T12:17:03.694052Z"
            );
            let late = UNIX_EPOCH + Duration::from_secs(5_000_000_000);
            let r = validate(&read(file), &name_of(file), late);
            assert_eq!(r, Err(IpnsError::Expired), "{file}");
        }
    }
}

/// The vectors' V1 signatures really are what their names say, which also pins
/// the V1 signing payload (`value ‖ validity ‖ "EOL"`) our records use.
#[test]
fn v1_signatures_match_vector_names() {
    for file in record_files("ipns_records") {
        let Ok(rec) = IpnsRecord::from_bytes(&read(&file)) else {
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

/// (file, value, sequence, validity) of every other record in the fixtures.
const GATEWAY_RECORDS: &[(&str, &str, u64, &str)] = &[
    (
        "gateway-cache/k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c.ipns-record",
        "/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui/root2",
        0,
        "2126-01-31T15:56:12.714899293Z",
    ),
    (
        "gateway-cache/k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe.ipns-record",
        "/ipfs/bafybeib3ffl2teiqdncv3mkz4r23b5ctrwkzrrhctdbne6iboayxuxk5ui",
        0,
        "2123-04-12T15:32:22.646144Z",
    ),
    (
        "path_gateway_dag/k51qzi5uqu5dghjous0agrwavl8vzl64xckoqzwqeqwudfr74kfd11zcyk3b7l.ipns-record",
        "/ipfs/bafyreibs4utpgbn7uqegmd2goqz4bkyflre2ek2iwv743fhvylwi4zeeim",
        0,
        "2123-04-13T08:09:51.891396Z",
    ),
    (
        "path_gateway_dag/k51qzi5uqu5dhjghbwdvbo6mi40htrq6e2z4pwgp15pgv3ho1azvidttzh8yy2.ipns-record",
        "/ipfs/baguqeeram5ujjqrwheyaty3w5gdsmoz6vittchvhk723jjqxk7hakxkd47xq",
        0,
        "2123-04-13T08:09:21.159744Z",
    ),
    (
        "subdomain_gateway/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d.ipns-record",
        "/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am",
        0,
        "2123-04-12T13:44:59.801728Z",
    ),
    (
        "subdomain_gateway/QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3.ipns-record",
        "/ipfs/bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am",
        0,
        "2123-04-12T13:43:57.238038Z",
    ),
];

#[test]
fn gateway_fixture_records_validate() {
    let mut files = Vec::new();
    for dir in ["gateway-cache", "path_gateway_dag", "subdomain_gateway"] {
        files.extend(record_files(dir));
    }
    let listed: Vec<&str> = GATEWAY_RECORDS.iter().map(|r| r.0).collect();
    assert_eq!(files, listed);
    for (file, value, sequence, validity) in GATEWAY_RECORDS {
        let v = check(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(v.value, *value, "{file}");
        assert_eq!(v.sequence, *sequence, "{file}");
        assert_eq!(format_rfc3339(v.validity).unwrap(), *validity, "{file}");
        // Only the RSA (Qm…) name needs its key embedded in the record.
        let embedded = v.record.entry().pub_key.is_some();
        assert_eq!(embedded, file.contains("/Qm"), "{file}");
    }
}

/// Our encoders reproduce Kubo/boxo bytes exactly: the DAG-CBOR `data` document
/// and the protobuf envelope of every fixture record re-encode identically.
#[test]
fn encoders_match_fixture_bytes() {
    let mut files = record_files("ipns_records");
    for dir in ["gateway-cache", "path_gateway_dag", "subdomain_gateway"] {
        files.extend(record_files(dir));
    }
    for file in &files {
        let bytes = read(file);
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

#[test]
fn names_round_trip() {
    for s in [
        "12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d",
        "QmVujd5Vb7moysJj8itnGufN7MEtPRCNHkKpNuA4onsRa3",
    ] {
        let name: IpnsName = s.parse().unwrap();
        assert_eq!(name.peer_id().to_base58(), s);
        let k = name.to_string();
        assert!(k.starts_with('k'), "{k}");
        assert_eq!(k.parse::<IpnsName>().unwrap(), name);
    }
    for file in record_files("path_gateway_dag") {
        let name = name_of(&file);
        let k51 = file.split_once('/').unwrap().1.split_once('.').unwrap().0;
        assert_eq!(name.to_string(), k51);
        let peer: PeerId = name.peer_id().to_base58().parse().unwrap();
        assert_eq!(IpnsName::from_peer_id(peer).to_string(), k51);
    }
}

/// 2048-bit RSA key (PKCS#8 DER, base64), generated for this test only.
const RSA_PKCS8_B64: &str = concat!(
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDWhjxZSSDLt6Ks+D7Rij+KD6+48FPbI3ZQkQ+N",
    "BIwHmh/6OvnSReIlIdD3B0L5qic7J0dM0TJ7V1/kawgPGUzsbp8+v6bbVL1f4kptCxGS8yG/uLzWdk3ilO8zkGvp",
    "YrlOHBUSeRrVfuKzopCRv0Otz0208j6DjnnmL8ghP4wMX/TlKz5edMW1MepH9DtXMVcqIyR8AD2tPi10FX4lVNkS",
    "gH/ho2svZiPuY1hZ59RfLP6WS0yfuRYaTiTGLZ4i7G7DK0FKvK++wf3Gwp6efRFDrEQiKSSHpbhCaraA2KwZixjA",
    "f92BXqXzk9g90dzNLWr+wimDd3UZO5DE8vlGJNfhAgMBAAECggEAAzzBWmOVIB3kUZHpeMYKUW4NK9BMo6j0VyDp",
    "SCqCZnb39pG/RWISmJbbDW9JnnTn5KeiFtGtXlkiNFM9KuUp2QOOWacQwIyV0wWaM+0P1dTfdII4L1BXuoye03th",
    "dYMs4rXfx4iWVBR3HVjdr6VgQxY2yP1C3j9fLY8ZCQ9pcKJW/qyuFZAs+stVvxe8GCE+xXg012fAvcCI2etteawo",
    "kyzyjGm+eU/3Gkbf7K9gibvOAY56GlkoEAiO1eBGgy0wLQvAfojegMM/UiiZxviU/hsROTF1fOiPPmr2vF5kfstT",
    "WvkfbBZjq4uze2vr1xBwvljHvFxlhuIQXaXs43BuRQKBgQDzuB0HFxKjOWLE5znw1GujQXRit3zSmVnNxWhQ/UuV",
    "6RbdeH0Qbq9Egwl/CPmur/wbZirYGzyvMbxwKW4SJf18qTnX0KznGpV+F5rKsnO8HP8T+DlisU8q7TxXZm2dbEMH",
    "tKSKL/hxVfWWhgCZp/awHCrseEXpNsfZJDB9jQ8AOwKBgQDhVYUW3Cc8YEo3pTKbTmWyK7rXnH89IYojgx4wwRwY",
    "G0y3BnQJuA8IQSorOdCUs4CuB+FicYXfe28NzWIAnHX5B5Vhox/SkqMHeVXrVEJJ17Zr498Dv4wYFKymMzv7eUyv",
    "5rfC06Xx2ZMee6kSvqM8n2nrNiDAGW7+XikbVmHCkwKBgEjqIU0Yuwu4RHNyViRV+On70C0khiSfmn10fPQWA8IS",
    "3TNfM9Nxud/+cB3geoqnvf4Yf+Ltqyci8yR/UJ3/XaopGtQVa1Us3+K8fyP7ZaK27h10Wv7K20uVdEMVst+xHxC0",
    "G7H4DhUiSXpCFvXhiW1A0Bq1FP1j1UCCkjtNs1o3AoGBAOCQWweSNeP8zlowX4PZmI38+MLh6whgQYvsowzRlw8L",
    "PeP1IXWCIjEGyGC1yII5dhd6MQrruhAjsmRd97pGM2gQP7ZDXHZ9vs23BYJ2wW1X9iwFt37DyXlCOWGVE8UleOCg",
    "nSgjx3CEdhLeCHxu0r2a3XMUyYTIlA4ahvsAloLTAoGBANvruJiUkM3ei6nH0ldVahBzx8wfmudnB38YUfx/k6LB",
    "1LrIk/Xy/BJ6t7goweRGT3Azm5OMro0tEwpROI5ivPS+jP1DvVDjvhYz5stDtFEpvvxJKv+g8T5/DqcWIQcUUX7i",
    "MopxF1Ld9XImbthSK0+LXHyxOKCONSky3vab1jDp",
);

fn rsa_keypair() -> Keypair {
    use base64::Engine as _;
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(RSA_PKCS8_B64)
        .unwrap();
    Keypair::rsa_from_pkcs8(&mut der).unwrap()
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
