//! CAR round-trips over every gateway-conformance fixture, plus hostile-input checks.
//!
//! "Import and export byte-identical" means: reading a fixture (verifying every block)
//! and writing the same roots and blocks back with `CarWriter` reproduces the file, and
//! for fixtures written in Kubo `dag export` order, `export_dfs` over the blocks does too.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::convert::Infallible;
use std::path::{Path, PathBuf};

use cid::Cid;
use wanda_node::car::{CarError, CarReader, CarWriter, ExportError, export_dfs};
use wanda_node::ipld::BlockError;

/// Fixtures whose bytes are exactly Kubo's `dag export` (DFS) of their roots: every
/// fixture that contains its whole DAG.
const DFS_ORDERED: &[&str] = &[
    "dir_listing/fixtures.car",
    "gateway-cache/fixtures.car",
    "gateway-raw-block.car",
    "path_gateway_dag/dag-cbor-traversal.car",
    "path_gateway_dag/dag-json-traversal.car",
    "path_gateway_dag/dag-pb.car",
    "path_gateway_dag/gateway-json-cbor.car",
    "path_gateway_dag/plain-cbor-that-can-be-dag-cbor.car",
    "path_gateway_dag/plain-cbor-that-can-be-dag-json.car",
    "path_gateway_dag/plain-cbor.car",
    "path_gateway_dag/plain-json.car",
    "path_gateway_tar/fixtures.car",
    "path_gateway_tar/inside-root.car",
    "path_gateway_tar/outside-root.car",
    "path_gateway_unixfs/dir-with-files.car",
    "path_gateway_unixfs/dir-with-percent-encoded-filename.car",
    "path_gateway_unixfs/symlink.car",
    "redirects_file/redirects-spa.car",
    "redirects_file/redirects.car",
    "subdomain_gateway/fixtures.car",
    "trustless_gateway_car/dir-with-dag-cbor-with-links.car",
    "trustless_gateway_car/dir-with-duplicate-files.car",
    "trustless_gateway_car/single-layer-hamt-with-multi-block-files.car",
    "trustless_gateway_car/subdir-with-mixed-block-files.car",
    "trustless_gateway_car/subdir-with-two-single-block-files.car",
];

/// Fixtures that reference blocks they do not contain (so DFS export must fail).
const INCOMPLETE: &[&str] = &["trustless_gateway_car/file-3k-and-3-blocks-missing-block.car"];

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/gateway-conformance-fixtures")
}

fn car_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "car") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures_dir(), &mut out);
    out.sort();
    assert!(
        !out.is_empty(),
        "no fixtures under {}",
        fixtures_dir().display()
    );
    out
}

fn name(path: &Path) -> String {
    path.strip_prefix(fixtures_dir())
        .unwrap()
        .to_string_lossy()
        .into_owned()
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
    for path in car_files() {
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

#[test]
fn no_fixture_has_duplicate_blocks() {
    for path in car_files() {
        let (_, blocks) = read_all(&std::fs::read(&path).unwrap()).unwrap();
        let unique: HashSet<&Cid> = blocks.iter().map(|(c, _)| c).collect();
        assert_eq!(unique.len(), blocks.len(), "{path:?} repeats a block");
    }
}

#[test]
fn dfs_export_reproduces_exactly_the_dfs_ordered_fixtures() {
    let mut dfs = BTreeSet::new();
    let mut incomplete = BTreeSet::new();
    let mut report = Vec::new();
    for path in car_files() {
        let bytes = std::fs::read(&path).unwrap();
        let (roots, blocks) = read_all(&bytes).unwrap();
        match dfs_export(&roots, &blocks) {
            Ok(out) if out == bytes => {
                dfs.insert(name(&path));
            }
            Ok(out) => {
                let (_, exported) = read_all(&out).unwrap();
                report.push(format!(
                    "{}: file has {} blocks, DFS export {}",
                    name(&path),
                    blocks.len(),
                    exported.len()
                ));
            }
            Err(ExportError::Missing(cid)) => {
                report.push(format!("{}: missing {cid}", name(&path)));
                incomplete.insert(name(&path));
            }
            Err(e) => panic!("{path:?}: {e}"),
        }
    }
    println!("DFS-ordered: {dfs:#?}\nothers: {report:#?}");
    let want: BTreeSet<String> = DFS_ORDERED.iter().map(|s| s.to_string()).collect();
    assert_eq!(dfs, want);
    let want: BTreeSet<String> = INCOMPLETE.iter().map(|s| s.to_string()).collect();
    assert_eq!(incomplete, want);
}

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixtures_dir().join(rel)).unwrap()
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
    let mut bytes = fixture("path_gateway_unixfs/dir-with-files.car");
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

#[test]
fn every_truncation_is_a_clean_error_or_a_shorter_car() {
    let bytes = fixture("path_gateway_unixfs/dir-with-files.car");
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
    let v1 = fixture("path_gateway_unixfs/dir-with-files.car");
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
