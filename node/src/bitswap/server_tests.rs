//! Unit tests of the server's limits, on a behaviour driven by hand (no network): messages go
//! in through `on_message`, what the behaviour would send comes out of `poll`.

use super::*;
use crate::bitswap::inbound::InboundMessage;
use crate::bitswap::message::{Presence, Skipped, WantType, Wantlist};
use futures::task::noop_waker_ref;
use libp2p::swarm::CloseConnection;
use multihash_codetable::{Code, MultihashDigest};

fn cid(n: u32) -> Cid {
    Cid::new_v1(0x55, Code::Sha2_256.digest(&n.to_le_bytes()))
}

fn identity_cid(n: u32) -> Cid {
    let mh = cid::multihash::Multihash::<64>::wrap(0, &n.to_le_bytes()).unwrap();
    Cid::new_v1(0x55, mh)
}

fn message(cids: impl IntoIterator<Item = Cid>, want_type: WantType) -> InboundMessage {
    InboundMessage {
        wantlist: Some(Wantlist {
            entries: cids
                .into_iter()
                .map(|cid| WantEntry {
                    cid,
                    priority: 1,
                    cancel: false,
                    want_type,
                    send_dont_have: true,
                })
                .collect(),
            full: false,
        }),
        blocks: Vec::new(),
        presences: Vec::new(),
        skipped: Skipped::default(),
    }
}

struct Setup {
    b: Behaviour,
    peer: PeerId,
    store: Blockstore,
    _dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let mut b = Behaviour::new(store.clone());
    let peer = PeerId::random();
    b.connection_established(peer, ConnectionId::new_unchecked(1));
    Setup {
        b,
        peer,
        store,
        _dir: dir,
    }
}

/// Polls until `done` holds for what was sent to the handler so far (or 10 s pass).
async fn poll_until(
    b: &mut Behaviour,
    peer: PeerId,
    mut done: impl FnMut(&[Message]) -> bool,
) -> Vec<Message> {
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut sent = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done(&sent) {
        assert!(Instant::now() < deadline, "nothing more was sent: {sent:?}");
        while let Poll::Ready(ev) = b.poll(&mut cx) {
            if let ToSwarm::NotifyHandler {
                event: HandlerIn::Send { msg, block_bytes },
                ..
            } = ev
            {
                // what the handler reports once it wrote the message
                b.on_connection_handler_event(
                    peer,
                    ConnectionId::new_unchecked(1),
                    HandlerOut::Sent { block_bytes },
                );
                sent.push(msg);
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    sent
}

fn presences(sent: &[Message]) -> Vec<(Cid, Presence)> {
    sent.iter()
        .flat_map(|m| m.presences.iter().map(|p| (p.cid, p.presence)))
        .collect()
}

#[tokio::test]
async fn identity_cid_wants_are_refused_and_three_messages_cut_the_peer_off() {
    let Setup {
        mut b,
        peer,
        _dir: _keep,
        ..
    } = setup();
    let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
    // one identity CID among ordinary wants: the whole wantlist is refused
    b.on_message(peer, message([cid(1), identity_cid(2)], WantType::Have));
    let s = b.stats();
    assert_eq!(
        (s.messages_refused, s.entries_refused, s.strikes),
        (1, 2, 1)
    );
    assert_eq!(s.ledgers[&peer], 0);
    // ordinary wants are still taken
    b.on_message(peer, message([cid(1)], WantType::Have));
    assert_eq!(b.stats().ledgers[&peer], 1);
    assert!(b.events.is_empty());

    b.on_message(peer, message([identity_cid(3)], WantType::Block));
    assert!(b.events.is_empty(), "two strikes are not enough");
    b.on_message(peer, message([identity_cid(4)], WantType::Block));
    let events: Vec<_> = b.events.drain(..).collect();
    assert!(
        matches!(&events[..], [
            ToSwarm::GenerateEvent(BitswapEvent::PeerPenalised { peer: p, reason }),
            ToSwarm::CloseConnection { peer_id, connection: CloseConnection::All },
        ] if *p == peer && *peer_id == peer && reason.contains("identity")),
        "{events:?}"
    );
    let s = b.stats();
    assert_eq!((s.peers_penalised, s.penalised_now), (1, 1));
    assert_eq!(s.ledgers[&peer], 0, "its wants are dropped");

    // it cannot come back, in or out; others can
    let conn = ConnectionId::new_unchecked(2);
    assert!(
        b.handle_established_inbound_connection(conn, peer, &addr, &addr)
            .is_err()
    );
    assert!(
        b.handle_pending_outbound_connection(conn, Some(peer), &[], Endpoint::Dialer)
            .is_err()
    );
    let other = PeerId::random();
    assert!(
        b.handle_established_inbound_connection(conn, other, &addr, &addr)
            .is_ok()
    );
    assert_eq!(b.stats().connections_denied, 2);
    // what it still manages to send is ignored
    b.on_message(peer, message([cid(9)], WantType::Have));
    assert_eq!(b.stats().ledgers[&peer], 0);
}

#[tokio::test]
async fn bad_frames_and_oversized_messages_are_strikes() {
    let Setup {
        mut b,
        peer,
        _dir: _keep,
        ..
    } = setup();
    let over = InboundMessage {
        skipped: Skipped {
            wants_over_cap: 4097,
            ..Skipped::default()
        },
        ..message([], WantType::Have)
    };
    b.on_message(peer, over);
    let s = b.stats();
    assert_eq!(
        (s.messages_refused, s.entries_refused, s.strikes),
        (1, 4097, 1)
    );
    b.on_connection_handler_event(
        peer,
        ConnectionId::new_unchecked(1),
        HandlerOut::BadFrame("truncated field".into()),
    );
    // a timed-out frame is counted, not a strike (slow links are not attacks)
    b.on_connection_handler_event(
        peer,
        ConnectionId::new_unchecked(1),
        HandlerOut::FrameTimedOut("late".into()),
    );
    let s = b.stats();
    assert_eq!((s.bad_frames, s.frame_timeouts, s.strikes), (1, 1, 2));
    assert!(b.events.is_empty());
    b.on_connection_handler_event(
        peer,
        ConnectionId::new_unchecked(1),
        HandlerOut::BadFrame("frame of 5000000 bytes".into()),
    );
    assert!(matches!(
        b.events.front(),
        Some(ToSwarm::GenerateEvent(BitswapEvent::PeerPenalised { .. }))
    ));
}

#[tokio::test]
async fn long_cids_dropped_while_decoding_are_counted() {
    let Setup {
        mut b,
        peer,
        _dir: _keep,
        ..
    } = setup();
    let msg = InboundMessage {
        skipped: Skipped {
            long_cids: 3,
            ..Skipped::default()
        },
        ..message([cid(1)], WantType::Have)
    };
    b.on_message(peer, msg);
    let s = b.stats();
    assert_eq!((s.entries_refused, s.strikes, s.ledgers[&peer]), (3, 0, 1));
}

#[tokio::test]
async fn lookups_per_message_and_queued_entries_are_capped_exactly() {
    let Setup {
        mut b,
        peer,
        store,
        _dir: _keep,
    } = setup();
    let held = b"held".to_vec();
    let held_cid = Cid::new_v1(0x55, Code::Sha2_256.digest(&held));
    store.put(&held_cid, &held).unwrap();

    // 257 new wants in one message: 256 looked up (exactly the cap), one dropped
    let first = std::iter::once(held_cid).chain((1..=256).map(cid));
    b.on_message(peer, message(first, WantType::Have));
    assert_eq!(b.stats().entries_refused, 1);
    assert_eq!(b.stats().ledgers[&peer], 256);
    let sent = poll_until(&mut b, peer, |s| presences(s).len() == 256).await;
    let answers = presences(&sent);
    assert_eq!(answers[0], (held_cid, Presence::Have));
    assert!(answers[1..].iter().all(|(_, p)| *p == Presence::DontHave));
    assert_eq!(b.stats().lookups, 256);
    // answered HAVEs are done with; the 255 missing blocks stay remembered
    assert_eq!(b.stats().ledgers[&peer], 255);

    // more messages fill the ledger up to exactly 1024 remembered wants
    for m in 0..3u32 {
        let cids = (0..256).map(|n| cid(1000 + m * 256 + n));
        b.on_message(peer, message(cids, WantType::Block));
    }
    b.on_message(peer, message([cid(5000)], WantType::Block));
    assert_eq!(b.stats().ledgers[&peer], 1024);
    assert_eq!(b.stats().entries_refused, 1);
    // one past it: dropped, unanswered
    b.on_message(peer, message([cid(5001)], WantType::Have));
    assert_eq!(b.stats().ledgers[&peer], 1024);
    assert_eq!(b.stats().entries_refused, 2);
    let sent = poll_until(&mut b, peer, |s| presences(s).len() == 769).await;
    assert!(!presences(&sent).iter().any(|(c, _)| *c == cid(5001)));
    assert_eq!(b.stats().lookups, 256 + 769);
}

#[tokio::test]
async fn held_blocks_are_read_off_the_swarm_task_and_sent() {
    let Setup {
        mut b,
        peer,
        store,
        _dir: _keep,
    } = setup();
    let blocks: Vec<(Cid, Vec<u8>)> = (0..3u8)
        .map(|n| {
            let data = vec![n; 100_000];
            (Cid::new_v1(0x55, Code::Sha2_256.digest(&data)), data)
        })
        .collect();
    for (c, d) in &blocks {
        store.put(c, d).unwrap();
    }
    b.on_message(
        peer,
        message(blocks.iter().map(|(c, _)| *c), WantType::Block),
    );
    let sent = poll_until(&mut b, peer, |s| {
        s.iter().map(|m| m.payload.len()).sum::<usize>() == 3
    })
    .await;
    let got: Vec<&[u8]> = sent
        .iter()
        .flat_map(|m| m.payload.iter().map(|p| &p.data[..]))
        .collect();
    assert_eq!(got, blocks.iter().map(|(_, d)| &d[..]).collect::<Vec<_>>());
    let s = b.stats();
    assert_eq!((s.blocks_sent, s.bytes_sent), (3, 300_000));
    assert_eq!(s.ledgers[&peer], 0);
}
