//! Large blocks in segment files: round trips, aborted writers, what opening repairs after a
//! crash, space given back on removal, and reads racing removals.

use cid::Cid;
use multihash_codetable::{Code, MultihashDigest};
use rand::{RngCore, SeedableRng};
use std::fs::{self, OpenOptions};
use std::path::{Path, PathBuf};
use wanda_node::store::{Blockstore, PIECE_SIZE, Recovery, SEGMENT_BYTES, segment_syncs};

fn block(seed: u64, len: usize) -> (Cid, Vec<u8>) {
    let mut data = vec![0; len];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut data);
    (Cid::new_v1(0x55, Code::Sha2_256.digest(&data)), data)
}

fn segment_files(store: &Blockstore) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(store.segment_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn allocated(path: &Path) -> u64 {
    std::os::unix::fs::MetadataExt::blocks(&fs::metadata(path).unwrap()) * 512
}

fn file_len(path: &Path) -> u64 {
    fs::metadata(path).unwrap().len()
}

#[test]
fn large_blocks_go_to_segments_small_ones_stay_in_redb_and_both_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.redb");
    let blocks: Vec<_> = [0, 1, PIECE_SIZE, PIECE_SIZE + 1, 256 << 10, 1 << 20]
        .iter()
        .enumerate()
        .map(|(i, &len)| block(i as u64, len))
        .collect();
    {
        let store = Blockstore::open(&path).unwrap();
        let mut writer = store.writer().unwrap();
        for (cid, data) in &blocks {
            assert!(writer.put(cid, data).unwrap());
        }
        writer.finish().unwrap();
        let files = segment_files(&store);
        assert_eq!(files.len(), 1, "{files:?}");
        let large: u64 = blocks
            .iter()
            .filter(|(_, d)| d.len() > PIECE_SIZE)
            .map(|(_, d)| d.len() as u64)
            .sum();
        assert_eq!(file_len(&files[0]), large, "only blocks over PIECE_SIZE");
    }
    let store = Blockstore::open(&path).unwrap();
    assert_eq!(store.recovery(), &Recovery::default());
    for (cid, data) in &blocks {
        assert_eq!(store.get(cid).unwrap().as_deref(), Some(&data[..]), "{cid}");
        assert_eq!(store.size(cid).unwrap(), Some(data.len() as u64));
    }
    assert_eq!(store.stats().unwrap().num_blocks, blocks.len() as u64);
}

#[test]
fn a_dropped_writer_leaves_nothing_and_the_next_one_writes_over_its_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.redb");
    let store = Blockstore::open(&path).unwrap();
    let (a, a_data) = block(1, 300_000);
    let (b, b_data) = block(2, 300_000);
    let (c, c_data) = block(3, 100_000);
    store.put(&a, &a_data).unwrap();
    {
        let mut writer = store.cache_writer().unwrap();
        writer.put(&b, &b_data).unwrap();
        // dropped without finish
    }
    assert!(!store.has(&b).unwrap());
    store.put(&c, &c_data).unwrap();
    let seg = segment_files(&store)[0].clone();
    // c went where b's bytes were: the file still ends after b's (uncommitted) bytes ...
    assert_eq!(file_len(&seg), 600_000);
    assert_eq!(store.get(&a).unwrap().unwrap(), a_data);
    assert_eq!(store.get(&c).unwrap().unwrap(), c_data);
    drop(store);
    // ... until the next open cuts them off.
    let store = Blockstore::open(&path).unwrap();
    assert_eq!(store.recovery().truncated_bytes, 200_000);
    assert_eq!(file_len(&seg), 400_000);
    assert_eq!(store.get(&c).unwrap().unwrap(), c_data);
    assert!(!store.has(&b).unwrap());
}

#[test]
fn opening_cuts_uncommitted_tails_deletes_orphan_segments_and_keeps_every_committed_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.redb");
    let (a, a_data) = block(1, 300_000);
    let seg;
    {
        let store = Blockstore::open(&path).unwrap();
        store.put(&a, &a_data).unwrap();
        seg = segment_files(&store)[0].clone();
    }
    // What a crash between the segment write and the redb commit leaves: bytes past the
    // committed length, and a segment file that no committed transaction names.
    let mut f = OpenOptions::new().append(true).open(&seg).unwrap();
    std::io::Write::write_all(&mut f, &[7; 12_345]).unwrap();
    drop(f);
    let orphan = seg.with_file_name("00000099.seg");
    fs::write(&orphan, [1; 1000]).unwrap();

    let store = Blockstore::open(&path).unwrap();
    assert_eq!(
        store.recovery(),
        &Recovery {
            truncated_bytes: 12_345,
            orphan_files: 1,
            lost_blocks: 0
        }
    );
    assert!(!orphan.exists());
    assert_eq!(file_len(&seg), 300_000);
    assert_eq!(store.get(&a).unwrap().unwrap(), a_data);
    let (b, b_data) = block(2, 200_000);
    store.put(&b, &b_data).unwrap();
    assert_eq!(store.get(&b).unwrap().unwrap(), b_data);
    assert_eq!(file_len(&seg), 500_000);
}

#[test]
fn blocks_whose_bytes_vanished_from_a_segment_are_dropped_not_served_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.redb");
    let blocks: Vec<_> = (0..4).map(|i| block(i, 100_000)).collect();
    let seg;
    {
        let store = Blockstore::open(&path).unwrap();
        let mut writer = store.writer().unwrap();
        for (cid, data) in &blocks {
            writer.put(cid, data).unwrap();
        }
        writer.finish().unwrap();
        seg = segment_files(&store)[0].clone();
    }
    // Damage from outside (a disk that lost the last writes): the file ends inside block 2.
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(250_000)
        .unwrap();
    let store = Blockstore::open(&path).unwrap();
    assert_eq!(store.recovery().lost_blocks, 2);
    for (i, (cid, data)) in blocks.iter().enumerate() {
        if i < 2 {
            assert_eq!(store.get(cid).unwrap().unwrap(), *data);
        } else {
            assert_eq!(store.get(cid).unwrap(), None, "block {i}");
        }
    }
    // New blocks go after the real end, and a second open finds nothing to repair.
    let (b, b_data) = block(9, 100_000);
    store.put(&b, &b_data).unwrap();
    drop(store);
    let store = Blockstore::open(&path).unwrap();
    assert_eq!(store.recovery(), &Recovery::default());
    assert_eq!(store.get(&b).unwrap().unwrap(), b_data);
    assert_eq!(store.get(&blocks[1].0).unwrap().unwrap(), blocks[1].1);
}

#[test]
fn removing_blocks_gives_their_space_back_and_deletes_emptied_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    // Enough 256 KiB blocks to fill one segment and start a second.
    let count = (SEGMENT_BYTES / (256 << 10)) as usize + 40;
    let mut writer = store.cache_writer().unwrap();
    let mut cids = Vec::new();
    for i in 0..count {
        let (cid, data) = block(i as u64, 256 << 10);
        writer.put(&cid, &data).unwrap();
        cids.push(cid);
    }
    writer.finish().unwrap();
    let files = segment_files(&store);
    assert_eq!(files.len(), 2, "{files:?}");
    let before = allocated(&files[1]);

    // Every other block of the second segment: holes, the file stays.
    let first_count = (SEGMENT_BYTES / (256 << 10)) as usize;
    let second: Vec<Vec<u8>> = cids[first_count..]
        .iter()
        .step_by(2)
        .map(|c| c.hash().to_bytes())
        .collect();
    assert_eq!(store.remove_multihashes(&second).unwrap(), 20);
    let punched = before - allocated(&files[1]);
    // Whole file-system blocks inside each removed block are freed (at most 4 KiB kept at each end).
    assert!(
        punched >= 20 * ((256 << 10) - 8192),
        "punched {punched} bytes"
    );

    // The whole first segment: its file goes.
    let first: Vec<Vec<u8>> = cids[..first_count]
        .iter()
        .map(|c| c.hash().to_bytes())
        .collect();
    assert_eq!(
        store.remove_multihashes(&first).unwrap(),
        first_count as u64
    );
    assert!(!files[0].exists());
    assert!(files[1].exists());
    for (i, cid) in cids.iter().enumerate() {
        let expected = i >= first_count && (i - first_count) % 2 == 1;
        assert_eq!(store.has(cid).unwrap(), expected, "block {i}");
        if expected {
            assert_eq!(
                store.get(cid).unwrap().unwrap(),
                block(i as u64, 256 << 10).1
            );
        }
    }
    let stats = store.stats().unwrap();
    assert!(
        stats.disk_bytes < 25 * (256 << 10) + (4 << 20),
        "20 blocks left, on disk {}",
        stats.disk_bytes
    );
}

#[test]
fn reads_racing_removals_and_re_adds_never_see_wrong_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let blocks: Vec<_> = (0..8).map(|i| block(i, 64 << 10)).collect();
    for (cid, data) in &blocks {
        store.put(cid, data).unwrap();
    }
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for round in 0..150 {
                let (cid, data) = &blocks[round % blocks.len()];
                store.remove(cid).unwrap();
                let mut writer = store.cache_writer().unwrap();
                writer.put(cid, data).unwrap();
                writer.finish().unwrap();
            }
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut reads = 0u64;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            for (cid, data) in &blocks {
                if let Some(got) = store.get(cid).unwrap() {
                    assert!(got == *data, "wrong bytes for {cid}");
                    reads += 1;
                }
            }
        }
        assert!(reads > 0);
    });
}

/// One segment: its number, (bytes of the blocks that point into it, end of the last of them)
/// from BLOCK_FILES, and (length, referenced bytes) as SEGMENTS records them.
type SegmentAccount = (u32, (u64, u64), (u64, u64));

fn segment_accounting(store: &Blockstore) -> Vec<SegmentAccount> {
    use redb::{ReadableDatabase, ReadableTable};
    use wanda_node::store::tables::{BLOCK_FILES, BLOCK_INDEX, SEGMENTS};
    let txn = store.db().begin_read().unwrap();
    let files = txn.open_table(BLOCK_FILES).unwrap();
    let index = txn.open_table(BLOCK_INDEX).unwrap();
    let mut seen = std::collections::BTreeMap::<u32, (u64, u64)>::new();
    for row in files.iter().unwrap() {
        let (mh, location) = row.unwrap();
        let (id, offset) = location.value();
        let size = index.get(mh.value()).unwrap().unwrap().value();
        let entry = seen.entry(id).or_default();
        entry.0 += size;
        entry.1 = entry.1.max(offset + size);
    }
    let segments = txn.open_table(SEGMENTS).unwrap();
    seen.into_iter()
        .map(|(id, refs)| {
            let row = segments.get(id).unwrap().map(|g| g.value());
            (
                id,
                refs,
                row.expect("a segment blocks point into has a row"),
            )
        })
        .collect()
}

#[test]
fn concurrent_cache_and_durable_writers_keep_segment_rows_exact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.redb");
    let cached: Vec<_> = (0..600).map(|i| block(i, 40_000)).collect();
    let durable: Vec<_> = (0..600).map(|i| block(1_000 + i, 40_000)).collect();
    let small: Vec<_> = (0..600 * 30).map(|i| block(100_000 + i, 2_000)).collect();
    {
        let store = Blockstore::open(&path).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for (cid, data) in &cached {
                    let mut writer = store.cache_writer().unwrap();
                    writer.put(cid, data).unwrap();
                    writer.finish().unwrap();
                }
            });
            s.spawn(|| {
                for (i, (cid, data)) in durable.iter().enumerate() {
                    let mut writer = store.writer().unwrap();
                    writer.put(cid, data).unwrap();
                    for (cid, data) in &small[i * 30..i * 30 + 30] {
                        writer.put(cid, data).unwrap();
                    }
                    writer.finish().unwrap();
                }
            });
        });
        for (id, (referenced, last_end), (len, live)) in segment_accounting(&store) {
            assert_eq!(live, referenced, "segment {id}: referenced bytes");
            assert!(len >= last_end, "segment {id}: length {len} < {last_end}");
        }
    }
    let store = Blockstore::open(&path).unwrap();
    assert_eq!(store.recovery().lost_blocks, 0);
    for (cid, data) in cached.iter().chain(&durable).chain(&small) {
        assert_eq!(store.get(cid).unwrap().as_deref(), Some(&data[..]));
    }
}

#[test]
fn segments_are_synced_before_durable_commits_and_before_the_database_closes() {
    // Closing redb makes its non-durable commits durable: the segments must be synced first.
    // (Each nextest test is its own process, so the process-wide count is this test's.)
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.redb");
    let (cid, data) = block(7, 100_000);
    let (pinned, pinned_data) = block(8, 100_000);
    {
        let store = Blockstore::open(&path).unwrap();
        let before = segment_syncs();
        let mut writer = store.cache_writer().unwrap();
        writer.put(&cid, &data).unwrap();
        writer.finish().unwrap();
        assert_eq!(segment_syncs(), before, "a cache batch does not sync");
        store.put(&pinned, &pinned_data).unwrap();
        assert_eq!(segment_syncs(), before + 1, "a durable batch syncs");
        let mut writer = store.cache_writer().unwrap();
        writer
            .put(&block(9, 100_000).0, &block(9, 100_000).1)
            .unwrap();
        writer.finish().unwrap();
        store
            .put_pin(
                &pinned,
                &wanda_node::store::PinRecord {
                    mode: wanda_node::store::PinMode::Direct,
                    name: None,
                },
            )
            .unwrap();
        assert_eq!(
            segment_syncs(),
            before + 2,
            "any durable commit syncs first"
        );
        let mut writer = store.cache_writer().unwrap();
        writer.put(&cid, &data).unwrap();
        writer
            .put(&block(10, 100_000).0, &block(10, 100_000).1)
            .unwrap();
        writer.finish().unwrap();
        drop(store);
        assert_eq!(segment_syncs(), before + 3, "closing syncs");
    }
    let store = Blockstore::open(&path).unwrap();
    assert_eq!(store.recovery(), &Recovery::default());
    assert_eq!(store.get(&cid).unwrap().unwrap(), data);
}
