//! Hostile peers against a real node (`net::start`: identify, ping, Kademlia, gossipsub,
//! Bitswap) over loopback TCP, inside a network namespace with only `lo`.
//!
//! Flooders, built here from the node's own Bitswap codec, open streams to the node and write
//! 4 MiB Bitswap messages on each as fast as it reads them: ~100 000 wants of identity CIDs,
//! random want-haves and a want-block for a block the node holds. A flooder that is cut off
//! tries the same identity again, then comes back as a new peer (a fresh key costs nothing),
//! so the flood lasts the whole run. A third flooder stays under the per-message limits (4000
//! want-haves, cancelling the previous message's) and is never cut off: fairness has to cope.
//! Meanwhile an honest peer fetches a 10 MiB file again and again.
//!
//! Everything runs in this process, so the RSS measured is the node's *plus* the flooders'
//! and the honest peers': the bound holds for all of them together. So does the CPU: on the
//! 2 shared cores the flooders' own work slows the honest peer too, and other tests may run
//! meanwhile. Hence the honest fetch time is compared as the median of the fetches during the
//! flood against the median of ten without (five before it, five after), and no single fetch
//! may take over [`STALL`].
//!
//! `WANDA_FLOOD_SECS` sets how long the flood lasts (default 20).

use bytes::Bytes;
use cid::Cid;
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::DeniedUpgrade;
use libp2p::identity::Keypair;
use libp2p::swarm::handler::{ConnectionEvent, FullyNegotiatedOutbound};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
    NetworkBehaviour, SubstreamProtocol, SwarmEvent, THandler, THandlerInEvent, THandlerOutEvent,
    ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use multihash_codetable::{Code, MultihashDigest};
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use wanda_node::bitswap::message::{Message, WantEntry, WantType, Wantlist};
use wanda_node::bitswap::protocol::{BitswapUpgrade, write_frame_parts};
use wanda_node::bitswap::{MAX_MESSAGE_SIZE, Version};
use wanda_node::net::{NetConfig, NetworkBlocks, NodeHandle, start};
use wanda_node::store::Blockstore;
use wanda_node::test_fixtures::in_loopback_netns;
use wanda_node::unixfs::{AddEvent, AddOptions, FileReader, Importer, StoreSink};

/// Extra RSS allowed during the flood over what the process had before it (node, flooders
/// and honest peers together).
const RSS_BOUND_MIB: u64 = 150;
/// Longest a `NodeHandle` call through the node's event loop may take during the flood.
const RESPONSIVE: Duration = Duration::from_secs(1);
/// Longest any single honest fetch may take during the flood (without the limits, fetches did
/// not finish at all; with them the slowest of hundreds took 50-200 ms, depending on what else
/// ran on the machine).
const STALL: Duration = Duration::from_secs(1);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn median(times: &[Duration]) -> Duration {
    let mut t = times.to_vec();
    t.sort();
    t[t.len() / 2]
}

fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib / 1024
}

fn pseudo_random(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn random_cid(n: u64) -> Cid {
    Cid::new_v1(0x55, Code::Sha2_256.digest(&n.to_le_bytes()))
}

fn identity_cid(n: u64) -> Cid {
    let mh = cid::multihash::Multihash::<64>::wrap(0, &n.to_le_bytes()).unwrap();
    Cid::new_v1(0x55, mh)
}

fn want(cid: Cid, want_type: WantType, cancel: bool) -> WantEntry {
    WantEntry {
        cid,
        priority: 1,
        cancel,
        want_type,
        send_dont_have: !cancel,
    }
}

fn frame(entries: Vec<WantEntry>) -> Arc<Vec<Bytes>> {
    let msg = Message {
        wantlist: Some(Wantlist {
            entries,
            full: false,
        }),
        ..Message::default()
    };
    let parts = msg.encode_frame_parts(Version::V1_2_0);
    let len: usize = parts.iter().map(Bytes::len).sum();
    assert!(len <= MAX_MESSAGE_SIZE + 4, "frame of {len} bytes");
    Arc::new(parts)
}

/// A message just under 4 MiB: `identity_share` of its entries want identity CIDs, the rest are
/// random want-haves, and one wants the held block `held`.
fn big_flood(seed: u64, identity_share: f64, held: Cid) -> Arc<Vec<Bytes>> {
    let mut entries = vec![want(held, WantType::Block, false)];
    let mut size = 0;
    let mut n = seed << 32;
    // ~22 bytes per identity entry, ~46 per sha2-256 one
    while size < MAX_MESSAGE_SIZE - 4096 {
        n += 1;
        if (n % 100) as f64 / 100.0 < identity_share {
            entries.push(want(identity_cid(n), WantType::Have, false));
            size += 22;
        } else {
            entries.push(want(random_cid(n), WantType::Have, false));
            size += 46;
        }
    }
    frame(entries)
}

/// Messages under every per-message limit: each cancels the previous one's 2000 want-haves
/// and wants 2000 new ones (cycling through `sets`).
fn legal_flood(sets: u64) -> Vec<Arc<Vec<Bytes>>> {
    let set = |s: u64| (0..2000).map(move |i| random_cid((1 << 40) + s * 10_000 + i));
    (0..sets)
        .map(|s| {
            let prev = (s + sets - 1) % sets;
            let entries = set(prev)
                .map(|c| want(c, WantType::Have, true))
                .chain(set(s).map(|c| want(c, WantType::Have, false)))
                .collect();
            frame(entries)
        })
        .collect()
}

/// A libp2p behaviour that opens `streams` Bitswap streams on every connection and writes the
/// given frames on each, in turn, as fast as the remote reads them.
struct Flood {
    frames: Arc<Vec<Arc<Vec<Bytes>>>>,
    streams: usize,
    written: Arc<AtomicU64>,
}

impl NetworkBehaviour for Flood {
    type ConnectionHandler = FloodHandler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler())
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        e: THandlerOutEvent<Self>,
    ) {
        match e {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

impl Flood {
    fn handler(&self) -> FloodHandler {
        FloodHandler {
            frames: self.frames.clone(),
            streams: self.streams,
            open: 0,
            writers: FuturesUnordered::new(),
            written: self.written.clone(),
        }
    }
}

struct FloodHandler {
    frames: Arc<Vec<Arc<Vec<Bytes>>>>,
    streams: usize,
    open: usize,
    writers: FuturesUnordered<BoxFuture<'static, ()>>,
    written: Arc<AtomicU64>,
}

impl ConnectionHandler for FloodHandler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = DeniedUpgrade;
    type OutboundProtocol = BitswapUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<DeniedUpgrade, ()> {
        SubstreamProtocol::new(DeniedUpgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        true
    }

    fn on_behaviour_event(&mut self, e: Infallible) {
        match e {}
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<'_, DeniedUpgrade, BitswapUpgrade, (), ()>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: (mut stream, _),
                ..
            }) => {
                let (frames, written) = (self.frames.clone(), self.written.clone());
                self.writers.push(
                    async move {
                        for frame in frames.iter().cycle() {
                            if write_frame_parts(&mut stream, frame.to_vec())
                                .await
                                .is_err()
                            {
                                return;
                            }
                            written.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    .boxed(),
                );
            }
            ConnectionEvent::DialUpgradeError(_) => self.open -= 1,
            _ => {}
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<BitswapUpgrade, (), Infallible>> {
        while let Poll::Ready(Some(())) = self.writers.poll_next_unpin(cx) {
            self.open -= 1;
        }
        if self.open < self.streams {
            self.open += 1;
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                protocol: SubstreamProtocol::new(BitswapUpgrade, ()),
            });
        }
        Poll::Pending
    }
}

/// A cut-off flooder comes back as a new identity this soon. New identities cost nothing, but
/// a stream of new connections is a connection-rate problem (the node's connection limits),
/// not a Bitswap one: this keeps the Bitswap flood going all along (~50 new identities a
/// second per flooder) without turning it into a pure handshake flood.
const REJOIN: Duration = Duration::from_millis(20);

/// What happened to one flooding identity.
#[derive(Debug)]
enum Outcome {
    /// Cut off this long after its connection was established; `redial_refused` says whether
    /// the same identity failed to stay connected when it dialled again at once.
    CutOff {
        after: Duration,
        redial_refused: bool,
    },
    /// Still connected, this long, when the flood ended.
    Ended(Duration),
    /// Could not connect at all.
    NoConnection,
}

/// Floods `victim` until `until`: one identity after another, each reported in `outcomes`.
async fn flooder(
    victim: Multiaddr,
    frames: Vec<Arc<Vec<Bytes>>>,
    streams: usize,
    until: Instant,
    written: Arc<AtomicU64>,
    outcomes: mpsc::UnboundedSender<Outcome>,
) {
    let frames = Arc::new(frames);
    while Instant::now() < until {
        let behaviour = Flood {
            frames: frames.clone(),
            streams,
            written: written.clone(),
        };
        let mut swarm = libp2p::SwarmBuilder::with_new_identity()
            .with_tokio()
            .with_tcp(
                libp2p::tcp::Config::default(),
                libp2p::noise::Config::new,
                libp2p::yamux::Config::default,
            )
            .unwrap()
            .with_behaviour(|_| behaviour)
            .unwrap()
            .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(60)))
            .build();
        swarm.dial(victim.clone()).unwrap();
        let mut established = None;
        let run = async {
            established = loop {
                match swarm.select_next_some().await {
                    SwarmEvent::ConnectionEstablished { .. } => break Some(Instant::now()),
                    SwarmEvent::OutgoingConnectionError { .. } => return Outcome::NoConnection,
                    _ => {}
                }
            };
            loop {
                if let SwarmEvent::ConnectionClosed { .. } = swarm.select_next_some().await {
                    break;
                }
            }
            let after = established.map(|t| t.elapsed()).unwrap_or_default();
            // the same identity again, at once: refused (or dropped within a moment)
            swarm.dial(victim.clone()).unwrap();
            let stayed = tokio::time::timeout(Duration::from_secs(3), async {
                loop {
                    match swarm.select_next_some().await {
                        SwarmEvent::ConnectionEstablished { .. } => break,
                        SwarmEvent::OutgoingConnectionError { .. } => return false,
                        _ => {}
                    }
                }
                tokio::time::timeout(Duration::from_secs(2), async {
                    loop {
                        if let SwarmEvent::ConnectionClosed { .. } = swarm.select_next_some().await
                        {
                            return;
                        }
                    }
                })
                .await
                .is_err()
            })
            .await
            .unwrap_or(false);
            Outcome::CutOff {
                after,
                redial_refused: !stayed,
            }
        };
        let result = tokio::time::timeout_at(until.into(), run).await;
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(_) => match established {
                Some(t) => Outcome::Ended(t.elapsed()),
                None => Outcome::NoConnection,
            },
        };
        let _ = outcomes.send(outcome);
        tokio::time::sleep(REJOIN).await;
    }
}

async fn node(store: Blockstore) -> (NodeHandle, Multiaddr) {
    let (node, _task) = start(Keypair::generate_ed25519(), NetConfig::loopback(), store)
        .await
        .unwrap();
    let addr = node.listen_addrs().await.unwrap()[0]
        .clone()
        .with(libp2p::multiaddr::Protocol::P2p(node.peer_id()));
    (node, addr)
}

/// A new honest peer connects to `victim` and reads the whole file `root` through Bitswap;
/// returns how long the read took (connecting not included, but bounded too).
async fn honest_fetch(victim: &Multiaddr, root: Cid, content: &Arc<Vec<u8>>) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let (honest, _) = node(store.clone()).await;
    tokio::time::timeout(Duration::from_secs(10), honest.connect(victim.clone()))
        .await
        .expect("the node did not accept a connection within 10 s")
        .unwrap();
    let src = NetworkBlocks::new(
        store,
        honest.clone(),
        tokio::runtime::Handle::current(),
        Duration::from_secs(60),
    );
    let t0 = Instant::now();
    let expected = content.clone();
    let read = tokio::task::spawn_blocking(move || {
        let mut out = Vec::with_capacity(expected.len());
        FileReader::open(&src, root)
            .unwrap()
            .copy_range(0, None, &mut out)
            .unwrap();
        assert!(out == *expected, "fetched file differs");
    });
    tokio::time::timeout(Duration::from_secs(90), read)
        .await
        .expect("the honest fetch did not finish within 90 s")
        .unwrap();
    let took = t0.elapsed();
    honest.shutdown().await.unwrap();
    took
}

#[test]
fn a_bitswap_flood_neither_starves_honest_peers_nor_the_node() {
    if !in_loopback_netns("a_bitswap_flood_neither_starves_honest_peers_nor_the_node") {
        return;
    }
    let flood_secs: u64 = std::env::var("WANDA_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    runtime().block_on(async move {
        // the node, holding a 10 MiB file
        let dir = tempfile::tempdir().unwrap();
        let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
        let content = Arc::new(pseudo_random(10 << 20, 0x9e37_79b9_7f4a_7c15));
        let root = {
            let mut sink = StoreSink::new(&store).unwrap();
            let mut ev = |_: AddEvent<'_>| {};
            let cid = Importer::new(AddOptions::default(), &mut sink, &mut ev)
                .unwrap()
                .add_stream(&content[..], None)
                .unwrap();
            sink.finish(None).unwrap();
            cid
        };
        let (victim, addr) = node(store).await;

        // without a flood: the honest peer's time (five fetches now, five after the flood)
        let mut quiet = Vec::new();
        for _ in 0..5 {
            quiet.push(honest_fetch(&addr, root, &content).await);
        }
        let before = quiet.clone();
        let baseline_before = median(&quiet);
        let frames_big = [big_flood(1, 0.5, root), big_flood(2, 0.0, root)];
        let frames_legal = legal_flood(8);
        let rss_before = rss_mib();

        // the flood: two flooders of 4 MiB messages on four streams each, one under the limits
        let until = Instant::now() + Duration::from_secs(flood_secs);
        let (big_written, legal_written) =
            (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (out_tx, mut outcomes) = mpsc::unbounded_channel();
        let (legal_tx, mut legal_outcomes) = mpsc::unbounded_channel();
        let mut flooders = Vec::new();
        for frame in &frames_big {
            let f = flooder(
                addr.clone(),
                vec![frame.clone()],
                4,
                until,
                big_written.clone(),
                out_tx.clone(),
            );
            flooders.push(tokio::spawn(f));
        }
        let f = flooder(
            addr.clone(),
            frames_legal,
            4,
            until,
            legal_written.clone(),
            legal_tx,
        );
        flooders.push(tokio::spawn(f));
        drop(out_tx);

        // memory, sampled every 50 ms on a thread of its own
        let sampling = Arc::new(AtomicBool::new(true));
        let sampler = {
            let sampling = sampling.clone();
            std::thread::spawn(move || {
                let mut peak = 0;
                while sampling.load(Ordering::Relaxed) {
                    peak = peak.max(rss_mib());
                    std::thread::sleep(Duration::from_millis(50));
                }
                peak
            })
        };
        // the node's event loop, asked every 200 ms
        let prober = {
            let victim = victim.clone();
            tokio::spawn(async move {
                let mut worst = Duration::ZERO;
                while Instant::now() < until {
                    let t0 = Instant::now();
                    let answered = tokio::time::timeout(Duration::from_secs(30), victim.peers())
                        .await
                        .is_ok();
                    worst = worst.max(t0.elapsed());
                    assert!(answered, "the node's event loop did not answer within 30 s");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                worst
            })
        };

        // honest fetches, one after another, for the whole flood
        tokio::time::sleep(Duration::from_secs(1)).await;
        let mut during = Vec::new();
        while Instant::now() + baseline_before * 2 < until {
            during.push(honest_fetch(&addr, root, &content).await);
        }
        let worst_call = prober.await.unwrap();
        for f in flooders {
            f.await.unwrap();
        }
        sampling.store(false, Ordering::Relaxed);
        let rss_peak = sampler.join().unwrap();

        let mut cut_offs = Vec::new();
        let (mut refused, mut ended, mut unconnected) = (0, Vec::new(), 0);
        while let Some(o) = outcomes.recv().await {
            match o {
                Outcome::CutOff {
                    after,
                    redial_refused,
                } => {
                    cut_offs.push(after);
                    refused += usize::from(redial_refused);
                }
                Outcome::Ended(connected) => ended.push(connected),
                Outcome::NoConnection => unconnected += 1,
            }
        }
        let legal: Vec<Outcome> = std::iter::from_fn(|| legal_outcomes.try_recv().ok()).collect();
        cut_offs.sort();
        during.sort();
        // after the flood: the node serves as before at once, and still stops when asked
        let mut after = Vec::new();
        for _ in 0..5 {
            after.push(honest_fetch(&addr, root, &content).await);
        }
        quiet.extend(&after);
        // other tests may share the machine: the baseline is the median of all ten
        let baseline = median(&quiet);
        let t0 = Instant::now();
        tokio::time::timeout(Duration::from_secs(10), victim.shutdown())
            .await
            .expect("the node did not shut down within 10 s after the flood")
            .unwrap();
        let shutdown = t0.elapsed();

        let typical = median(&during);
        let p90 = during[during.len() * 9 / 10];
        let slowest = *during.last().unwrap();
        let legal_frames = legal_written.load(Ordering::Relaxed);
        println!(
            "flood of {flood_secs} s: {} honest fetches took {:?} min, {typical:?} median, {p90:?} \
             p90, {slowest:?} max (baseline {baseline:?}: before {before:?}, after {after:?}); \
             slowest event loop call {worst_call:?}; RSS peak {rss_peak} MiB (+{} MiB over {rss_before}); \
             {} flooding identities cut off after {:?} min, {:?} median, {:?} max, {refused} \
             refused when they came back at once, {ended:?} still connected at the end, \
             {unconnected} not connected; {} 4 MiB frames written in full; the legal-size \
             flooder {legal:?} with {legal_frames} messages of 4000 entries; shutdown took \
             {shutdown:?}",
            during.len(),
            during[0],
            rss_peak.saturating_sub(rss_before),
            cut_offs.len(),
            cut_offs.first(),
            cut_offs.get(cut_offs.len() / 2),
            cut_offs.last(),
            big_written.load(Ordering::Relaxed),
        );
        assert!(
            typical <= baseline * 2,
            "honest fetches took {typical:?} (median) during the flood, over twice the \
             {baseline:?} they take without"
        );
        assert!(slowest <= STALL, "an honest fetch stalled: {slowest:?}");
        assert!(
            worst_call <= RESPONSIVE,
            "the node's event loop took {worst_call:?} to answer during the flood"
        );
        assert!(
            rss_peak <= rss_before + RSS_BOUND_MIB,
            "RSS rose from {rss_before} to {rss_peak} MiB during the flood"
        );
        assert!(cut_offs.len() >= 2, "no flooding peer was cut off");
        assert!(
            *cut_offs.last().unwrap() <= Duration::from_secs(1),
            "a flooder took {:?} to be cut off",
            cut_offs.last()
        );
        assert!(
            ended.iter().all(|t| *t <= Duration::from_secs(1)),
            "a flooder was still connected at the end: {ended:?}"
        );
        assert_eq!(
            refused,
            cut_offs.len(),
            "a flooder came straight back after being cut off"
        );
        // the legal-size flooder is slowed to 8192 entries a second (+ a burst of 8192)
        assert!(
            legal_frames <= (8192 * flood_secs + 8192) / 4000 + 8,
            "{legal_frames} messages of 4000 entries in {flood_secs} s"
        );
        assert!(
            median(&after) <= baseline_before * 2,
            "after the flood: {after:?}"
        );
    });
}
