//! A telescope asks a peer for its pin list (`/wanda/pins/1.0.0`): through
//! `GET /api/network/peers/{peer_id}/pins` (exactly the peer's pins, paged, with clear 400/502
//! errors), and by itself when a WANDA peer connects, so its replica counts follow what the peer
//! really holds though no pin receipt was ever sent (B has replication off) — also across a
//! restart of A during which B dropped one copy and took another. Two daemons in a network
//! namespace with only `lo`.

mod app_common;
mod cli_common;

use app_common::*;
use cli_common::{Daemon, Wanda, in_loopback_netns};
use serde_json::Value;

fn peer_id_of(d: &Daemon) -> String {
    d.addr().rsplit("/p2p/").next().unwrap().to_string()
}

/// The `ipfs` object of each of the session's JPEGs, once all `n` have a CID.
fn published(base: &str, folder: &str, n: usize) -> Vec<Value> {
    wait_for(&format!("{n} captures of {folder} published"), 60, || {
        let caps: Vec<Value> = captures(base, folder)
            .into_iter()
            .filter(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
            .collect();
        (caps.len() == n && caps.iter().all(|c| c["ipfs"]["cid"].is_string()))
            .then(|| caps.iter().map(|c| c["ipfs"].clone()).collect())
    })
}

fn replicas(base: &str, folder: &str, cid: &str) -> u64 {
    captures(base, folder)
        .iter()
        .find(|c| c["ipfs"]["cid"] == cid)
        .and_then(|c| c["ipfs"]["replicas"].as_u64())
        .unwrap_or_else(|| panic!("no capture {cid}"))
}

/// Every page of `peer`'s pins as `base` sees them, `limit` at a time.
fn walk(base: &str, peer: &str, limit: usize) -> (Vec<Value>, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    let mut after = String::new();
    loop {
        let url = format!("{base}/api/network/peers/{peer}/pins?limit={limit}&after={after}");
        let (s, v) = get_json(&url);
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["success"], true, "{v}");
        assert_eq!(v["data"]["peer_id"], peer, "{v}");
        let pins = v["data"]["pins"].as_array().unwrap().clone();
        assert!(pins.len() <= limit, "{v}");
        assert_eq!(v["data"]["count"], pins.len(), "{v}");
        pages += 1;
        all.extend(pins);
        match v["data"]["next"].as_str() {
            Some(n) => after = n.to_string(),
            None => return (all, pages),
        }
    }
}

/// `(cid, kind)` of every pin of a node, from its own `/api/ipfs/pins`.
fn own_pins(base: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for kind in ["recursive", "direct"] {
        let (s, v) = get_json(&format!("{base}/api/ipfs/pins?type={kind}&limit=10000"));
        assert_eq!(s, 200, "{v}");
        for p in v["data"]["pins"].as_array().unwrap() {
            out.push((p["cid"].as_str().unwrap().to_string(), kind.to_string()));
        }
    }
    out.sort();
    out
}

fn expect_error(url: &str, status: u16, code: &str, needle: &str) {
    let (s, v) = get_json(url);
    assert_eq!(s, status, "{url}: {v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["code"], code, "{v}");
    let msg = v["error"].as_str().unwrap();
    assert!(msg.contains(needle), "{url}: {msg:?} lacks {needle:?}");
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// Adds `bytes` to `base`'s node as a pinned file (`POST /api/ipfs/content`); returns its CID.
fn add_file(base: &str, bytes: &[u8]) -> String {
    let mut r = agent()
        .post(&format!("{base}/api/ipfs/content"))
        .header("Content-Type", "application/octet-stream")
        .send(bytes)
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    v["data"]["cid"].as_str().unwrap().to_string()
}

fn unpin(base: &str, cid: &str) {
    let r = agent()
        .delete(&format!("{base}/api/ipfs/pins/{cid}"))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

fn pins_of(base: &str, peer: &str) -> String {
    format!("{base}/api/network/peers/{peer}/pins")
}

#[test]
fn a_telescope_reads_a_peers_pins_and_counts_replicas_from_them() {
    if !in_loopback_netns("a_telescope_reads_a_peers_pins_and_counts_replicas_from_them") {
        return;
    }
    // B never replicates by itself, so it never sends a pin receipt: whatever A counts for B
    // comes from B's pin list
    let a = Daemon::start(&[]);
    let b = Daemon::start(&[("replication.enabled", "false")]);
    let (a_id, b_id) = (peer_id_of(&a), peer_id_of(&b));
    let (base_a, base_b) = (base_url(&a.w.repo), base_url(&b.w.repo));
    start_session(&base_a, "m42", 3);
    let caps = published(&base_a, "m42", 3);
    let cids: Vec<String> = caps
        .iter()
        .map(|c| c["cid"].as_str().unwrap().to_string())
        .collect();
    assert!(caps.iter().all(|c| c["replicas"] == 0));
    // the capture files by CID: B holds a capture when it adds the same bytes (same CID)
    let files: std::collections::HashMap<String, Vec<u8>> = captures(&base_a, "m42")
        .iter()
        .filter(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
        .map(|c| {
            let path = a.w.repo.join("captures").join(c["path"].as_str().unwrap());
            let cid = c["ipfs"]["cid"].as_str().unwrap().to_string();
            (cid, std::fs::read(path).unwrap())
        })
        .collect();
    assert_eq!(files.len(), 3);

    // B pins a copy of the first capture before it ever meets A
    assert_eq!(add_file(&base_b, &files[&cids[0]]), cids[0]);
    b.w.ok(&["swarm", "connect", &a.addr()]);
    wait_for("A counts B's copy from B's pin list", 30, || {
        (replicas(&base_a, "m42", &cids[0]) == 1).then_some(())
    });
    assert_eq!(replicas(&base_a, "m42", &cids[1]), 0);
    assert_eq!(replicas(&base_a, "m42", &cids[2]), 0);

    // A reads B's list through its API: exactly what B pins, in one page or one at a time
    let (one_page, pages) = walk(&base_a, &b_id, 1000);
    assert_eq!(pages, 1);
    let mut seen: Vec<(String, String)> = one_page
        .iter()
        .map(|p| {
            (
                p["cid"].as_str().unwrap().to_string(),
                p["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(seen, own_pins(&base_b), "A sees exactly B's pins");
    let kept = one_page
        .iter()
        .find(|p| p["cid"] == cids[0].as_str())
        .expect("B's list has the capture it pinned");
    assert_eq!(kept["kind"], "recursive");
    assert_eq!(kept["ours"], true, "A knows the CID as one of its captures");
    assert!(one_page.iter().all(|p| p["cid"] != cids[1].as_str()));
    let (paged, pages) = walk(&base_a, &b_id, 1);
    assert_eq!(
        paged, one_page,
        "pages of 1 give the same list in the same order"
    );
    assert_eq!(pages, one_page.len());

    // bad requests are 400s, a peer we cannot ask is a 502, each with its reason
    expect_error(
        &pins_of(&base_a, "not-a-peer"),
        400,
        "VALIDATION_ERROR",
        "invalid peer id `not-a-peer`",
    );
    expect_error(
        &pins_of(&base_a, &a_id),
        400,
        "VALIDATION_ERROR",
        "own peer id",
    );
    for q in ["limit=0", "limit=1001", "limit=ten"] {
        expect_error(
            &format!("{}?{q}", pins_of(&base_a, &b_id)),
            400,
            "VALIDATION_ERROR",
            "limit must be",
        );
    }
    expect_error(
        &format!("{}?after=xyz", pins_of(&base_a, &b_id)),
        400,
        "VALIDATION_ERROR",
        "after must be a CID",
    );
    let stranger = libp2p::PeerId::random().to_string();
    expect_error(
        &pins_of(&base_a, &stranger),
        502,
        "PEER_NOT_CONNECTED",
        "not connected",
    );

    // A is down while B drops the first copy and takes the second: no receipt could reach A
    // anyway. Back, A asks B again and both counts follow.
    let mut a = a;
    let w = std::mem::replace(&mut a.w, Wanda::uninit());
    drop(a);
    unpin(&base_b, &cids[0]);
    assert_eq!(add_file(&base_b, &files[&cids[1]]), cids[1]);
    let a = Daemon::start_existing(w, &[]);
    let base_a = base_url(&a.w.repo);
    b.w.ok(&["swarm", "connect", &a.addr()]);
    wait_for(
        "A, restarted, counts B's copies from B's pin list",
        30,
        || {
            (replicas(&base_a, "m42", &cids[0]) == 0 && replicas(&base_a, "m42", &cids[1]) == 1)
                .then_some(())
        },
    );
    assert_eq!(replicas(&base_a, "m42", &cids[2]), 0);

    // B goes away: asking for its pins is a 502 that says why
    drop(b);
    wait_for("A notices B is gone", 30, || {
        let (s, _) = get_json(&pins_of(&base_a, &b_id));
        (s == 502).then_some(())
    });
    expect_error(
        &pins_of(&base_a, &b_id),
        502,
        "PEER_NOT_CONNECTED",
        &format!("not connected to peer {b_id}"),
    );
}
