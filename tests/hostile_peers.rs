//! Replication that cannot be forged or abused (docs/NETWORK.md, "Hostile peers"). Three
//! daemons in a loopback-only network namespace: V replicates, H is an honest telescope, M is a
//! peer that lies. M announces a 30 MiB DAG as 1 KB (signed by itself: accepted, but the fetch
//! stops at the declared size), then sends an announcement and a pin receipt that name H
//! (refused: they are not signed by H). Nothing forged is pinned or counted, V's store grows by
//! less than one extra block, and H's genuine capture is still replicated.

mod app_common;
mod cli_common;

use app_common::*;
use cli_common::{Daemon, in_loopback_netns, seed_bytes, write};
use serde_json::{Value, json};

fn peer_id(d: &Daemon) -> String {
    d.addr().rsplit("/p2p/").next().unwrap().to_string()
}

fn stats_limits(d: &Daemon) -> Value {
    let out = d.w.ok(&["stats", "limits"]);
    let mut v = json!({});
    for line in out.lines().skip(1) {
        if let Some((k, n)) = line.split_once(": ") {
            v[k] = json!(n.trim().parse::<u64>().unwrap_or(0));
        }
    }
    v
}

fn announcement(cid: &str, node: &str, size: u64) -> String {
    json!({"version": 1, "cid": cid, "node": node, "session": "lies", "timestamp_ms": 1,
           "size": size, "kind": "jpeg"})
    .to_string()
}

/// Whether `d` pins `cid` recursively (the Kubo RPC's `pin/ls`).
fn pinned(d: &Daemon, cid: &str) -> bool {
    d.w.ok(&["pin", "ls", "--type", "recursive"]).contains(cid)
}

fn block_bytes(base: &str) -> u64 {
    get_json(&format!("{base}/api/ipfs/stats")).1["data"]["bytes"]
        .as_u64()
        .unwrap()
}

#[test]
fn forged_and_lying_peers_get_nothing_pinned_and_honest_ones_still_do() {
    if !in_loopback_netns("forged_and_lying_peers_get_nothing_pinned_and_honest_ones_still_do") {
        return;
    }
    let v = Daemon::start(&[("replication.max_space", "200MB")]);
    let h = Daemon::start(&[("replication.enabled", "false")]);
    let m = Daemon::start(&[("replication.enabled", "false")]);
    let (v_addr, v_id, h_id, m_id) = (v.addr(), peer_id(&v), peer_id(&h), peer_id(&m));
    h.w.ok(&["swarm", "connect", &v_addr]);
    m.w.ok(&["swarm", "connect", &v_addr]);
    m.w.ok(&["swarm", "connect", &h.addr()]);
    let (base_v, base_h) = (base_url(&v.w.repo), base_url(&h.w.repo));
    for d in [&h, &m] {
        wait_for("V on the announcement topic", 30, || {
            d.w.ok(&["pubsub", "peers", "/wanda-telescope"])
                .contains(&v_id)
                .then_some(())
        });
    }

    // 1. a 30 MiB DAG announced as 1 KB, by M itself
    let big = m.w.path("big.bin");
    write(&big, &seed_bytes("thirty mebibytes", 30 << 20));
    let big_cid =
        m.w.ok(&["add", "-Q", big.to_str().unwrap()])
            .trim()
            .to_string();
    let before = block_bytes(&base_v);
    m.w.ok(&[
        "pubsub",
        "pub",
        "/wanda-telescope",
        &announcement(&big_cid, &m_id, 1000),
    ]);
    wait_for(
        "V refuses the capture that does not fit its declared size",
        60,
        || {
            let (_, s) = get_json(&format!("{base_v}/api/network/stats"));
            (s["data"]["refused_captures"].as_u64() >= Some(1)).then_some(())
        },
    );
    assert!(!pinned(&v, &big_cid), "the lying capture was pinned");
    let grew = block_bytes(&base_v) - before;
    assert!(
        grew <= 2 * 262_158,
        "V fetched {grew} bytes for a capture announced as 1000 bytes"
    );
    println!("lying size: V fetched {grew} bytes of a 30 MiB DAG announced as 1 KB, then stopped");

    // 2. H's own capture, then M's forgeries naming H: an announcement of M's big DAG and a
    //    pin receipt for V's capture
    let (s, cap) = post(&format!("{base_v}/api/camera/capture"), &json!({}));
    assert_eq!(s, 200, "{cap}");
    let v_cid = wait_for("V's capture published", 60, || {
        let (_, l) = get_json(&format!("{base_v}/api/captures"));
        l["data"]["captures"]
            .as_array()
            .unwrap()
            .iter()
            .find_map(|c| c["ipfs"]["cid"].as_str().map(str::to_string))
    });
    let forged_receipt =
        json!({"type": "pin_receipt", "version": 1, "cid": v_cid, "node": h_id}).to_string();
    let forged_announcement = announcement(&big_cid, &h_id, 31 << 20);
    let refused_before = stats_limits(&v)["PubsubRejected"].as_u64().unwrap();
    m.w.ok(&["pubsub", "pub", "/wanda-telescope", &forged_announcement]);
    m.w.ok(&["pubsub", "pub", "/wanda-telescope", &forged_receipt]);
    wait_for("V rejects the forged messages", 30, || {
        let s = stats_limits(&v);
        (s["PubsubRejected"].as_u64() > Some(refused_before)
            && s["PeersPenalised"].as_u64() >= Some(1))
        .then_some(())
    });

    // 3. an honest capture from H is replicated by V as before
    start_session(&base_h, "honest", 1);
    let h_cid = wait_for("H's capture published", 60, || {
        let caps = captures(&base_h, "honest");
        caps.iter()
            .find(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
            .and_then(|c| c["ipfs"]["cid"].as_str().map(str::to_string))
    });
    wait_for("V replicates H's genuine capture", 60, || {
        pinned(&v, &h_cid).then_some(())
    });

    // nothing forged took hold
    let (_, net) = get_json(&format!("{base_v}/api/network/captures"));
    let gallery = net["data"]["captures"].as_array().unwrap();
    assert!(
        !gallery
            .iter()
            .any(|c| c["node"] == h_id.as_str() && c["cid"] == big_cid.as_str()),
        "a forged announcement entered the gallery: {net}"
    );
    assert!(gallery.iter().any(|c| c["cid"] == h_cid.as_str()));
    assert!(!pinned(&v, &big_cid));
    let (_, mine) = get_json(&format!("{base_v}/api/captures"));
    let replicas = mine["data"]["captures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ipfs"]["cid"] == v_cid.as_str())
        .map(|c| c["ipfs"]["replicas"].clone())
        .unwrap();
    assert_eq!(replicas, json!(0), "a forged receipt was counted");
    // the budget held: the store holds H's capture and V's own, not M's 30 MiB
    assert!(block_bytes(&base_v) < 10 << 20, "{}", block_bytes(&base_v));
    assert!(v.stop() && h.stop() && m.stop());
}
