//! `/wanda/pins/1.0.0` between real nodes (`net::start`) over loopback TCP: B's request returns
//! exactly A's pin set, paging walks it in order, and every failure is the clear error it should
//! be (not connected, protocol not supported, the peer's own refusal, timeout). Runs inside its
//! own network namespace with only `lo`.

use cid::Cid;
use futures::StreamExt;
use libp2p::identity::Keypair;
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{Multiaddr, PeerId, StreamProtocol, Swarm};
use multihash_codetable::{Code, MultihashDigest};
use std::time::{Duration, Instant};
use wanda_node::net::{
    MAX_PIN_PAGE, NetConfig, NodeHandle, PEER_PINS_TIMEOUT, PIN_LIST_PROTOCOL, PeerPin,
    PeerPinsError, PinListRequest, PinListResponse, start,
};
use wanda_node::store::{Blockstore, PinMode, PinRecord};
use wanda_node::test_fixtures::in_loopback_netns;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A store with `recursive` + `direct` pinned raw blocks; every third recursive pin is named.
fn store_with_pins(dir: &std::path::Path, recursive: usize, direct: usize) -> Blockstore {
    let store = Blockstore::open(&dir.join("ds.redb")).unwrap();
    let mut w = store.writer().unwrap();
    for i in 0..recursive + direct {
        let data = format!("block {i} of {dir:?}").into_bytes();
        let cid = Cid::new_v1(0x55, Code::Sha2_256.digest(&data));
        w.put(&cid, &data).unwrap();
        let record = if i < recursive {
            PinRecord {
                mode: PinMode::Recursive,
                name: (i % 3 == 0).then(|| format!("capture-{i}")),
            }
        } else {
            PinRecord {
                mode: PinMode::Direct,
                name: None,
            }
        };
        w.pin(&cid, &record).unwrap();
    }
    w.finish().unwrap();
    store
}

/// What `store` pins, in CID byte order (the order the protocol promises).
fn expected(store: &Blockstore) -> Vec<PeerPin> {
    let mut pins: Vec<PeerPin> = store
        .list_pins()
        .unwrap()
        .into_iter()
        .map(|(cid, r)| PeerPin {
            cid,
            kind: r.mode,
            name: r.name,
        })
        .collect();
    pins.sort_by_key(|p| p.cid.to_bytes());
    pins
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

/// A bare libp2p host (noise + yamux over TCP) running `behaviour` on its own task.
async fn bare<B: libp2p::swarm::NetworkBehaviour + Send>(
    behaviour: B,
    mut on_event: impl FnMut(&mut Swarm<B>, SwarmEvent<B::ToSwarm>) + Send + 'static,
) -> Multiaddr
where
    B::ToSwarm: Send,
{
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
    swarm
        .listen_on("/ip4/127.0.0.1/tcp/0".parse().unwrap())
        .unwrap();
    let addr = loop {
        if let SwarmEvent::NewListenAddr { address, .. } = swarm.select_next_some().await {
            break address;
        }
    };
    let addr = addr.with(libp2p::multiaddr::Protocol::P2p(*swarm.local_peer_id()));
    tokio::spawn(async move {
        loop {
            let ev = swarm.select_next_some().await;
            on_event(&mut swarm, ev);
        }
    });
    addr
}

#[test]
fn a_peer_returns_exactly_its_pins_page_by_page() {
    if !in_loopback_netns("a_peer_returns_exactly_its_pins_page_by_page") {
        return;
    }
    runtime().block_on(async {
        let dir_a = tempfile::tempdir().unwrap();
        let dir_b = tempfile::tempdir().unwrap();
        let store_a = store_with_pins(dir_a.path(), 20, 5);
        let store_b = store_with_pins(dir_b.path(), 3, 0);
        let want = expected(&store_a);
        assert_eq!(want.len(), 25);
        let (a, a_addr) = node(store_a).await;
        let (b, _) = node(store_b).await;

        // not connected yet: a clear error, and no dial
        let err = b.peer_pins(a.peer_id(), None, 10).await.unwrap_err();
        assert_eq!(err, PeerPinsError::NotConnected(a.peer_id()));
        assert!(err.to_string().contains("not connected"), "{err}");
        assert!(b.peers().await.unwrap().is_empty(), "the request dialled");

        assert_eq!(b.connect(a_addr).await.unwrap(), a.peer_id());

        // one page holds everything
        let all = b.peer_pins(a.peer_id(), None, MAX_PIN_PAGE).await.unwrap();
        assert_eq!(all.pins, want, "B sees exactly A's pins, kinds and names");
        assert_eq!(all.next, None);
        assert_eq!(
            all.pins
                .iter()
                .filter(|p| p.kind == PinMode::Direct)
                .count(),
            5
        );
        assert_eq!(all.pins.iter().filter(|p| p.name.is_some()).count(), 7);

        // pages of 7: 7 + 7 + 7 + 4, in order, each cursor the last CID of its page
        let mut walked = Vec::new();
        let mut sizes = Vec::new();
        let mut after = None;
        loop {
            let page = b.peer_pins(a.peer_id(), after, 7).await.unwrap();
            sizes.push(page.pins.len());
            if let Some(next) = page.next {
                assert_eq!(Some(next), page.pins.last().map(|p| p.cid));
            }
            walked.extend(page.pins);
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(sizes, [7, 7, 7, 4]);
        assert_eq!(walked, want);

        // a cursor in the middle, a cursor at the end, a page size over the cap
        let rest = b
            .peer_pins(a.peer_id(), Some(want[9].cid), 100)
            .await
            .unwrap();
        assert_eq!(rest.pins, want[10..]);
        let none = b
            .peer_pins(a.peer_id(), Some(want[24].cid), 100)
            .await
            .unwrap();
        assert!(none.pins.is_empty() && none.next.is_none());
        let capped = b.peer_pins(a.peer_id(), None, 1_000_000).await.unwrap();
        assert_eq!(capped.pins.len(), 25);
        let zero = b.peer_pins(a.peer_id(), None, 0).await.unwrap_err();
        assert!(matches!(zero, PeerPinsError::InvalidRequest(_)), "{zero}");

        // and the other way round
        let from_b = a.peer_pins(b.peer_id(), None, 100).await.unwrap();
        assert_eq!(from_b.pins.len(), 3);

        // a peer we never met
        let stranger = PeerId::random();
        assert_eq!(
            b.peer_pins(stranger, None, 10).await.unwrap_err(),
            PeerPinsError::NotConnected(stranger)
        );
        a.shutdown().await.unwrap();
        b.shutdown().await.unwrap();
    });
}

#[test]
fn peers_that_cannot_answer_give_clear_errors() {
    if !in_loopback_netns("peers_that_cannot_answer_give_clear_errors") {
        return;
    }
    runtime().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let (b, _) = node(store_with_pins(dir.path(), 1, 0)).await;

        // a libp2p host that speaks only ping
        let ping_only = bare(libp2p::ping::Behaviour::default(), |_, _| {}).await;
        let ping_peer = b.connect(ping_only).await.unwrap();
        let err = b.peer_pins(ping_peer, None, 10).await.unwrap_err();
        assert_eq!(err, PeerPinsError::Unsupported(ping_peer));
        assert!(err.to_string().contains(PIN_LIST_PROTOCOL), "{err}");

        // a host that speaks the protocol: refuses the first request, ignores the second
        type Rr = request_response::cbor::Behaviour<PinListRequest, PinListResponse>;
        let rr = Rr::new(
            [(
                StreamProtocol::new(PIN_LIST_PROTOCOL),
                ProtocolSupport::Full,
            )],
            request_response::Config::default().with_request_timeout(Duration::from_secs(120)),
        );
        let mut seen = 0;
        let mut held = Vec::new();
        let scripted = bare(rr, move |swarm: &mut Swarm<Rr>, ev| {
            if let SwarmEvent::Behaviour(request_response::Event::Message {
                message: request_response::Message::Request { channel, .. },
                ..
            }) = ev
            {
                seen += 1;
                if seen == 1 {
                    let reason = "pin store is being repaired".to_string();
                    let _ = swarm
                        .behaviour_mut()
                        .send_response(channel, PinListResponse::Error { reason });
                } else {
                    held.push(channel); // never answered
                }
            }
        })
        .await;
        let peer = b.connect(scripted).await.unwrap();
        let err = b.peer_pins(peer, None, 10).await.unwrap_err();
        assert_eq!(
            err,
            PeerPinsError::Refused(peer, "pin store is being repaired".into())
        );
        let t0 = Instant::now();
        let err = b.peer_pins(peer, None, 10).await.unwrap_err();
        assert_eq!(err, PeerPinsError::Timeout(peer, PEER_PINS_TIMEOUT));
        let waited = t0.elapsed();
        assert!(
            waited >= PEER_PINS_TIMEOUT && waited < PEER_PINS_TIMEOUT + Duration::from_secs(3),
            "{waited:?}"
        );
        b.shutdown().await.unwrap();
    });
}
