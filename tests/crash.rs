//! kill -9 during a large import leaves a repo that opens and verifies (only whole blocks).

mod cli_common;

use cli_common::{Wanda, seed_bytes};
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

#[test]
fn kill_9_during_import_leaves_only_whole_blocks() {
    let w = Wanda::init();
    for (round, kill_after_mib) in [(0u64, 40u64), (1, 90), (2, 7)] {
        let mut child = w
            .cmd()
            .args(["add", "-Q"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        for mib in 0..kill_after_mib {
            let c = seed_bytes(&format!("crash-{round}-{mib}"), 1 << 20);
            if stdin.write_all(&c).is_err() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        drop(stdin);
        let verify = w.ok(&["repo", "verify"]);
        assert!(verify.contains("verified repo integrity"), "{verify}");
        if kill_after_mib == 90 {
            // two 32 MiB batches were committed before the kill: their blocks survive, whole
            let stat = w.ok(&["repo", "stat"]);
            let objects: u64 = stat
                .lines()
                .next()
                .unwrap()
                .split_whitespace()
                .nth(1)
                .unwrap()
                .parse()
                .unwrap();
            assert!(
                objects >= 256,
                "expected the committed batches to survive: {stat}"
            );
        }
    }
    // and the repo keeps working
    let f = w.path("after");
    std::fs::write(&f, b"still fine").unwrap();
    let cid = w.ok(&["add", "-Q", f.to_str().unwrap()]).trim().to_string();
    assert_eq!(
        w.cmd().args(["cat", &cid]).output().unwrap().stdout,
        b"still fine"
    );
    w.ok(&["repo", "gc"]);
    assert!(
        w.ok(&["repo", "verify"])
            .contains("verified repo integrity")
    );
}
