//! A network of telescopes (three daemons, `local` profile, C bootstraps to A, B connects to
//! A): C's session is replicated by A and B (replicas = 2) and C's PIN_STATUS counts them; with
//! C killed, A's gateway still serves every capture; B captures while C is away and C, back,
//! catches up and replicates B's captures. Prints discovery and propagation times. Runs inside
//! its own network namespace with only `lo`.

mod app_common;
mod cli_common;

use app_common::*;
use cli_common::{Daemon, Wanda, in_loopback_netns};
use serde_json::Value;
use std::time::Instant;

fn jpgs(base: &str, folder: &str) -> Vec<Value> {
    captures(base, folder)
        .into_iter()
        .filter(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
        .collect()
}

fn pinned_network_cids(base: &str) -> Vec<String> {
    let (_, v) = get_json(&format!("{base}/api/network/captures"));
    v["data"]["captures"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["pinned"] == true && c["kind"] == "jpeg")
        .map(|c| c["cid"].as_str().unwrap().to_string())
        .collect()
}

fn peer_ids(d: &Daemon) -> Vec<String> {
    let out = d.w.ok(&["swarm", "peers"]);
    out.lines()
        .filter_map(|l| l.rsplit("/p2p/").next().map(str::to_string))
        .collect()
}

#[test]
fn three_telescopes_replicate_and_catch_up() {
    if !in_loopback_netns("three_telescopes_replicate_and_catch_up") {
        return;
    }
    let a = Daemon::start(&[]);
    let a_addr = a.addr();
    let a_id = a_addr.rsplit("/p2p/").next().unwrap().to_string();
    let b = Daemon::start(&[]);
    b.w.ok(&["swarm", "connect", &a_addr]);
    let bootstrap = format!("[\"{a_addr}\"]");
    let t0 = Instant::now();
    let mut c = Daemon::start(&[
        ("network.bootstrap", bootstrap.as_str()),
        ("telescope.location", "La Plata, AR"),
    ]);
    wait_for("C connected to A through its bootstrap list", 30, || {
        peer_ids(&c).contains(&a_id).then_some(())
    });
    println!("discovery (C start → connected to A): {:?}", t0.elapsed());
    let (base_a, base_b, base_c) = (
        base_url(&a.w.repo),
        base_url(&b.w.repo),
        base_url(&c.w.repo),
    );
    // the gossipsub mesh needs a heartbeat or two
    std::thread::sleep(std::time::Duration::from_secs(2));

    let t1 = Instant::now();
    start_session(&base_c, "c-night", 5);
    let cids: Vec<String> = wait_for("C's 5 captures published", 60, || {
        let caps = jpgs(&base_c, "c-night");
        (caps.len() == 5 && caps.iter().all(|c| c["ipfs"]["cid"].is_string())).then(|| {
            caps.iter()
                .map(|c| c["ipfs"]["cid"].as_str().unwrap().to_string())
                .collect()
        })
    });
    for (name, base) in [("A", &base_a), ("B", &base_b)] {
        wait_for(&format!("{name} pins C's 5 captures"), 60, || {
            let pinned = pinned_network_cids(base);
            cids.iter().all(|c| pinned.contains(c)).then_some(())
        });
    }
    println!(
        "propagation (C session start → 5 captures pinned on A and B): {:?}",
        t1.elapsed()
    );
    wait_for("C counts 2 remote replicas of each capture", 60, || {
        jpgs(&base_c, "c-night")
            .iter()
            .all(|c| c["ipfs"]["replicas"] == 2)
            .then_some(())
    });

    // A's PEER table knows C as a telescope, where it is and how many of its images A holds
    let c_id = peer_ids(&a)
        .into_iter()
        .find(|p| p != &b.addr().rsplit("/p2p/").next().unwrap().to_string())
        .expect("A is connected to C");
    let (_, peers) = get_json(&format!("{base_a}/api/network/peers"));
    let row = peers["data"]["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["peer_id"] == c_id.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("no PEER row for C: {peers}"));
    assert_eq!(row["is_wanda_node"], true, "{row}");
    assert_eq!(row["location"], "La Plata, AR", "{row}");
    assert!(row["images_shared"].as_u64().unwrap() >= 5, "{row}");

    // C dies; A still serves everything
    let c_dir = c.w.repo.join("captures").join("c-night");
    c.child.kill().unwrap();
    c.child.wait().unwrap();
    // A has no local folder of C's session; it serves by CID below
    let mut names: Vec<String> = std::fs::read_dir(&c_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 5);
    let (_, net) = get_json(&format!("{base_a}/api/network/captures"));
    for cid in &cids {
        let (s, bytes) = get(&format!("{base_a}/ipfs/{cid}?format=raw"));
        assert_eq!(s, 200, "A serves {cid} (raw block) with C down");
        assert!(!bytes.is_empty());
        let (s, file) = get(&format!("{base_a}/ipfs/{cid}"));
        assert_eq!(s, 200, "A serves {cid} with C down");
        assert!(
            names
                .iter()
                .any(|n| std::fs::read(c_dir.join(n)).unwrap() == file),
            "A's copy of {cid} equals one of C's files"
        );
        assert!(
            net["data"]["captures"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["cid"] == cid.as_str()
                    && c["session"] == "c-night"
                    && c["pinned"] == true
                    && c["replicas"].as_u64() >= Some(1)),
            "A's network gallery lists {cid}, pinned here, with its replica count: {net}"
        );
    }

    // B captures while C is away; C comes back and catches up
    start_session(&base_b, "b-while-c-away", 2);
    let b_cids: Vec<String> = wait_for("B's 2 captures published", 60, || {
        let caps = jpgs(&base_b, "b-while-c-away");
        (caps.len() == 2 && caps.iter().all(|c| c["ipfs"]["cid"].is_string())).then(|| {
            caps.iter()
                .map(|c| c["ipfs"]["cid"].as_str().unwrap().to_string())
                .collect()
        })
    });
    wait_for("A pins B's captures", 60, || {
        let p = pinned_network_cids(&base_a);
        b_cids.iter().all(|c| p.contains(c)).then_some(())
    });
    let w = std::mem::replace(&mut c.w, Wanda::uninit());
    drop(c);
    let t2 = Instant::now();
    let c = Daemon::start_existing(w, &[]);
    let base_c = base_url(&c.w.repo);
    wait_for(
        "C, back, replicates what B captured while it was away",
        90,
        || {
            let p = pinned_network_cids(&base_c);
            b_cids.iter().all(|x| p.contains(x)).then_some(())
        },
    );
    println!(
        "catch-up (C restart → B's captures pinned on C): {:?}",
        t2.elapsed()
    );
    for cid in &b_cids {
        let (s, from_c) = get(&format!("{base_c}/ipfs/{cid}"));
        let (_, from_b) = get(&format!("{base_b}/ipfs/{cid}"));
        assert_eq!(s, 200);
        assert_eq!(from_c, from_b, "{cid}");
    }
    drop(a);
    drop(b);
}

#[test]
fn telescopes_find_each_other_through_the_dht() {
    if !in_loopback_netns("telescopes_find_each_other_through_the_dht") {
        return;
    }
    // a line A - B - C: C knows only B, B only A
    let a = Daemon::start(&[]);
    let a_addr = a.addr();
    let a_id = a_addr.rsplit("/p2p/").next().unwrap().to_string();
    let b = Daemon::start(&[("network.bootstrap", format!("[\"{a_addr}\"]").as_str())]);
    let b_addr = b.addr();
    let t0 = Instant::now();
    let c = Daemon::start(&[("network.bootstrap", format!("[\"{b_addr}\"]").as_str())]);
    wait_for(
        "C connected directly to A, found as a rendezvous provider",
        90,
        || peer_ids(&c).contains(&a_id).then_some(()),
    );
    println!(
        "discovery through the DHT rendezvous (C start → connected to A): {:?}",
        t0.elapsed()
    );
}
