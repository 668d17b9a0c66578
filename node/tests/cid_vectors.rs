//! CIDs equal the reference importer's (configured like Kubo 0.22; default-flag vectors also
//! checked against live Kubo) for every vector in tests/vectors/expected.json, and our CAR export
//! of each DAG equals the importer's CAR byte for byte when tests/vectors/gen.sh has produced them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use wanda_node::store::Blockstore;
use wanda_node::test_fixtures::SeedBytes;
use wanda_node::unixfs::{AddEvent, AddOptions, BlockSink, HashOnlySink, Importer, StoreSink};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn vectors() -> Vec<Value> {
    let text = std::fs::read_to_string(vectors_dir().join("expected.json")).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    doc["vectors"].as_array().unwrap().clone()
}

fn options(v: &Value) -> AddOptions {
    let o = &v["options"];
    AddOptions {
        cid_version: o["cid_version"].as_u64().unwrap() as u8,
        raw_leaves: Some(o["raw_leaves"].as_bool().unwrap()),
        chunk_size: o["chunker_size"].as_u64().unwrap() as usize,
        trickle: o["trickle"].as_bool().unwrap(),
        wrap: o["wrap"].as_bool().unwrap(),
        ..Default::default()
    }
}

fn write_seeded(path: &Path, seed: &str, size: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = std::fs::File::create(path).unwrap();
    std::io::copy(&mut SeedBytes::new(seed, size), &mut f).unwrap();
}

/// Materialises a vector's input on disk; returns the path to add.
fn materialise(v: &Value, dir: &Path) -> PathBuf {
    let name = v["name"].as_str().unwrap();
    if v["kind"] == "file" {
        let file_name = v["wrap_name"].as_str().unwrap_or("input.bin");
        let path = dir.join(file_name);
        write_seeded(
            &path,
            v["seed"].as_str().unwrap(),
            v["size"].as_u64().unwrap(),
        );
        return path;
    }
    let root = dir.join("added");
    std::fs::create_dir_all(&root).unwrap();
    for entry in v["tree"].as_array().unwrap() {
        if let Some(many) = entry.get("many") {
            let parent = many["parent"].as_str().unwrap();
            let prefix = many["prefix"].as_str().unwrap();
            let width = many["width"].as_u64().unwrap() as usize;
            for i in 0..many["count"].as_u64().unwrap() {
                let file = format!("{prefix}{i:0width$}");
                let rel = if parent.is_empty() {
                    file
                } else {
                    format!("{parent}/{file}")
                };
                write_seeded(
                    &root.join(&rel),
                    &format!("{name}/{rel}"),
                    many["size"].as_u64().unwrap(),
                );
            }
        } else if entry["dir"].as_bool() == Some(true) {
            std::fs::create_dir_all(root.join(entry["path"].as_str().unwrap())).unwrap();
        } else {
            write_seeded(
                &root.join(entry["path"].as_str().unwrap()),
                entry["seed"].as_str().unwrap(),
                entry["size"].as_u64().unwrap(),
            );
        }
    }
    root
}

/// Adds the vector's input into `sink`; returns (root CID, CID of the single added entry).
fn add(v: &Value, input: &Path, sink: &mut dyn BlockSink) -> (cid::Cid, cid::Cid) {
    let mut entries = Vec::new();
    let mut ev = |e: AddEvent<'_>| {
        if let AddEvent::Added { cid, path, .. } = e {
            entries.push((path.to_string(), *cid));
        }
    };
    let root = Importer::new(options(v), sink, &mut ev)
        .unwrap()
        .add_paths(&[input], v["kind"] == "dir")
        .unwrap();
    let inner = entries
        .iter()
        .find(|(p, _)| !p.is_empty())
        .map(|(_, c)| *c)
        .unwrap();
    (root, inner)
}

#[test]
fn cids_match_the_reference_importer() {
    let mut failures = Vec::new();
    let all = vectors();
    assert!(all.len() >= 40, "expected.json has {} vectors", all.len());
    for v in &all {
        let tmp = tempfile::tempdir().unwrap();
        let input = materialise(v, tmp.path());
        let (root, inner) = add(v, &input, &mut HashOnlySink);
        let name = v["name"].as_str().unwrap();
        if root.to_string() != v["cid"].as_str().unwrap() {
            failures.push(format!("{name}: got {root}, want {}", v["cid"]));
        }
        if let Some(want) = v.get("inner_cid").and_then(Value::as_str)
            && inner.to_string() != want
        {
            failures.push(format!("{name} (inner): got {inner}, want {want}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn car_export_matches_the_reference_importers_car() {
    let cars = vectors_dir().join("out/cars");
    if !cars.is_dir() {
        assert!(
            std::env::var_os("WANDA_REQUIRE_VECTOR_CARS").is_none(),
            "{} missing: run tests/vectors/gen.sh first",
            cars.display()
        );
        eprintln!(
            "skipping: {} not generated (tests/vectors/gen.sh)",
            cars.display()
        );
        return;
    }
    let mut compared = 0;
    for v in vectors() {
        let name = v["name"].as_str().unwrap();
        let Ok(want) = std::fs::read(cars.join(format!("{name}.car"))) else {
            continue;
        };
        let tmp = tempfile::tempdir().unwrap();
        let store = Blockstore::open(&tmp.path().join("ds.redb")).unwrap();
        let input = materialise(&v, tmp.path());
        let mut sink = StoreSink::new(&store).unwrap();
        let (root, _) = add(&v, &input, &mut sink);
        sink.finish(None).unwrap();
        let mut ours = Vec::new();
        wanda_node::dag::export_car(&store, &root, &mut ours).unwrap();
        assert!(
            ours == want,
            "{name}: CAR export differs from the importer's"
        );
        // and the importer's CAR imports into a fresh store and exports to the same bytes
        let store2 = Blockstore::open(&tmp.path().join("ds2.redb")).unwrap();
        wanda_node::dag::import_car(&store2, &want[..], true).unwrap();
        let mut again = Vec::new();
        wanda_node::dag::export_car(&store2, &root, &mut again).unwrap();
        assert!(again == want, "{name}: re-export after import differs");
        compared += 1;
    }
    assert!(compared > 0, "no CAR compared");
}
