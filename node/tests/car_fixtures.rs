//! CAR round-trips over every gateway-conformance-shaped fixture, plus hostile-input checks.
//!
//! "Import and export byte-identical" means: reading a fixture (verifying every block)
//! and writing the same roots and blocks back with `CarWriter` reproduces the file, and
//! for fixtures written in Kubo `dag export` order, `export_dfs` over the blocks does too.
//!
//! Every check runs on the fixture set the tests generate (`wanda_node::test_fixtures`) and
//! then on the official gateway-conformance fixtures when their folder exists
//! (`$WANDA_CONFORMANCE_FIXTURES`, default `../shared/gateway-conformance-fixtures`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::convert::Infallible;

use cid::Cid;
use wanda_node::car::{CarError, CarReader, CarWriter, ExportError, export_dfs};
use wanda_node::ipld::BlockError;
use wanda_node::test_fixtures::{FixtureSet, official, official_status, sets};

/// Says (in nextest's output too, see .config/nextest.toml) whether the official set is checked;
/// fails when it is missing and `WANDA_REQUIRE_OFFICIAL_FIXTURES=1`.
#[test]
fn official_fixtures_status() {
    // prints the "not found" line itself
    if official().is_some() {
        println!("{}", official_status());
    }
}

type Blocks = Vec<(Cid, Vec<u8>)>;

fn read_all(bytes: &[u8]) -> Result<(Vec<Cid>, Blocks), CarError> {
    let mut reader = CarReader::new(bytes)?;
    let roots = reader.roots().to_vec();
    let mut blocks = Vec::new();
    while let Some(block) = reader.next_block()? {
        blocks.push(block);
    }
    Ok((roots, blocks))
}

fn write_all(roots: &[Cid], blocks: &Blocks) -> Vec<u8> {
    let mut writer = CarWriter::new(Vec::new(), roots).unwrap();
    for (cid, data) in blocks {
        writer.write_block(cid, data).unwrap();
    }
    writer.finish().unwrap()
}

fn dfs_export(roots: &[Cid], blocks: &Blocks) -> Result<Vec<u8>, ExportError<Infallible>> {
    let store: HashMap<Cid, Vec<u8>> = blocks.iter().cloned().collect();
    export_dfs(roots, |c| Ok(store.get(c).cloned()), Vec::new())
}

#[test]
fn every_fixture_reads_verifies_and_rewrites_byte_identical() {
    for set in sets() {
        let cars = set.car_files();
        assert_eq!(cars.len(), set.cars, "{}", set.label);
        for path in cars {
            let bytes = std::fs::read(&path).unwrap();
            let (roots, blocks) = read_all(&bytes).unwrap_or_else(|e| panic!("{path:?}: {e}"));
            assert!(!blocks.is_empty(), "{path:?} has no blocks");
            assert_eq!(
                write_all(&roots, &blocks),
                bytes,
                "{path:?} re-export differs"
            );
        }
    }
}

#[test]
fn no_fixture_has_duplicate_blocks() {
    for set in sets() {
        for path in set.car_files() {
            let (_, blocks) = read_all(&std::fs::read(&path).unwrap()).unwrap();
            let unique: HashSet<&Cid> = blocks.iter().map(|(c, _)| c).collect();
            assert_eq!(unique.len(), blocks.len(), "{path:?} repeats a block");
        }
    }
}

#[test]
fn dfs_export_reproduces_exactly_the_dfs_ordered_fixtures() {
    for set in sets() {
        let mut dfs = BTreeSet::new();
        let mut incomplete = BTreeSet::new();
        let mut report = Vec::new();
        for path in set.car_files() {
            let name = set.rel(&path);
            let bytes = std::fs::read(&path).unwrap();
            let (roots, blocks) = read_all(&bytes).unwrap();
            match dfs_export(&roots, &blocks) {
                Ok(out) if out == bytes => {
                    dfs.insert(name);
                }
                Ok(out) => {
                    let (_, exported) = read_all(&out).unwrap();
                    report.push(format!(
                        "{name}: file has {} blocks, DFS export {}",
                        blocks.len(),
                        exported.len()
                    ));
                }
                Err(ExportError::Missing(cid)) => {
                    report.push(format!("{name}: missing {cid}"));
                    incomplete.insert(name);
                }
                Err(e) => panic!("{path:?}: {e}"),
            }
        }
        println!(
            "{} set: DFS-ordered: {dfs:#?}\nothers: {report:#?}",
            set.label
        );
        let want: BTreeSet<String> = set.dfs_ordered.iter().cloned().collect();
        assert_eq!(dfs, want, "{}", set.label);
        let want: BTreeSet<String> = set.incomplete.iter().cloned().collect();
        assert_eq!(incomplete, want, "{}", set.label);
    }
}

/// `path_gateway_unixfs/dir-with-files.car` of `set`.
fn dir_with_files(set: &FixtureSet) -> Vec<u8> {
    set.read("path_gateway_unixfs/dir-with-files.car")
}

/// Offsets at which each section starts, plus the end of the file.
fn section_boundaries(bytes: &[u8]) -> BTreeSet<usize> {
    let (roots, blocks) = read_all(bytes).unwrap();
    let mut at = write_all(&roots, &Vec::new()).len();
    let mut out = BTreeSet::from([at]);
    for (cid, data) in &blocks {
        at += write_all(&[], &vec![(*cid, data.clone())]).len() - write_all(&[], &vec![]).len();
        out.insert(at);
    }
    assert_eq!(at, bytes.len());
    out
}

#[test]
fn flipped_byte_in_a_block_names_the_cid() {
    for set in sets() {
        let mut bytes = dir_with_files(set);
        let (_, blocks) = read_all(&bytes).unwrap();
        let (last_cid, _) = blocks.last().unwrap().clone();
        let end = bytes.len() - 1;
        bytes[end] ^= 0x01;
        let err = read_all(&bytes).unwrap_err();
        assert!(
            matches!(&err, CarError::Block(b) if matches!(**b, BlockError::HashMismatch { ref cid, .. } if **cid == last_cid)),
            "{err}"
        );
        assert!(err.to_string().contains(&last_cid.to_string()), "{err}");
    }
}

#[test]
fn every_truncation_is_a_clean_error_or_a_shorter_car() {
    for set in sets() {
        let bytes = dir_with_files(set);
        let boundaries = section_boundaries(&bytes);
        for cut in 0..bytes.len() {
            match read_all(&bytes[..cut]) {
                Ok(_) => assert!(boundaries.contains(&cut), "cut {cut} read without error"),
                Err(CarError::Truncated(msg)) => {
                    assert!(!boundaries.contains(&cut), "cut {cut}: {msg}");
                }
                Err(e) => panic!("cut {cut}: expected truncation error, got {e}"),
            }
        }
        let msg = read_all(&bytes[..bytes.len() - 3]).unwrap_err().to_string();
        assert!(msg.starts_with("truncated CAR: "), "{msg}");
    }
}

#[test]
fn bad_headers_are_rejected() {
    let cases: &[(&[u8], &str)] = &[
        (b"", "truncated CAR"),
        (b"\x00", "zero-length header"),
        (b"\x05hello", "invalid CAR header"),
        // {"version": 3}
        (b"\x0a\xa1\x67version\x03", "unsupported CAR version 3"),
        // {"version": 1} without roots
        (b"\x0a\xa1\x67version\x01", "missing roots"),
        // 2 MiB header length prefix, nothing behind it
        (b"\x80\x80\x80\x01", "exceeds the 1048576-byte limit"),
        (
            b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            "longer than 9 bytes",
        ),
    ];
    for (bytes, want) in cases {
        let err = CarReader::new(*bytes).err().expect(want).to_string();
        assert!(err.contains(want), "{bytes:?}: {err}");
    }
}

#[test]
fn absurd_section_lengths_are_rejected_before_allocating() {
    let header = write_all(&[], &Vec::new());
    for prefix in [
        &b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f"[..],
        b"\x81\x80\x80\x04",
    ] {
        let mut bytes = header.clone();
        bytes.extend_from_slice(prefix);
        let err = read_all(&bytes).unwrap_err();
        assert!(matches!(err, CarError::SectionTooLarge { .. }), "{err}");
        assert!(err.to_string().contains("exceeds the 8388608-byte limit"));
    }
    let mut zero = header.clone();
    zero.push(0);
    assert!(
        read_all(&zero)
            .unwrap_err()
            .to_string()
            .contains("zero-length section")
    );
}

#[test]
fn carv2_payload_is_read_and_its_truncation_detected() {
    for set in sets() {
        let v1 = dir_with_files(set);
        let padding = 13u64;
        let mut v2 = b"\x0a\xa1\x67version\x02".to_vec();
        v2.extend_from_slice(&[0; 16]);
        v2.extend_from_slice(&(51 + padding).to_le_bytes());
        v2.extend_from_slice(&(v1.len() as u64).to_le_bytes());
        v2.extend_from_slice(&0u64.to_le_bytes());
        v2.extend(std::iter::repeat_n(0, padding as usize));
        v2.extend_from_slice(&v1);
        let with_index = [v2.clone(), b"index bytes are ignored".to_vec()].concat();
        assert_eq!(read_all(&with_index).unwrap(), read_all(&v1).unwrap());
        let err = read_all(&v2[..v2.len() - 40]).unwrap_err();
        assert!(matches!(err, CarError::Truncated(_)), "{err}");
    }
}
