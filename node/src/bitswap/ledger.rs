//! Server side: what each peer wants from us, and what we owe it.
//!
//! A peer's wants for blocks we lack are remembered (up to [`MAX_LEDGER_WANTS`]) so they can be
//! served when the block arrives; wants we can answer are turned into presences at once and
//! into a queue of blocks to send, which the behaviour drains under flow control.

use super::message::{BlockPresence, Presence, WantEntry, WantType, Wantlist};
use cid::Cid;
use std::collections::{HashMap, VecDeque};

/// Most remembered wants per peer; further new wants are answered but not remembered.
pub const MAX_LEDGER_WANTS: usize = 1024;

/// A remembered want for a block we do not have yet.
#[derive(Debug, Clone, Copy)]
struct Want {
    want_type: WantType,
}

/// One peer's ledger.
#[derive(Debug, Default)]
pub struct Ledger {
    wants: HashMap<Cid, Want>,
    /// Blocks we have and must send, oldest first (no duplicates).
    to_send: VecDeque<Cid>,
    /// HAVE / DONT_HAVE answers not yet sent.
    presences: Vec<BlockPresence>,
}

impl Ledger {
    /// Applies a received wantlist; `has` says whether we hold a block.
    pub fn apply(&mut self, wl: &Wantlist, mut has: impl FnMut(&Cid) -> bool) {
        if wl.full {
            self.wants.clear();
            self.to_send.clear();
        }
        for e in &wl.entries {
            if e.cancel {
                self.cancel(&e.cid);
            } else {
                self.want(e, has(&e.cid));
            }
        }
    }

    fn cancel(&mut self, cid: &Cid) {
        self.wants.remove(cid);
        self.to_send.retain(|c| c != cid);
    }

    fn want(&mut self, e: &WantEntry, have: bool) {
        match (e.want_type, have) {
            (WantType::Have, true) => self.presence(e.cid, Presence::Have),
            (WantType::Block, true) => {
                self.wants.remove(&e.cid);
                if !self.to_send.contains(&e.cid) {
                    self.to_send.push_back(e.cid);
                }
            }
            (want_type, false) => {
                if e.send_dont_have {
                    self.presence(e.cid, Presence::DontHave);
                }
                let known = self.wants.get(&e.cid).map(|w| w.want_type);
                // A want-block supersedes a want-have for the same CID, never the reverse.
                if known != Some(WantType::Block)
                    && (known.is_some() || self.wants.len() < MAX_LEDGER_WANTS)
                {
                    self.wants.insert(e.cid, Want { want_type });
                }
            }
        }
    }

    fn presence(&mut self, cid: Cid, presence: Presence) {
        self.presences.retain(|p| p.cid != cid);
        self.presences.push(BlockPresence { cid, presence });
    }

    /// A block became available: queue it or a HAVE if this peer wanted it.
    /// Returns whether anything was queued.
    pub fn block_added(&mut self, cid: &Cid) -> bool {
        match self.wants.remove(cid) {
            Some(Want {
                want_type: WantType::Block,
            }) => {
                self.to_send.push_back(*cid);
                true
            }
            Some(Want {
                want_type: WantType::Have,
            }) => {
                self.presence(*cid, Presence::Have);
                true
            }
            None => false,
        }
    }

    /// Takes the pending presences.
    pub fn take_presences(&mut self) -> Vec<BlockPresence> {
        std::mem::take(&mut self.presences)
    }

    /// Next block to send, if any.
    pub fn next_block(&mut self) -> Option<Cid> {
        self.to_send.pop_front()
    }

    /// Puts back a block taken with [`Ledger::next_block`] that did not fit in a message.
    pub fn requeue(&mut self, cid: Cid) {
        self.to_send.push_front(cid);
    }

    /// Remembered wants plus queued blocks.
    pub fn size(&self) -> usize {
        self.wants.len() + self.to_send.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use multihash_codetable::{Code, MultihashDigest};

    fn cid(n: u32) -> Cid {
        Cid::new_v1(0x55, Code::Sha2_256.digest(&n.to_le_bytes()))
    }

    fn entry(c: Cid, want_type: WantType, cancel: bool) -> WantEntry {
        WantEntry {
            cid: c,
            priority: 1,
            cancel,
            want_type,
            send_dont_have: true,
        }
    }

    fn wl(entries: Vec<WantEntry>, full: bool) -> Wantlist {
        Wantlist { entries, full }
    }

    #[test]
    fn answers_wants_and_remembers_missing_blocks() {
        let mut l = Ledger::default();
        let (a, b, c) = (cid(1), cid(2), cid(3));
        let e = vec![
            entry(a, WantType::Have, false),
            entry(b, WantType::Block, false),
            entry(c, WantType::Block, false),
        ];
        l.apply(&wl(e, false), |x| *x != c);
        let p = l.take_presences();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].cid, p[0].presence), (a, Presence::Have));
        assert_eq!((p[1].cid, p[1].presence), (c, Presence::DontHave));
        assert_eq!(l.next_block(), Some(b));
        assert_eq!(l.next_block(), None);
        assert!(l.block_added(&c));
        assert_eq!(l.next_block(), Some(c));
        assert!(!l.block_added(&c));
    }

    #[test]
    fn cancel_and_full_wantlist_replace_state() {
        let mut l = Ledger::default();
        l.apply(
            &wl(vec![entry(cid(1), WantType::Block, false)], false),
            |_| false,
        );
        l.apply(
            &wl(vec![entry(cid(1), WantType::Block, true)], false),
            |_| false,
        );
        assert!(!l.block_added(&cid(1)));
        l.apply(
            &wl(vec![entry(cid(2), WantType::Block, false)], false),
            |_| false,
        );
        l.apply(
            &wl(vec![entry(cid(3), WantType::Have, false)], true),
            |_| false,
        );
        assert!(!l.block_added(&cid(2)));
        assert!(l.block_added(&cid(3)));
    }

    #[test]
    fn ledger_is_capped() {
        let mut l = Ledger::default();
        let entries = (0..MAX_LEDGER_WANTS as u32 + 10)
            .map(|n| entry(cid(n), WantType::Block, false))
            .collect();
        l.apply(&wl(entries, false), |_| false);
        assert_eq!(l.size(), MAX_LEDGER_WANTS);
    }
}
