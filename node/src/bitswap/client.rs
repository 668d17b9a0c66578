//! Client side: our wants, who was asked, who answered what, and who to ask next.
//!
//! New wants go out as want-have (with send-dont-have) to every Bitswap peer, except that a
//! peer which already delivered blocks gets a direct want-block (the least loaded such peer).
//! A HAVE triggers a want-block to that peer; a slow want-block is duplicated to a second HAVE
//! peer; DONT_HAVE from everyone asked asks the node to find providers.

use super::handle::BitswapError;
use super::message::{Presence, WantEntry, WantType};
use bytes::Bytes;
use cid::Cid;
use libp2p::PeerId;
use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// After this long without the block, a want-block is also sent to another HAVE peer.
pub const SLOW_PEER: Duration = Duration::from_millis(1500);
/// After this long without the block from any peer asked for it, with no other HAVE peer to
/// try and no block at all from those peers meanwhile, the want-block goes again to them: the
/// message carrying the block may have been lost (a dropped stream), and the sender will not
/// send it again unasked. boxo re-sends its whole wantlist every 30 s for the same reason.
pub const REASK: Duration = Duration::from_secs(15);
/// How many finished or abandoned CIDs are remembered to tell late blocks from unsolicited ones.
const RECENT: usize = 4096;

/// Where the block (or an error) for one `get` goes.
pub type Waiter = oneshot::Sender<Result<Bytes, BitswapError>>;

/// Something the behaviour must do for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send a wantlist entry to a peer.
    Send(PeerId, WantEntry),
    /// Nobody connected has the block.
    NeedProviders(Cid),
}

#[derive(Default)]
struct Want {
    waiters: Vec<Waiter>,
    asked: HashSet<PeerId>,
    haves: Vec<PeerId>,
    dont_haves: HashSet<PeerId>,
    block_from: Vec<(PeerId, Instant)>,
    need_providers_sent: bool,
}

/// How a received block relates to our wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockStatus {
    /// We want it.
    Wanted,
    /// We wanted it recently (a late duplicate or a cancel race).
    Late,
    /// We never asked for it.
    Unsolicited,
}

/// The client's want manager.
#[derive(Default)]
pub struct Client {
    wants: HashMap<Cid, Want>,
    recent: VecDeque<Cid>,
    recent_set: HashSet<Cid>,
    delivered: HashMap<PeerId, u64>,
    /// When each peer last delivered a wanted block (a busy peer is not re-asked).
    last_delivery: HashMap<PeerId, Instant>,
    actions: Vec<Action>,
}

fn entry(cid: Cid, want_type: WantType, cancel: bool) -> WantEntry {
    WantEntry {
        cid,
        priority: 1,
        cancel,
        want_type,
        send_dont_have: !cancel,
    }
}

impl Client {
    /// Number of CIDs currently wanted.
    pub fn wanted(&self) -> usize {
        self.wants.len()
    }

    /// Takes the actions produced so far.
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    fn send(&mut self, peer: PeerId, e: WantEntry) {
        self.actions.push(Action::Send(peer, e));
    }

    fn outstanding_blocks(&self, peer: &PeerId) -> usize {
        let asked = |w: &Want| w.block_from.iter().any(|(p, _)| p == peer);
        self.wants.values().filter(|w| asked(w)).count()
    }

    /// Wants `cid` for `waiter`, asking `peers` (the connected Bitswap peers) if it is new.
    pub fn want(&mut self, cid: Cid, waiter: Waiter, peers: &[PeerId], now: Instant) {
        if let Some(w) = self.wants.get_mut(&cid) {
            w.waiters.push(waiter);
            return;
        }
        let preferred = peers
            .iter()
            .filter(|p| self.delivered.contains_key(p))
            .min_by_key(|p| self.outstanding_blocks(p))
            .copied();
        let mut want = Want {
            waiters: vec![waiter],
            ..Want::default()
        };
        for &peer in peers {
            want.asked.insert(peer);
            if Some(peer) == preferred {
                want.block_from.push((peer, now));
                self.send(peer, entry(cid, WantType::Block, false));
            } else {
                self.send(peer, entry(cid, WantType::Have, false));
            }
        }
        self.wants.insert(cid, want);
        self.progress(&cid, now);
    }

    /// A Bitswap peer became available: ask it for everything pending.
    pub fn peer_added(&mut self, peer: PeerId) {
        let mut sends = Vec::new();
        for (cid, w) in &mut self.wants {
            if w.asked.insert(peer) {
                w.need_providers_sent = false;
                sends.push(entry(*cid, WantType::Have, false));
            }
        }
        for e in sends {
            self.send(peer, e);
        }
    }

    /// A peer disconnected (or turned out not to speak Bitswap): move its wants elsewhere.
    pub fn peer_removed(&mut self, peer: &PeerId, now: Instant) {
        self.delivered.remove(peer);
        self.last_delivery.remove(peer);
        let mut touched = Vec::new();
        for (cid, w) in &mut self.wants {
            let had = w.asked.remove(peer);
            w.haves.retain(|p| p != peer);
            w.dont_haves.remove(peer);
            w.block_from.retain(|(p, _)| p != peer);
            if had {
                touched.push(*cid);
            }
        }
        for cid in touched {
            self.progress(&cid, now);
        }
    }

    /// A HAVE or DONT_HAVE arrived.
    pub fn presence(&mut self, peer: PeerId, cid: Cid, presence: Presence, now: Instant) {
        let Some(w) = self.wants.get_mut(&cid) else {
            return;
        };
        match presence {
            Presence::Have => {
                // A later HAVE (the peer got the block since) overrides its DONT_HAVE.
                w.dont_haves.remove(&peer);
                if !w.haves.contains(&peer) {
                    w.haves.push(peer);
                }
            }
            Presence::DontHave => {
                w.dont_haves.insert(peer);
                w.haves.retain(|p| *p != peer);
                w.block_from.retain(|(p, _)| *p != peer);
            }
        }
        self.progress(&cid, now);
    }

    /// Sends a want-block to a HAVE peer if none is outstanding, or asks for providers.
    fn progress(&mut self, cid: &Cid, now: Instant) {
        let Some(w) = self.wants.get_mut(cid) else {
            return;
        };
        if w.block_from.is_empty() {
            if let Some(&peer) = w.haves.first() {
                w.block_from.push((peer, now));
                self.send(peer, entry(*cid, WantType::Block, false));
                return;
            }
            let all_said_no = w.asked.iter().all(|p| w.dont_haves.contains(p));
            if all_said_no && !w.need_providers_sent {
                w.need_providers_sent = true;
                self.actions.push(Action::NeedProviders(*cid));
            }
        }
    }

    /// Classifies a received (hash-checked) block.
    pub fn status(&self, cid: &Cid) -> BlockStatus {
        if self.wants.contains_key(cid) {
            BlockStatus::Wanted
        } else if self.recent_set.contains(cid) {
            BlockStatus::Late
        } else {
            BlockStatus::Unsolicited
        }
    }

    fn remember(&mut self, cid: Cid) {
        if self.recent_set.insert(cid) {
            self.recent.push_back(cid);
            if self.recent.len() > RECENT
                && let Some(old) = self.recent.pop_front()
            {
                self.recent_set.remove(&old);
            }
        }
    }

    fn finish(&mut self, cid: &Cid, except: Option<PeerId>) -> Option<Want> {
        let w = self.wants.remove(cid)?;
        self.remember(*cid);
        for &peer in w.asked.iter().filter(|p| Some(**p) != except) {
            self.send(peer, entry(*cid, WantType::Block, true));
        }
        Some(w)
    }

    /// A verified, stored block arrived from `from`: completes its waiters and cancels the
    /// want at every other peer asked.
    pub fn complete(&mut self, cid: &Cid, from: Option<PeerId>, data: &Bytes, now: Instant) {
        if let Some(p) = from {
            *self.delivered.entry(p).or_default() += 1;
            self.last_delivery.insert(p, now);
        }
        if let Some(w) = self.finish(cid, from) {
            for waiter in w.waiters {
                let _ = waiter.send(Ok(data.clone()));
            }
        }
    }

    /// Fails every waiter of `cid` (e.g. the store refused the block).
    pub fn fail(&mut self, cid: &Cid, err: BitswapError) {
        if let Some(w) = self.finish(cid, None) {
            for waiter in w.waiters {
                let _ = waiter.send(Err(err.clone()));
            }
        }
    }

    /// Periodic housekeeping: drops wants nobody waits for any more (cancelling them),
    /// duplicates slow want-blocks to another HAVE peer, and asks the same peers again after
    /// [`REASK`] when there is no other.
    pub fn tick(&mut self, now: Instant) {
        let mut abandoned = Vec::new();
        let mut slow = Vec::new();
        let last_delivery = &self.last_delivery;
        for (cid, w) in &mut self.wants {
            w.waiters.retain(|tx| !tx.is_closed());
            if w.waiters.is_empty() {
                abandoned.push(*cid);
                continue;
            }
            let all_slow = w
                .block_from
                .iter()
                .all(|(_, t)| now.duration_since(*t) >= SLOW_PEER);
            if !w.block_from.is_empty() && all_slow {
                let next = w
                    .haves
                    .iter()
                    .find(|p| !w.block_from.iter().any(|(q, _)| q == *p));
                if let Some(&peer) = next {
                    w.block_from.push((peer, now));
                    slow.push((peer, *cid));
                } else if w.block_from.iter().all(|(p, t)| {
                    // asked long ago, and the peer has sent nothing since: on a slow link a
                    // peer still working through our wants keeps delivering other blocks
                    now.duration_since(*t) >= REASK
                        && last_delivery
                            .get(p)
                            .is_none_or(|d| now.duration_since(*d) >= REASK)
                }) {
                    for (peer, asked_at) in &mut w.block_from {
                        *asked_at = now;
                        slow.push((*peer, *cid));
                    }
                }
            }
        }
        for cid in abandoned {
            self.finish(&cid, None);
        }
        for (peer, cid) in slow {
            self.send(peer, entry(cid, WantType::Block, false));
        }
    }
}
