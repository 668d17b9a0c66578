//! The daemon online: Kubo-style startup, RPC, peers, pub/sub between two nodes, graceful stop.
//! Each test runs inside its own network namespace with only `lo`.

mod cli_common;

use cli_common::{Daemon, in_loopback_netns};
use std::io::{BufRead, BufReader};
use std::time::Duration;

#[test]
fn daemon_announces_itself_and_stops_gracefully() {
    if !in_loopback_netns("daemon_announces_itself_and_stops_gracefully") {
        return;
    }
    let mut d = Daemon::start(&[]);
    let mut lines = BufReader::new(d.child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line == "Daemon is ready";
        seen.push(line);
        if done {
            break;
        }
    }
    assert!(
        seen.iter()
            .any(|l| l.starts_with("Swarm listening on /ip4/127.0.0.1/tcp/"))
    );
    assert!(
        seen.iter()
            .any(|l| l.starts_with("RPC API server listening on /ip4/127.0.0.1/tcp/"))
    );
    let api = std::fs::read_to_string(d.w.repo.join("api")).unwrap();
    assert!(
        seen.iter().any(|l| l.ends_with(api.trim())),
        "api file matches the printed address"
    );
    let id: serde_json::Value = serde_json::from_str(&d.w.ok(&["id"])).unwrap();
    assert!(id["ID"].as_str().unwrap().starts_with("12D3KooW"));
    assert_eq!(id["AgentVersion"], "wanda/0.1.0");
    assert!(
        id["Protocols"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "/ipfs/kad/1.0.0")
    );
    // while the daemon runs, commands that need the repo itself get the lock error naming its
    // pid (repo commands with an RPC equivalent go through the daemon: tests/rpc_*.rs)
    d.w.fails(
        &["repo", "verify"],
        &format!("locked by pid {}", d.child.id()),
    );
    // unreachable address → clear error, non-zero exit
    d.w.fails(
        &[
            "swarm",
            "connect",
            "/ip4/127.0.0.1/tcp/1/p2p/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d",
        ],
        "dial failed",
    );
    d.w.fails(
        &["swarm", "connect", "not-a-multiaddr"],
        "invalid multiaddr",
    );
    let repo = d.w.repo.clone();
    assert!(d.stop(), "daemon exits 0 on SIGTERM");
    assert!(!repo.join("api").exists(), "api file removed on shutdown");
}

#[test]
fn two_daemons_connect_and_exchange_pubsub_messages() {
    if !in_loopback_netns("two_daemons_connect_and_exchange_pubsub_messages") {
        return;
    }
    let a = Daemon::start(&[]);
    let b = Daemon::start(&[]);
    let out = b.w.ok(&["swarm", "connect", &a.addr()]);
    assert!(out.contains("success"), "{out}");
    let a_id = a.addr().rsplit('/').next().unwrap().to_string();
    assert!(b.w.ok(&["swarm", "peers"]).contains(&a_id));
    // A subscribes; B waits until it sees A on the topic, then publishes (on a topic of its
    // own: the announcement topic takes only signed announcements, tests/hostile_peers.rs)
    let sub =
        a.w.cmd()
            .args(["pubsub", "sub", "/first-light", "--count", "1"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !b.w.ok(&["pubsub", "peers", "/first-light"]).contains(&a_id) {
        assert!(
            std::time::Instant::now() < deadline,
            "B never saw A's subscription"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(a.w.ok(&["pubsub", "ls"]).contains("/first-light"));
    b.w.ok(&["pubsub", "pub", "/first-light", "first light"]);
    let got = sub.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&got.stdout).trim(), "first light");
    assert!(a.stop() && b.stop());
}

#[test]
fn online_commands_without_a_daemon_say_so() {
    let w = cli_common::Wanda::init();
    w.fails(&["swarm", "peers"], "wanda daemon");
    w.fails(&["pubsub", "ls"], "wanda daemon");
    let id: serde_json::Value = serde_json::from_str(&w.ok(&["id"])).unwrap();
    assert!(id["ID"].as_str().unwrap().starts_with("12D3KooW"));
}
