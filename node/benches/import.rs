//! Throughput of the embedded IPFS core: import (only-hash and into redb), cat and CAR export.
//!
//! `cargo bench -p wanda-node --bench import` (harness = false, plain `std::time`).
//! Prints the median MB/s (1 MB = 10^6 bytes) and MiB/s of a few runs. The machine this runs on may be
//! shared and noisy: read the figures as indications, compare against Kubo side by side
//! (`benches/add_vs_kubo.sh`), and never turn them into timed unit tests.
//!
//! Environment: `WANDA_BENCH_MIB` (input size, default 256), `WANDA_BENCH_RUNS` (default 3),
//! `WANDA_BENCH_DIR` (where the temporary redb files go, default the system temp dir).

use std::hint::black_box;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use wanda_node::store::Blockstore;
use wanda_node::unixfs::{AddEvent, AddOptions, FileReader, HashOnlySink, Importer, StoreSink};

/// Deterministic incompressible bytes (xorshift64*), generated once, outside the timings.
fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut s = seed | 1;
    for word in out.chunks_mut(8) {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        let v = s.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        word.copy_from_slice(&v[..word.len()]);
    }
    out
}

/// Counts the bytes written into it and discards them.
#[derive(Default)]
struct CountingSink(u64);

impl Write for CountingSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// CPU time (user + system, all threads) of this process so far, from /proc/self/stat (Linux).
/// On a shared machine the wall-clock time includes waiting for a CPU; CPU time does not.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the ")" that ends the command name: state is field 3, utime 14, stime 15
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux configuration Rust supports
    Some(Duration::from_millis(ticks * 10))
}

/// Times `f`: (wall, CPU of the whole process during it).
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration, Option<Duration>) {
    let c0 = process_cpu();
    let t = Instant::now();
    let out = f();
    let wall = t.elapsed();
    let cpu = c0.and_then(|c0| process_cpu().map(|c1| c1.saturating_sub(c0)));
    (out, wall, cpu)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn report(name: &str, bytes: u64, times: Vec<Duration>, cpu: Vec<Option<Duration>>) {
    let cpu: Option<Vec<Duration>> = cpu.into_iter().collect();
    let runs: Vec<String> = times
        .iter()
        .map(|t| format!("{:.3}s", t.as_secs_f64()))
        .collect();
    let min = *times.iter().min().unwrap();
    let med = median(times);
    let mbs = bytes as f64 / med.as_secs_f64() / 1e6;
    let mibs = bytes as f64 / med.as_secs_f64() / (1 << 20) as f64;
    let best = bytes as f64 / min.as_secs_f64() / 1e6;
    println!(
        "{name:<28} {:>5} MiB  median {:>7.3}s  {mbs:>8.1} MB/s ({mibs:>7.1} MiB/s)  best {best:>8.1} MB/s  runs [{}]",
        bytes >> 20,
        med.as_secs_f64(),
        runs.join(", ")
    );
    if let Some(cpu) = cpu {
        let c = median(cpu);
        if !c.is_zero() {
            println!(
                "{:<28} CPU (user+sys, all threads) median {:.2}s = {:.1} MB/s of CPU time",
                "",
                c.as_secs_f64(),
                bytes as f64 / c.as_secs_f64() / 1e6
            );
        }
    }
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument (not starting with '-') selects cases.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let want = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));

    let mib = env_usize("WANDA_BENCH_MIB", 256);
    let runs = env_usize("WANDA_BENCH_RUNS", 3).max(1);
    let len = mib << 20;
    let data = random_bytes(len, 0x0005_eed0_fa11);
    let tmp_root = std::env::var_os("WANDA_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    println!(
        "wanda-node import bench: {mib} MiB random input, {runs} runs per case, median reported, \
         {} CPUs, redb in {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        tmp_root.display()
    );

    // 1. only-hash import: chunking + dag-pb encoding + SHA-256, blocks discarded.
    if want("only_hash") {
        let (mut times, mut cpus) = (Vec::new(), Vec::new());
        let mut cid0 = None;
        for _ in 0..runs {
            let (cid, wall, cpu) = timed(|| {
                let mut sink = HashOnlySink;
                let mut ev = |_: AddEvent<'_>| {};
                Importer::new(AddOptions::default(), &mut sink, &mut ev)
                    .unwrap()
                    .add_stream(&data[..], None)
                    .unwrap()
            });
            times.push(wall);
            cpus.push(cpu);
            if let Some(c) = cid0 {
                assert_eq!(c, cid, "only-hash import is deterministic");
            }
            cid0 = Some(black_box(cid));
        }
        report("only_hash (HashOnlySink)", len as u64, times, cpus);
    }

    // 2. import into redb (StoreSink: writer thread, one durable commit at the end).
    // Every run uses a fresh datastore; the last one is kept for the read benchmarks.
    let needs_store = ["import_redb", "cat", "car_export"].iter().any(|n| want(n));
    if !needs_store {
        return;
    }
    let (mut times, mut cpus) = (Vec::new(), Vec::new());
    let mut kept = None;
    for i in 0..runs {
        let dir = tempfile::Builder::new()
            .prefix("wanda-bench-")
            .tempdir_in(&tmp_root)
            .unwrap();
        let store = Blockstore::open(&dir.path().join("datastore.redb")).unwrap();
        let (cid, wall, cpu) = timed(|| {
            let mut sink = StoreSink::new(&store).unwrap();
            let mut ev = |_: AddEvent<'_>| {};
            let cid = Importer::new(AddOptions::default(), &mut sink, &mut ev)
                .unwrap()
                .add_stream(&data[..], None)
                .unwrap();
            sink.finish(None).unwrap();
            cid
        });
        times.push(wall);
        cpus.push(cpu);
        if i + 1 == runs {
            kept = Some((dir, store, cid));
        }
    }
    if want("import_redb") {
        report("import_redb (StoreSink)", len as u64, times, cpus);
    }
    let (dir, store, cid) = kept.unwrap();
    let stats = store.stats().unwrap();
    println!(
        "  datastore: {} blocks, {} block bytes, {} bytes on disk, RepoSize/BlockBytes {:.4}",
        stats.num_blocks,
        stats.block_bytes,
        stats.disk_bytes,
        stats.disk_bytes as f64 / stats.block_bytes as f64
    );

    // 3. cat: read the file back through the UnixFS reader (redb pages are likely in the page cache).
    if want("cat") {
        let (mut times, mut cpus) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let mut out = CountingSink::default();
            let (n, wall, cpu) = timed(|| {
                FileReader::open(&store, cid)
                    .unwrap()
                    .copy_range(0, None, &mut out)
                    .unwrap()
            });
            times.push(wall);
            cpus.push(cpu);
            assert_eq!(n, len as u64);
            assert_eq!(out.0, len as u64);
        }
        report("cat (FileReader, redb)", len as u64, times, cpus);

        // Content check once, outside the timings.
        let mut back = Vec::with_capacity(len);
        FileReader::open(&store, cid)
            .unwrap()
            .copy_range(0, None, &mut back)
            .unwrap();
        assert!(back == data, "cat returns the imported bytes");
    }

    // 4. CAR export of the whole DAG (throughput counted in file bytes).
    if want("car_export") {
        let (mut times, mut cpus) = (Vec::new(), Vec::new());
        let mut car_len = 0;
        for _ in 0..runs {
            let mut out = CountingSink::default();
            let ((), wall, cpu) =
                timed(|| wanda_node::dag::export_car(&store, &cid, &mut out).unwrap());
            times.push(wall);
            cpus.push(cpu);
            car_len = out.0;
        }
        report("car_export (redb)", len as u64, times, cpus);
        println!("  CAR size {car_len} bytes");
    }

    drop(store);
    drop(dir);
}
