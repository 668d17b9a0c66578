//! Content moves between two daemons over Bitswap: `cat` on B fetches what only A has.

mod cli_common;

use cli_common::{Daemon, in_loopback_netns, seed_bytes, write};
use std::path::Path;
use std::process::Output;

/// Daemon A serving `files` (added before it starts, CIDs in order) and an empty daemon B
/// connected to it.
fn a_serving_b(files: &[(&str, &[u8])]) -> (Daemon, Daemon, Vec<String>) {
    let a_repo = cli_common::Wanda::init();
    let cids = files
        .iter()
        .map(|(name, data)| {
            let file = a_repo.path(name);
            write(&file, data);
            a_repo
                .ok(&["add", "-Q", file.to_str().unwrap()])
                .trim()
                .to_string()
        })
        .collect();
    let a = Daemon::start_existing(a_repo, &[]);
    let b = Daemon::start(&[]);
    b.w.ok(&["swarm", "connect", &a.addr()]);
    (a, b, cids)
}

/// `wanda --repo REPO ARGS` with no daemon in the way.
fn offline(repo: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wanda"))
        .arg("--repo")
        .arg(repo)
        .args(args)
        .output()
        .unwrap()
}

/// kill -9 of `d`, then `repo verify` (which re-hashes every stored block) passes offline.
fn kill_9_then_verify(d: &mut Daemon) {
    d.child.kill().unwrap(); // SIGKILL
    d.child.wait().unwrap();
    let verify = offline(&d.w.repo, &["repo", "verify"]);
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("verified repo integrity"),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn cat_fetches_missing_blocks_from_a_connected_peer() {
    if !in_loopback_netns("cat_fetches_missing_blocks_from_a_connected_peer") {
        return;
    }
    // A holds a 10 MiB file (added before its daemon starts); B has nothing.
    let data = seed_bytes("bitswap-10mib", 10 << 20);
    let (a, mut b, cids) = a_serving_b(&[("m42.jpg", &data)]);
    let cid = &cids[0];
    let out = b.w.cmd().args(["cat", cid]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == data, "bytes differ");
    // a range through the daemon too
    let part =
        b.w.cmd()
            .args(["cat", cid, "-o", "5000000", "-l", "7"])
            .output()
            .unwrap();
    assert_eq!(part.stdout, &data[5_000_000..5_000_007]);
    // missing content: a clear error, not a hang (B asks A, A says DONT_HAVE, DHT has nothing)
    let missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    let started = std::time::Instant::now();
    let err =
        b.w.cmd()
            .args(["cat", "--timeout", "3s", missing])
            .output()
            .unwrap();
    assert!(!err.status.success());
    let msg = String::from_utf8_lossy(&err.stderr);
    assert!(msg.contains("timed out fetching"), "{msg}");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let b_repo = b.w.repo.clone();
    let pid = b.child.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(b.child.wait().unwrap().success(), "B stops cleanly");
    // B cached what it fetched: readable offline now
    let back = offline(&b_repo, &["cat", cid]);
    assert!(
        back.stdout == data,
        "offline cat after stop: {}",
        String::from_utf8_lossy(&back.stderr)
    );
    assert!(a.stop());
}

/// Fetched blocks are cached without an fsync of their own; the commit that pins them makes them
/// durable. After a kill -9: the repo verifies, what was pinned is complete offline.
#[test]
fn kill_9_after_fetch_keeps_pinned_content_whole() {
    if !in_loopback_netns("kill_9_after_fetch_keeps_pinned_content_whole") {
        return;
    }
    let cached = seed_bytes("bitswap-cached", 6 << 20);
    let pinned = seed_bytes("bitswap-pinned", 9 << 20);
    let (a, mut b, cids) = a_serving_b(&[("cached.jpg", &cached), ("pinned.jpg", &pinned)]);
    // only cached (read through), then fetched and pinned
    let out = b.w.cmd().args(["cat", &cids[0]]).output().unwrap();
    assert!(out.stdout == cached, "cat through B");
    b.w.ok(&["pin", "add", &cids[1]]);
    kill_9_then_verify(&mut b);
    let pins = offline(&b.w.repo, &["pin", "ls", "--type", "recursive"]);
    assert!(
        String::from_utf8_lossy(&pins.stdout).contains(&cids[1]),
        "pin ls after kill -9: {}{}",
        String::from_utf8_lossy(&pins.stdout),
        String::from_utf8_lossy(&pins.stderr)
    );
    let back = offline(&b.w.repo, &["cat", &cids[1]]);
    assert!(
        back.stdout == pinned,
        "pinned content after kill -9: {}",
        String::from_utf8_lossy(&back.stderr)
    );
    assert!(a.stop());
}

/// A fetch that nothing pins, then kill -9: the cached blocks may be rolled back, but only as
/// whole blocks — the repo verifies and the file reads back byte-identical or not at all.
#[test]
fn kill_9_after_an_unpinned_fetch_leaves_whole_blocks_or_none() {
    if !in_loopback_netns("kill_9_after_an_unpinned_fetch_leaves_whole_blocks_or_none") {
        return;
    }
    let data = seed_bytes("bitswap-unpinned", 12 << 20);
    let (a, mut b, cids) = a_serving_b(&[("m31.jpg", &data)]);
    let out = b.w.cmd().args(["cat", &cids[0]]).output().unwrap();
    assert!(out.stdout == data, "cat through B");
    // whatever survived is whole (verify re-hashes every stored block)
    kill_9_then_verify(&mut b);
    let back = offline(&b.w.repo, &["cat", &cids[0]]);
    if back.status.success() {
        assert!(back.stdout == data, "a cached file came back different");
    } else {
        let msg = String::from_utf8_lossy(&back.stderr);
        assert!(msg.contains("not found"), "{msg}");
    }
    assert!(a.stop());
}
