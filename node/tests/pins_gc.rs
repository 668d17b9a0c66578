//! Pins and garbage collection.

use wanda_node::gc::collect_garbage;
use wanda_node::pinning::{PinFilter, PinKind, pin_add, pin_ls, pin_rm};
use wanda_node::store::Blockstore;
use wanda_node::test_fixtures::seed_bytes;
use wanda_node::unixfs::{AddEvent, AddOptions, Importer, StoreSink};

fn add(store: &Blockstore, seed: &str, n: u64) -> cid::Cid {
    let mut sink = StoreSink::new(store).unwrap();
    let mut ev = |_: AddEvent<'_>| {};
    let cid = Importer::new(AddOptions::default(), &mut sink, &mut ev)
        .unwrap()
        .add_stream(&seed_bytes(seed, n)[..], None)
        .unwrap();
    sink.finish(None).unwrap();
    cid
}

#[test]
fn gc_keeps_pinned_dags_and_removes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let kept = add(&store, "kept", 1_000_000);
    let direct = add(&store, "direct", 1000);
    let dropped = add(&store, "dropped", 1_000_000);
    pin_add(&store, &kept, true, Some("k".into())).unwrap();
    pin_add(&store, &direct, false, None).unwrap();

    let ls = pin_ls(&store, PinFilter::All).unwrap();
    assert_eq!(ls[&kept.to_string()].1, PinKind::Recursive);
    assert_eq!(ls[&direct.to_string()].1, PinKind::Direct);
    let indirect = pin_ls(&store, PinFilter::Indirect).unwrap();
    assert_eq!(indirect.len(), 4, "1 MB = 4 leaves under the pinned root");

    let report = collect_garbage(&store).unwrap();
    assert_eq!(report.removed.len(), 5, "dropped root + 4 leaves");
    assert!(store.has(&kept).unwrap());
    assert!(store.has(&direct).unwrap());
    assert!(!store.has(&dropped).unwrap());
    for (cid, _) in indirect.values() {
        assert!(store.has(cid).unwrap());
    }

    let leaf = indirect.values().next().unwrap().0;
    let err = pin_rm(&store, &leaf).unwrap_err().to_string();
    assert!(err.contains("pinned indirectly"), "{err}");
    pin_rm(&store, &kept).unwrap();
    assert!(
        pin_rm(&store, &kept)
            .unwrap_err()
            .to_string()
            .contains("not pinned")
    );
    collect_garbage(&store).unwrap();
    assert!(!store.has(&kept).unwrap());
}

#[test]
fn recursive_pin_of_incomplete_dag_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let root = add(&store, "partial", 1_000_000);
    let leaf = pin_ls(&store, PinFilter::All).unwrap();
    assert!(leaf.is_empty());
    let child =
        wanda_node::dag_walk::block_links(&root, &store.get(&root).unwrap().unwrap()).unwrap()[1];
    store.remove(&child).unwrap();
    let err = pin_add(&store, &root, true, None).unwrap_err();
    assert!(err.to_string().contains("not found"), "{err}");
    assert!(store.list_pins().unwrap().is_empty());
}

#[test]
fn gc_does_not_touch_an_import_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    // An import that has written blocks but not pinned yet holds the import guard.
    let mut writer = store.writer().unwrap();
    let data = b"in flight".to_vec();
    let cid = cid::Cid::new_v1(
        0x55,
        multihash_codetable::MultihashDigest::digest(&multihash_codetable::Code::Sha2_256, &data),
    );
    writer.put(&cid, &data).unwrap();
    let s2 = store.clone();
    let gc = std::thread::spawn(move || collect_garbage(&s2).unwrap());
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(!gc.is_finished(), "GC must wait for the running import");
    writer
        .pin(
            &cid,
            &wanda_node::store::PinRecord {
                mode: wanda_node::store::PinMode::Recursive,
                name: None,
            },
        )
        .unwrap();
    writer.finish().unwrap();
    let report = gc.join().unwrap();
    assert!(report.removed.is_empty());
    assert!(store.has(&cid).unwrap());
}
