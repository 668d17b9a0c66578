//! Content moves between two daemons over Bitswap: `cat` on B fetches what only A has.

mod cli_common;

use cli_common::{Daemon, in_loopback_netns, seed_bytes, write};

#[test]
fn cat_fetches_missing_blocks_from_a_connected_peer() {
    if !in_loopback_netns("cat_fetches_missing_blocks_from_a_connected_peer") {
        return;
    }
    // A holds a 10 MiB file (added before its daemon starts); B has nothing.
    let data = seed_bytes("bitswap-10mib", 10 << 20);
    let a_repo = cli_common::Wanda::init();
    let file = a_repo.path("m42.jpg");
    write(&file, &data);
    let cid = a_repo
        .ok(&["add", "-Q", file.to_str().unwrap()])
        .trim()
        .to_string();
    let a = Daemon::start_existing(a_repo, &[]);
    let mut b = Daemon::start(&[]);
    b.w.ok(&["swarm", "connect", &a.addr()]);
    let out = b.w.cmd().args(["cat", &cid]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == data, "bytes differ");
    // a range through the daemon too
    let part =
        b.w.cmd()
            .args(["cat", &cid, "-o", "5000000", "-l", "7"])
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
    let offline = std::process::Command::new(env!("CARGO_BIN_EXE_wanda"))
        .args(["--repo", b_repo.to_str().unwrap(), "cat", &cid])
        .output()
        .unwrap();
    assert!(
        offline.stdout == data,
        "offline cat after stop: {}",
        String::from_utf8_lossy(&offline.stderr)
    );
    assert!(a.stop());
}
