//! Bitswap between in-process swarms on loopback TCP (noise + yamux), each running only
//! `wanda_node::bitswap::Behaviour`.

use cid::Cid;
use futures::StreamExt;
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, Swarm};
use multihash_codetable::{Code, MultihashDigest};
use std::collections::HashSet;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wanda_node::bitswap::message::{Message, PayloadBlock};
use wanda_node::bitswap::prefix::Prefix;
use wanda_node::bitswap::{Behaviour, BitswapError, BitswapEvent, BitswapHandle, BitswapLimits};
use wanda_node::store::Blockstore;
use wanda_node::unixfs::{AddEvent, AddOptions, FileReader, Importer, StoreSink};

const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug)]
enum Ev {
    Bitswap(BitswapEvent),
    Connected(PeerId),
    Closed(PeerId),
}

enum Ctl {
    Dial(Multiaddr),
    Send(PeerId, Message),
}

struct Node {
    peer: PeerId,
    addr: Multiaddr,
    store: Blockstore,
    handle: BitswapHandle,
    events: mpsc::UnboundedReceiver<Ev>,
    ctl: mpsc::UnboundedSender<Ctl>,
    _dir: tempfile::TempDir,
}

async fn node() -> Node {
    node_with(BitswapLimits::default()).await
}

async fn node_with(limits: BitswapLimits) -> Node {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let behaviour = Behaviour::with_limits(store.clone(), limits);
    let handle = behaviour.handle();
    let mut swarm: Swarm<Behaviour> = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            libp2p::tcp::Config::default(),
            libp2p::noise::Config::new,
            libp2p::yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| behaviour)
        .unwrap()
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(30)))
        .build();
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let peer = *swarm.local_peer_id();
    let (ev_tx, events) = mpsc::unbounded_channel();
    let (ctl, mut ctl_rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                ev = swarm.select_next_some() => {
                    let out = match ev {
                        SwarmEvent::Behaviour(e) => Ev::Bitswap(e),
                        SwarmEvent::ConnectionEstablished { peer_id, .. } => Ev::Connected(peer_id),
                        SwarmEvent::ConnectionClosed { peer_id, num_established: 0, .. } => {
                            Ev::Closed(peer_id)
                        }
                        _ => continue,
                    };
                    if ev_tx.send(out).is_err() {
                        return;
                    }
                }
                cmd = ctl_rx.recv() => match cmd {
                    Some(Ctl::Dial(addr)) => swarm.dial(addr).unwrap(),
                    Some(Ctl::Send(peer, msg)) => {
                        assert!(swarm.behaviour_mut().send_message(peer, msg));
                    }
                    None => return,
                },
            }
        }
    });
    Node {
        peer,
        addr,
        store,
        handle,
        events,
        ctl,
        _dir: dir,
    }
}

/// Waits for the first event matching `f`, skipping others.
async fn expect<T>(node: &mut Node, mut f: impl FnMut(&Ev) -> Option<T>) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            let ev = node.events.recv().await.expect("swarm task ended");
            if let Some(t) = f(&ev) {
                return t;
            }
        }
    })
    .await
    .expect("expected event did not arrive")
}

async fn connect(a: &mut Node, b: &mut Node) {
    a.ctl.send(Ctl::Dial(b.addr.clone())).unwrap();
    let (pa, pb) = (a.peer, b.peer);
    expect(a, |e| {
        matches!(e, Ev::Connected(p) if *p == pb).then_some(())
    })
    .await;
    expect(b, |e| {
        matches!(e, Ev::Connected(p) if *p == pa).then_some(())
    })
    .await;
}

fn raw_block(data: &[u8]) -> Cid {
    Cid::new_v1(0x55, Code::Sha2_256.digest(data))
}

async fn need_providers(node: &mut Node, cid: Cid) {
    expect(node, |e| {
        matches!(e, Ev::Bitswap(BitswapEvent::NeedProviders { cid: c }) if *c == cid).then_some(())
    })
    .await
}

#[tokio::test]
async fn fetches_a_single_block() {
    let (mut a, mut b) = (node().await, node().await);
    let data = b"hello bitswap".to_vec();
    let cid = raw_block(&data);
    a.store.put(&cid, &data).unwrap();
    connect(&mut b, &mut a).await;
    let got = b.handle.get(cid, WAIT).await.unwrap();
    assert_eq!(got, data);
    assert!(b.store.has(&cid).unwrap());
    let from = expect(&mut b, |e| match e {
        Ev::Bitswap(BitswapEvent::BlockReceived { cid: c, from }) if *c == cid => Some(*from),
        _ => None,
    })
    .await;
    assert_eq!(from, a.peer);
    let stats = b.handle.stats().await.unwrap();
    assert_eq!(
        (stats.blocks_received, stats.bytes_received),
        (1, data.len() as u64)
    );
    assert_eq!(stats.wanted, 0);
    let sent = a.handle.stats().await.unwrap();
    assert_eq!((sent.blocks_sent, sent.bytes_sent), (1, data.len() as u64));
}

fn pseudo_random(n: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[tokio::test]
async fn fetches_a_10_mib_unixfs_dag() {
    let (mut a, mut b) = (node().await, node().await);
    let content = pseudo_random(10 << 20);
    let root = {
        let mut sink = StoreSink::new(&a.store).unwrap();
        let mut ev = |_: AddEvent<'_>| {};
        let cid = Importer::new(AddOptions::default(), &mut sink, &mut ev)
            .unwrap()
            .add_stream(&content[..], None)
            .unwrap();
        sink.finish(None).unwrap();
        cid
    };
    connect(&mut b, &mut a).await;
    let start = Instant::now();
    let mut frontier = vec![root];
    let mut seen = HashSet::new();
    let mut blocks = 0;
    while !frontier.is_empty() {
        let gets = frontier.iter().map(|c| {
            let h = b.handle.clone();
            let c = *c;
            async move { (c, h.get(c, WAIT).await) }
        });
        let mut next = Vec::new();
        for (cid, res) in futures::future::join_all(gets).await {
            let data = res.unwrap();
            blocks += 1;
            for link in wanda_node::dag_walk::block_links(&cid, &data).unwrap() {
                if seen.insert(link) {
                    next.push(link);
                }
            }
        }
        frontier = next;
    }
    let elapsed = start.elapsed();
    eprintln!("fetched 10 MiB DAG ({blocks} blocks) in {elapsed:?}");
    let mut out = Vec::new();
    FileReader::open(&b.store, root)
        .unwrap()
        .copy_range(0, None, &mut out)
        .unwrap();
    assert!(out == content, "fetched file differs");
    assert!(blocks > 40);
}

#[tokio::test]
async fn missing_block_gets_dont_have_and_is_served_when_added_later() {
    let (mut a, mut b) = (node().await, node().await);
    let data = b"arrives later".to_vec();
    let cid = raw_block(&data);
    connect(&mut b, &mut a).await;
    let h = b.handle.clone();
    let fetch = tokio::spawn(async move { h.get(cid, WAIT).await });
    // B only asks for providers once A (its only peer) answered DONT_HAVE.
    need_providers(&mut b, cid).await;
    let ledgers = a.handle.stats().await.unwrap().ledgers;
    assert_eq!(ledgers.get(&b.peer), Some(&1), "A remembers B's want");
    a.store.put(&cid, &data).unwrap();
    a.handle.block_added(cid).unwrap();
    assert_eq!(fetch.await.unwrap().unwrap(), data);
    assert_eq!(
        a.handle.stats().await.unwrap().ledgers.get(&b.peer),
        Some(&0)
    );
}

#[tokio::test]
async fn want_have_is_answered_have_when_present() {
    let (mut a, mut b) = (node().await, node().await);
    let present = b"present".to_vec();
    let cid = raw_block(&present);
    a.store.put(&cid, &present).unwrap();
    let absent = raw_block(b"absent");
    connect(&mut b, &mut a).await;
    // No NeedProviders for the present block: A said HAVE, then sent it on want-block.
    assert_eq!(b.handle.get(cid, WAIT).await.unwrap(), present);
    let h = b.handle.clone();
    let pending = tokio::spawn(async move { h.get(absent, WAIT).await });
    need_providers(&mut b, absent).await;
    pending.abort();
}

#[tokio::test]
async fn bad_blocks_are_reported_and_not_stored() {
    let (mut m, mut b) = (node().await, node().await);
    let wanted = raw_block(b"the real block");
    connect(&mut b, &mut m).await;
    let h = b.handle.clone();
    let fetch = tokio::spawn(async move { h.get(wanted, Duration::from_secs(30)).await });
    need_providers(&mut b, wanted).await;

    // 1. Garbage sent under the wanted block's prefix hashes to a CID nobody asked for.
    let garbage = b"not the real block".to_vec();
    let msg = Message {
        payload: vec![PayloadBlock {
            prefix: Prefix::of(&wanted).to_bytes(),
            data: garbage.clone().into(),
        }],
        ..Message::default()
    };
    m.ctl.send(Ctl::Send(b.peer, msg)).unwrap();
    let (peer, cid) = expect(&mut b, |e| match e {
        Ev::Bitswap(BitswapEvent::BadBlock { peer, cid, .. }) => Some((*peer, *cid)),
        _ => None,
    })
    .await;
    assert_eq!((peer, cid), (m.peer, Some(raw_block(&garbage))));
    let mp = m.peer;
    expect(&mut b, |e| {
        matches!(e, Ev::Closed(p) if *p == mp).then_some(())
    })
    .await;
    assert!(b.store.all_cids().unwrap().is_empty());

    // 2. A prefix the bytes cannot satisfy (sha2-256 with a 40-byte digest).
    connect(&mut b, &mut m).await;
    let msg = Message {
        payload: vec![PayloadBlock {
            prefix: vec![0x01, 0x55, 0x12, 40],
            data: garbage.into(),
        }],
        ..Message::default()
    };
    m.ctl.send(Ctl::Send(b.peer, msg)).unwrap();
    let (peer, cid) = expect(&mut b, |e| match e {
        Ev::Bitswap(BitswapEvent::BadBlock { peer, cid, .. }) => Some((*peer, *cid)),
        _ => None,
    })
    .await;
    assert_eq!((peer, cid), (m.peer, None));
    assert!(b.store.all_cids().unwrap().is_empty());
    fetch.abort();
}

#[tokio::test]
async fn get_times_out_in_bounded_time() {
    let (mut a, mut b) = (node().await, node().await);
    let cid = raw_block(b"nobody has this");
    // Without any peer.
    let start = Instant::now();
    let err = b
        .handle
        .get(cid, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err, BitswapError::Timeout(cid));
    // With a peer that lacks it.
    connect(&mut b, &mut a).await;
    let err = b
        .handle
        .get(cid, Duration::from_millis(500))
        .await
        .unwrap_err();
    assert_eq!(err, BitswapError::Timeout(cid));
    assert!(start.elapsed() < Duration::from_secs(3));
    // The abandoned want is dropped (and cancelled at A) on the next ticks.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(b.handle.stats().await.unwrap().wanted, 0);
    assert_eq!(
        a.handle.stats().await.unwrap().ledgers.get(&b.peer),
        Some(&0)
    );
}

#[tokio::test]
async fn three_nodes_block_only_on_c() {
    let (mut a, mut b, mut c) = (node().await, node().await, node().await);
    let data = pseudo_random(300_000);
    let cid = raw_block(&data);
    c.store.put(&cid, &data).unwrap();
    connect(&mut b, &mut a).await;
    connect(&mut b, &mut c).await;
    assert_eq!(b.handle.get(cid, WAIT).await.unwrap(), data);
    let from = expect(&mut b, |e| match e {
        Ev::Bitswap(BitswapEvent::BlockReceived { cid: x, from }) if *x == cid => Some(*from),
        _ => None,
    })
    .await;
    assert_eq!(from, c.peer);
    assert!(!a.store.has(&cid).unwrap());
}

#[tokio::test]
async fn idle_streams_are_closed_and_later_wants_use_new_ones() {
    let limits = BitswapLimits {
        stream_idle_timeout: Duration::from_millis(300),
        ..BitswapLimits::default()
    };
    let (mut a, mut b) = (node_with(limits.clone()).await, node_with(limits).await);
    let (x, y) = (b"first".to_vec(), b"after a pause".to_vec());
    let (cx, cy) = (raw_block(&x), raw_block(&y));
    a.store.put(&cx, &x).unwrap();
    a.store.put(&cy, &y).unwrap();
    connect(&mut b, &mut a).await;
    assert_eq!(b.handle.get(cx, WAIT).await.unwrap(), x);
    // both sides close their idle inbound streams; neither reuses its stale outbound one
    tokio::time::sleep(Duration::from_secs(1)).await;
    let start = Instant::now();
    assert_eq!(b.handle.get(cy, WAIT).await.unwrap(), y);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // idle streams are no offence
    assert_eq!(a.handle.stats().await.unwrap().strikes, 0);
    assert_eq!(b.handle.stats().await.unwrap().strikes, 0);
}
