//! Connection limits under a flood of fresh identities: 2,000 connection attempts, each from a
//! new peer id (cheap to make), while a protected peer (in `network.peering`) keeps using the
//! node. The node stays within its caps (established connections, per IP address), refuses or
//! trims the rest, and still serves the protected peer. In a loopback-only network namespace.

use libp2p::swarm::{SwarmEvent, dummy};
use libp2p::{Multiaddr, noise, tcp, yamux};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use wanda_node::net::{NetConfig, NodeHandle, start};
use wanda_node::store::Blockstore;
use wanda_node::test_fixtures::in_loopback_netns;

const ATTEMPTS: usize = 2_000;
const AT_ONCE: usize = 400;

async fn node(dir: &std::path::Path, cfg: NetConfig) -> (NodeHandle, Blockstore, Multiaddr) {
    std::fs::create_dir_all(dir).unwrap();
    let store = Blockstore::open(&dir.join("ds.redb")).unwrap();
    let key = libp2p::identity::Keypair::generate_ed25519();
    let (h, _task) = start(key, cfg, store.clone()).await.unwrap();
    let mut addr = h.listen_addrs().await.unwrap()[0].clone();
    addr.push(libp2p::multiaddr::Protocol::P2p(h.peer_id()));
    (h, store, addr)
}

/// One attacker: a fresh identity that connects and holds the connection for `hold`.
async fn attacker(target: Multiaddr, hold: Duration, established: Arc<AtomicUsize>) {
    let mut sw = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| dummy::Behaviour)
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
        .build();
    if sw.dial(target).is_err() {
        return;
    }
    let end = tokio::time::Instant::now() + hold;
    loop {
        tokio::select! {
            ev = futures::StreamExt::select_next_some(&mut sw) => {
                if let SwarmEvent::ConnectionEstablished { .. } = ev {
                    established.fetch_add(1, Ordering::Relaxed);
                }
            }
            _ = tokio::time::sleep_until(end) => return,
        }
    }
}

#[test]
fn fresh_identities_cannot_crowd_out_a_protected_peer() {
    if !in_loopback_netns("fresh_identities_cannot_crowd_out_a_protected_peer") {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        // the protected peer first, so the node can name it in its peering list
        let (friend, friend_store, friend_addr) =
            node(&dir.path().join("friend"), NetConfig::loopback()).await;
        let mut cfg = NetConfig::loopback();
        cfg.peering = vec![friend_addr.clone()];
        cfg.limits.max_connections = 40;
        cfg.limits.low_water = 10;
        cfg.limits.high_water = 30;
        cfg.limits.grace = Duration::from_secs(1);
        cfg.limits.max_pending = 16;
        // every attacker comes from 127.0.0.1: the per-address cap applies to loopback here
        cfg.limits.ip_limit_exempts_loopback = false;
        cfg.limits.max_connections_per_ip = 35;
        let (victim, victim_store, victim_addr) = node(&dir.path().join("victim"), cfg).await;
        // the friend is connected through the peering list
        let deadline = Instant::now() + Duration::from_secs(10);
        while !victim
            .peers()
            .await
            .unwrap()
            .iter()
            .any(|p| p.peer == friend.peer_id().to_string())
        {
            assert!(
                Instant::now() < deadline,
                "the peering peer never connected"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // something for the friend to fetch during the flood
        let blocks: Vec<cid::Cid> = (0..20u32)
            .map(|i| {
                let data = format!("block {i} of the victim").into_bytes();
                let cid = cid::Cid::new_v1(
                    0x55,
                    multihash_codetable::MultihashDigest::digest(
                        &multihash_codetable::Code::Sha2_256,
                        &data,
                    ),
                );
                victim_store.put(&cid, &data).unwrap();
                cid
            })
            .collect();

        let established = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicU32::new(0));
        let sampler = {
            let (victim, peak) = (victim.clone(), peak.clone());
            tokio::spawn(async move {
                loop {
                    if let Ok(s) = victim.stats().await {
                        peak.fetch_max(s.connections, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        let started = Instant::now();
        let sem = Arc::new(tokio::sync::Semaphore::new(AT_ONCE));
        let mut tasks = Vec::new();
        for _ in 0..ATTEMPTS {
            let permit = sem.clone().acquire_owned().await.unwrap();
            let (addr, est) = (victim_addr.clone(), established.clone());
            tasks.push(tokio::spawn(async move {
                attacker(addr, Duration::from_secs(4), est).await;
                drop(permit);
            }));
        }
        // meanwhile the friend drops its connection and comes back: the peering list gets it
        // in whatever the limits say
        tokio::time::sleep(Duration::from_secs(3)).await;
        friend.disconnect(victim.peer_id()).await.unwrap();
        let gone = Instant::now() + Duration::from_secs(10);
        while friend
            .peers()
            .await
            .unwrap()
            .iter()
            .any(|p| p.peer == victim.peer_id().to_string())
        {
            assert!(
                Instant::now() < gone,
                "the protected peer could not disconnect"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let t = Instant::now();
        friend
            .connect(victim_addr.clone())
            .await
            .expect("the protected peer could not reconnect during the flood");
        println!(
            "the protected peer reconnected in {:.1?} during the flood",
            t.elapsed()
        );
        // and keeps fetching from the victim
        let mut fetched = 0;
        for cid in &blocks {
            let got = tokio::time::timeout(
                Duration::from_secs(10),
                friend.fetch_block(*cid, Duration::from_secs(10)),
            )
            .await
            .expect("the protected peer's fetch timed out")
            .expect("the protected peer could not fetch");
            assert!(!got.is_empty());
            fetched += 1;
        }
        for t in tasks {
            let _ = t.await;
        }
        let flood = started.elapsed();
        sampler.abort();
        let stats = victim.stats().await.unwrap();
        let peak = peak.load(Ordering::Relaxed);
        println!(
            "{ATTEMPTS} fresh identities in {flood:.1?}: {} connections established by attackers, \
             peak {peak} at the victim (cap 40 + the protected peer), {} refused, {} trimmed; \
             the protected peer fetched {fetched} blocks meanwhile",
            established.load(Ordering::Relaxed),
            stats.connections_refused,
            stats.connections_trimmed,
        );
        assert!(
            peak <= 41,
            "the node held {peak} connections (cap 40 + 1 protected)"
        );
        assert!(
            stats.connections_refused > 0,
            "nothing was refused: {stats:?}"
        );
        assert!(
            victim
                .peers()
                .await
                .unwrap()
                .iter()
                .any(|p| p.peer == friend.peer_id().to_string()),
            "the protected peer was disconnected"
        );
        // and it is still served after the flood
        let last = blocks[0];
        friend_store.remove(&last).unwrap();
        let got = friend
            .fetch_block(last, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(got, b"block 0 of the victim");
    });
}
