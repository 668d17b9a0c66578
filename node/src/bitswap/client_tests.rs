//! Unit tests of the client's want manager (no network).

use super::client::{Action, Client, REASK, SLOW_PEER};
use super::message::{Presence, WantType};
use cid::Cid;
use libp2p::PeerId;
use multihash_codetable::{Code, MultihashDigest};
use std::time::Instant;
use tokio::sync::oneshot;

fn cid(n: u8) -> Cid {
    Cid::new_v1(0x55, Code::Sha2_256.digest(&[n]))
}

fn sends(c: &mut Client) -> Vec<(PeerId, WantType, bool)> {
    c.take_actions()
        .into_iter()
        .filter_map(|a| match a {
            Action::Send(p, e) => Some((p, e.want_type, e.cancel)),
            Action::NeedProviders(_) => None,
        })
        .collect()
}

#[test]
fn have_leads_to_want_block_and_disconnect_moves_it() {
    let (p1, p2) = (PeerId::random(), PeerId::random());
    let mut c = Client::default();
    let now = Instant::now();
    let (tx, mut rx) = oneshot::channel();
    c.want(cid(1), tx, &[p1, p2], now);
    let mut s = sends(&mut c);
    s.sort_by_key(|x| x.0);
    assert_eq!(s.len(), 2);
    assert!(s.iter().all(|x| x.1 == WantType::Have && !x.2));
    c.presence(p1, cid(1), Presence::Have, now);
    c.presence(p2, cid(1), Presence::Have, now);
    assert_eq!(sends(&mut c), [(p1, WantType::Block, false)]);
    c.peer_removed(&p1, now);
    assert_eq!(sends(&mut c), [(p2, WantType::Block, false)]);
    c.complete(&cid(1), Some(p2), &bytes::Bytes::from_static(b"x"), now);
    assert_eq!(&rx.try_recv().unwrap().unwrap()[..], b"x");
    assert!(sends(&mut c).is_empty(), "no one else to cancel");
}

#[test]
fn all_dont_have_asks_for_providers_once_and_new_peers_are_asked() {
    let (p1, p2) = (PeerId::random(), PeerId::random());
    let mut c = Client::default();
    let now = Instant::now();
    let (tx, _rx) = oneshot::channel();
    c.want(cid(2), tx, &[p1], now);
    c.take_actions();
    c.presence(p1, cid(2), Presence::DontHave, now);
    assert_eq!(c.take_actions(), [Action::NeedProviders(cid(2))]);
    c.presence(p1, cid(2), Presence::DontHave, now);
    assert!(c.take_actions().is_empty());
    c.peer_added(p2);
    assert_eq!(sends(&mut c), [(p2, WantType::Have, false)]);
}

#[test]
fn slow_want_block_is_duplicated_and_abandoned_wants_are_cancelled() {
    let (p1, p2) = (PeerId::random(), PeerId::random());
    let mut c = Client::default();
    let now = Instant::now();
    let (tx, rx) = oneshot::channel();
    c.want(cid(3), tx, &[p1, p2], now);
    c.take_actions();
    c.presence(p1, cid(3), Presence::Have, now);
    c.presence(p2, cid(3), Presence::Have, now);
    assert_eq!(sends(&mut c), [(p1, WantType::Block, false)]);
    c.tick(now);
    assert!(sends(&mut c).is_empty());
    c.tick(now + SLOW_PEER);
    assert_eq!(sends(&mut c), [(p2, WantType::Block, false)]);
    drop(rx);
    c.tick(now + SLOW_PEER);
    let mut s = sends(&mut c);
    s.sort_by_key(|x| x.0);
    assert_eq!(s.len(), 2);
    assert!(s.iter().all(|x| x.2), "cancels to both peers");
    assert_eq!(c.wanted(), 0);
}

#[test]
fn a_peer_that_delivered_gets_direct_want_blocks() {
    let (p1, p2) = (PeerId::random(), PeerId::random());
    let mut c = Client::default();
    let now = Instant::now();
    let (tx, _rx) = oneshot::channel();
    c.want(cid(4), tx, &[p1, p2], now);
    c.take_actions();
    c.complete(&cid(4), Some(p2), &bytes::Bytes::from_static(b"y"), now);
    c.take_actions();
    let (tx, _rx) = oneshot::channel();
    c.want(cid(5), tx, &[p1, p2], now);
    let mut s = sends(&mut c);
    s.sort_by_key(|x| x.1 == WantType::Have);
    assert_eq!(
        s,
        [(p2, WantType::Block, false), (p1, WantType::Have, false)]
    );
}

#[test]
fn a_lone_silent_peer_is_asked_again_after_reask_not_before() {
    let p = PeerId::random();
    let mut c = Client::default();
    let t0 = Instant::now();
    let (tx, _rx) = oneshot::channel();
    c.want(cid(9), tx, &[p], t0);
    c.take_actions();
    c.presence(p, cid(9), Presence::Have, t0);
    assert_eq!(sends(&mut c), [(p, WantType::Block, false)]);
    // slow, but nobody else has it: nothing yet
    c.tick(t0 + SLOW_PEER);
    assert!(sends(&mut c).is_empty());
    c.tick(t0 + REASK - std::time::Duration::from_millis(1));
    assert!(sends(&mut c).is_empty());
    // the block never came (its stream was lost): ask again, then again only after REASK more
    c.tick(t0 + REASK);
    assert_eq!(sends(&mut c), [(p, WantType::Block, false)]);
    c.tick(t0 + REASK + SLOW_PEER);
    assert!(sends(&mut c).is_empty());
    c.tick(t0 + REASK + REASK);
    assert_eq!(sends(&mut c), [(p, WantType::Block, false)]);
}

#[test]
fn a_peer_still_delivering_other_blocks_is_not_reasked() {
    // a slow link: the peer works through many wants; each waits long, but blocks keep coming
    let p = PeerId::random();
    let mut c = Client::default();
    let t0 = Instant::now();
    let (tx, _rx) = oneshot::channel();
    c.want(cid(20), tx, &[p], t0);
    let (tx2, _rx2) = oneshot::channel();
    c.want(cid(21), tx2, &[p], t0);
    c.take_actions();
    c.presence(p, cid(20), Presence::Have, t0);
    c.presence(p, cid(21), Presence::Have, t0);
    c.take_actions();
    let late = t0 + REASK - std::time::Duration::from_secs(1);
    c.complete(&cid(21), Some(p), &bytes::Bytes::from_static(b"z"), late);
    c.take_actions();
    c.tick(t0 + REASK);
    assert!(
        sends(&mut c).is_empty(),
        "it delivered 1 s ago: not re-asked"
    );
    // then silence for REASK: asked again
    c.tick(late + REASK);
    assert_eq!(sends(&mut c), [(p, WantType::Block, false)]);
}
