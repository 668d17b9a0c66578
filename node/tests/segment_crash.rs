//! Crash test in the manner of redb's: a child process writes blocks (durable imports, cache
//! batches, removals) until it is killed with SIGKILL at a random moment; the store it leaves
//! must open, hold every block whose durable write returned, and serve only intact blocks.

use cid::Cid;
use multihash_codetable::{Code, MultihashDigest};
use rand::{Rng, RngCore, SeedableRng};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wanda_node::store::Blockstore;

const DIR_VAR: &str = "WANDA_SEGMENT_CRASH_DIR";

/// Block number `n`: sizes from 0 to 600 KiB, so both redb pieces and segments are used.
fn block(n: u64) -> (Cid, Vec<u8>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(n);
    let len = match n % 4 {
        0 => rng.random_range(0..20_000),
        1 => 256 << 10,
        2 => rng.random_range(40_000..600_000),
        _ => 1 << 20,
    };
    let mut data = vec![0; len];
    rng.fill_bytes(&mut data);
    (Cid::new_v1(0x55, Code::Sha2_256.digest(&data)), data)
}

/// The child: writes forever, printing `D first last` after each durable writer returned and
/// `R n` before it removes block `n`.
#[test]
#[ignore = "the child process of killed_writers_leave_a_store_with_every_durable_block_intact"]
fn crash_child() {
    let dir = std::env::var(DIR_VAR).expect("run by the crash test");
    let store = Blockstore::open(&std::path::Path::new(&dir).join("ds.redb")).unwrap();
    let mut n: u64 = std::env::var("WANDA_SEGMENT_CRASH_START")
        .unwrap()
        .parse()
        .unwrap();
    loop {
        let first = n;
        if n.is_multiple_of(3) {
            write_blocks(store.cache_writer().unwrap(), &mut n, 20);
            // Remove a block of an earlier (maybe durable) writer; announced before, so the
            // parent never expects it.
            if first >= 5 {
                println!("R {}", first - 5);
                store.remove(&block(first - 5).0).unwrap();
            }
        } else {
            write_blocks(store.writer().unwrap(), &mut n, 10);
            println!("D {first} {}", n - 1);
        }
    }
}

/// Puts blocks `*n`, `*n + 1`, … (`count` of them) through `writer` and finishes it.
fn write_blocks(mut writer: wanda_node::store::BlockWriter, n: &mut u64, count: u64) {
    for _ in 0..count {
        let (cid, data) = block(*n);
        writer.put(&cid, &data).unwrap();
        *n += 1;
    }
    writer.finish().unwrap();
}

#[test]
fn killed_writers_leave_a_store_with_every_durable_block_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut durable: Vec<u64> = Vec::new();
    let mut removed: Vec<u64> = Vec::new();
    let mut start = 0u64;
    for round in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child", "--exact", "--ignored", "--nocapture"])
            .env(DIR_VAR, dir.path())
            .env("WANDA_SEGMENT_CRASH_START", start.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stdout).lines() {
                lines.push(line.unwrap());
            }
            lines
        });
        // Let it write a while (at least two durable writers), then kill it mid-stride.
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(rng.random_range(300..1500)));
        child.kill().unwrap();
        child.wait().unwrap();
        let lines = reader.join().unwrap();
        let mut last = start;
        for line in &lines {
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["D", first, end] => {
                    let (first, end): (u64, u64) = (first.parse().unwrap(), end.parse().unwrap());
                    durable.extend(first..=end);
                    last = last.max(end + 1);
                }
                ["R", n] => removed.push(n.parse().unwrap()),
                _ => {}
            }
        }
        assert!(
            lines.iter().any(|l| l.starts_with("D ")),
            "round {round}: the child wrote nothing durable in {:?}",
            started.elapsed()
        );

        let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
        println!("round {round}: {:?}", store.recovery());
        for &n in &durable {
            let (cid, data) = block(n);
            if removed.contains(&n) {
                continue;
            }
            assert_eq!(
                store.get(&cid).unwrap().as_deref(),
                Some(&data[..]),
                "round {round}: durable block {n} lost or damaged"
            );
        }
        // Whatever else survived (cached batches, the interrupted writer's committed batches)
        // must be intact.
        for cid in store.all_cids().unwrap() {
            let data = store.get(&cid).unwrap().unwrap();
            assert_eq!(
                Code::Sha2_256.digest(&data),
                *cid.hash(),
                "round {round}: damaged block"
            );
        }
        drop(store);
        // The next child starts past everything this one may have written.
        start = last.max(start) + 10_000;
    }
}
