//! Server side: what each peer wants from us, and what we owe it.
//!
//! Every want the peer sends becomes one entry (at most `max_queued_entries_per_peer` per peer,
//! counted across messages) that moves through stages: it awaits a datastore lookup, which the
//! serve worker makes off the swarm task; then we either lack the block (the want is remembered
//! until the block arrives, a DONT_HAVE goes out if asked for) or hold it (a HAVE goes out, or
//! the block is queued to be read and sent). Each stage has an indexed queue, so every
//! operation is O(1) (amortised): no scan of a peer's wants ever happens.

use super::message::{BlockPresence, Presence, WantEntry, WantType};
use cid::Cid;
use std::collections::{HashMap, VecDeque};

/// Where a want is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waits for a datastore lookup.
    Pending,
    /// Handed to the serve worker for a lookup; `added` if the block was stored meanwhile.
    Looking { added: bool },
    /// We lack the block: remembered until it arrives or the peer cancels.
    Missing,
    /// We hold the block and owe it.
    ToSend,
    /// Handed to the serve worker to be read.
    Reading,
    /// Nothing left but its HAVE to send.
    Answered,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    stage: Stage,
    want_type: WantType,
    send_dont_have: bool,
    presence: Option<Presence>,
    /// Tells this entry's queue slots from those of an earlier entry for the same CID.
    seq: u64,
}

/// What [`Ledger::want`] did with a want.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// New: queued for a datastore lookup.
    Lookup,
    /// Already known: updated without a lookup.
    Known,
    /// Dropped: the peer's ledger is full.
    Full,
    /// Dropped: the message already used its lookups.
    NoLookups,
}

/// One peer's ledger.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: HashMap<Cid, Entry>,
    lookups: VecDeque<(Cid, u64)>,
    sends: VecDeque<(Cid, u64)>,
    presences: VecDeque<(Cid, u64)>,
    next_seq: u64,
}

impl Ledger {
    /// Drops every entry (a full wantlist replaces what we knew).
    pub fn clear(&mut self) {
        *self = Ledger {
            next_seq: self.next_seq,
            ..Ledger::default()
        };
    }

    /// Takes a want. A new CID needs a free entry (fewer than `cap`) and one of the message's
    /// `lookups_left`.
    pub fn want(&mut self, e: &WantEntry, cap: usize, lookups_left: &mut usize) -> Wanted {
        if let Some(entry) = self.entries.get_mut(&e.cid) {
            let block = e.want_type == WantType::Block;
            match entry.stage {
                Stage::Pending | Stage::Looking { .. } => {
                    // A want-block supersedes a want-have for the same CID, never the reverse.
                    if block {
                        entry.want_type = WantType::Block;
                    }
                    entry.send_dont_have |= e.send_dont_have;
                }
                Stage::Missing => {
                    if block {
                        entry.want_type = WantType::Block;
                    }
                    entry.send_dont_have |= e.send_dont_have;
                    if e.send_dont_have {
                        let (cid, seq) = (e.cid, entry.seq);
                        self.set_presence(cid, seq, Presence::DontHave);
                    }
                }
                Stage::ToSend | Stage::Reading => {}
                Stage::Answered => {
                    if block {
                        // we held it a moment ago: send it (a DONT_HAVE if it went since)
                        entry.want_type = WantType::Block;
                        entry.send_dont_have |= e.send_dont_have;
                        entry.stage = Stage::ToSend;
                        let slot = (e.cid, entry.seq);
                        self.sends.push_back(slot);
                    }
                }
            }
            return Wanted::Known;
        }
        if self.entries.len() >= cap {
            return Wanted::Full;
        }
        if *lookups_left == 0 {
            return Wanted::NoLookups;
        }
        *lookups_left -= 1;
        let seq = self.seq();
        self.entries.insert(
            e.cid,
            Entry {
                stage: Stage::Pending,
                want_type: e.want_type,
                send_dont_have: e.send_dont_have,
                presence: None,
                seq,
            },
        );
        self.lookups.push_back((e.cid, seq));
        self.compact();
        Wanted::Lookup
    }

    /// The peer no longer wants `cid`: forget it, whatever stage it is in (a lookup or read
    /// under way is ignored when it reports back).
    pub fn cancel(&mut self, cid: &Cid) {
        self.entries.remove(cid);
    }

    /// Up to `max` wants for the next datastore lookup, oldest first.
    pub fn next_lookups(&mut self, max: usize) -> Vec<Cid> {
        let mut out = Vec::new();
        while out.len() < max
            && let Some((cid, seq)) = self.lookups.pop_front()
        {
            if let Some(e) = self.entries.get_mut(&cid)
                && e.seq == seq
                && e.stage == Stage::Pending
            {
                e.stage = Stage::Looking { added: false };
                out.push(cid);
            }
        }
        out
    }

    /// Whether wants wait for a lookup (may be stale: then [`Ledger::next_lookups`] is empty).
    pub fn has_lookups(&self) -> bool {
        !self.lookups.is_empty()
    }

    /// The lookup of `cid` found it (`have`) or not.
    pub fn looked(&mut self, cid: &Cid, have: bool) {
        let Some(e) = self.entries.get_mut(cid) else {
            return;
        };
        let Stage::Looking { added } = e.stage else {
            return;
        };
        let seq = e.seq;
        match (have || added, e.want_type) {
            (true, WantType::Block) => {
                e.stage = Stage::ToSend;
                self.sends.push_back((*cid, seq));
            }
            (true, WantType::Have) => {
                e.stage = Stage::Answered;
                self.set_presence(*cid, seq, Presence::Have);
            }
            (false, _) => {
                e.stage = Stage::Missing;
                if e.send_dont_have {
                    self.set_presence(*cid, seq, Presence::DontHave);
                }
            }
        }
        self.compact();
    }

    /// A block became available: queue it or a HAVE if this peer waits for it.
    /// Returns whether anything was queued.
    pub fn block_added(&mut self, cid: &Cid) -> bool {
        let Some(e) = self.entries.get_mut(cid) else {
            return false;
        };
        let seq = e.seq;
        match (e.stage, e.want_type) {
            (Stage::Looking { .. }, _) => {
                // the lookup may have read the store before the block was written
                e.stage = Stage::Looking { added: true };
                false
            }
            (Stage::Missing, WantType::Block) => {
                e.stage = Stage::ToSend;
                e.presence = None;
                self.sends.push_back((*cid, seq));
                true
            }
            (Stage::Missing, WantType::Have) => {
                e.stage = Stage::Answered;
                self.set_presence(*cid, seq, Presence::Have);
                true
            }
            _ => false,
        }
    }

    /// Up to `max` blocks to read and send next, oldest first.
    pub fn next_sends(&mut self, max: usize) -> Vec<Cid> {
        let mut out = Vec::new();
        while out.len() < max
            && let Some((cid, seq)) = self.sends.pop_front()
        {
            if let Some(e) = self.entries.get_mut(&cid)
                && e.seq == seq
                && e.stage == Stage::ToSend
            {
                e.stage = Stage::Reading;
                out.push(cid);
            }
        }
        out
    }

    /// Whether blocks wait to be sent (may be stale: then [`Ledger::next_sends`] is empty).
    pub fn has_sends(&self) -> bool {
        !self.sends.is_empty()
    }

    /// A block taken with [`Ledger::next_sends`] was read: returns whether it is still owed
    /// (not cancelled meanwhile), and forgets it.
    pub fn sent(&mut self, cid: &Cid) -> bool {
        match self.entries.get(cid) {
            Some(e) if e.stage == Stage::Reading => {
                self.entries.remove(cid);
                true
            }
            _ => false,
        }
    }

    /// A block taken with [`Ledger::next_sends`] was gone when read (removed since the
    /// lookup): the want is remembered as missing, with a DONT_HAVE if asked for.
    pub fn vanished(&mut self, cid: &Cid) {
        if let Some(e) = self.entries.get_mut(cid)
            && e.stage == Stage::Reading
        {
            e.stage = Stage::Missing;
            if e.send_dont_have {
                let seq = e.seq;
                self.set_presence(*cid, seq, Presence::DontHave);
            }
        }
    }

    /// Blocks taken with [`Ledger::next_sends`] but not read go back to the front, in order.
    pub fn unread(&mut self, cids: &[Cid]) {
        for cid in cids.iter().rev() {
            if let Some(e) = self.entries.get_mut(cid)
                && e.stage == Stage::Reading
            {
                e.stage = Stage::ToSend;
                self.sends.push_front((*cid, e.seq));
            }
        }
    }

    /// Whether answers wait to be sent (may be stale).
    pub fn has_presences(&self) -> bool {
        !self.presences.is_empty()
    }

    /// Takes the pending HAVE / DONT_HAVE answers.
    pub fn take_presences(&mut self) -> Vec<BlockPresence> {
        let mut out = Vec::new();
        while let Some((cid, seq)) = self.presences.pop_front() {
            let Some(e) = self.entries.get_mut(&cid) else {
                continue;
            };
            if e.seq != seq {
                continue;
            }
            if let Some(presence) = e.presence.take() {
                out.push(BlockPresence { cid, presence });
            }
            if e.stage == Stage::Answered {
                self.entries.remove(&cid);
            }
        }
        out
    }

    /// Entries queued for this peer (remembered wants, lookups, blocks and answers owed).
    pub fn size(&self) -> usize {
        self.entries.len()
    }

    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn set_presence(&mut self, cid: Cid, seq: u64, presence: Presence) {
        if let Some(e) = self.entries.get_mut(&cid)
            && e.presence.replace(presence).is_none()
        {
            self.presences.push_back((cid, seq));
        }
    }

    /// Drops queue slots of entries that were cancelled or moved on, once they outnumber the
    /// live entries (so every queue stays O(entries), amortised O(1) per operation).
    fn compact(&mut self) {
        let limit = 2 * self.entries.len() + 64;
        let entries = &self.entries;
        let live = |stage: fn(&Entry) -> bool| {
            move |(cid, seq): &(Cid, u64)| {
                entries.get(cid).is_some_and(|e| e.seq == *seq && stage(e))
            }
        };
        if self.lookups.len() > limit {
            self.lookups.retain(live(|e| e.stage == Stage::Pending));
        }
        if self.sends.len() > limit {
            self.sends.retain(live(|e| e.stage == Stage::ToSend));
        }
        if self.presences.len() > limit {
            self.presences.retain(live(|e| e.presence.is_some()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use multihash_codetable::{Code, MultihashDigest};

    fn cid(n: u32) -> Cid {
        Cid::new_v1(0x55, Code::Sha2_256.digest(&n.to_le_bytes()))
    }

    fn entry(c: Cid, want_type: WantType) -> WantEntry {
        WantEntry {
            cid: c,
            priority: 1,
            cancel: false,
            want_type,
            send_dont_have: true,
        }
    }

    const CAP: usize = 1024;

    /// Applies wants and runs every lookup with `has`.
    fn apply(l: &mut Ledger, wants: &[WantEntry], has: impl Fn(&Cid) -> bool) {
        let mut lookups = usize::MAX;
        for e in wants {
            l.want(e, CAP, &mut lookups);
        }
        for c in l.next_lookups(usize::MAX) {
            l.looked(&c, has(&c));
        }
    }

    fn presences(l: &mut Ledger) -> Vec<(Cid, Presence)> {
        l.take_presences()
            .into_iter()
            .map(|p| (p.cid, p.presence))
            .collect()
    }

    #[test]
    fn answers_wants_and_remembers_missing_blocks() {
        let mut l = Ledger::default();
        let (a, b, c) = (cid(1), cid(2), cid(3));
        let e = [
            entry(a, WantType::Have),
            entry(b, WantType::Block),
            entry(c, WantType::Block),
        ];
        apply(&mut l, &e, |x| *x != c);
        assert_eq!(
            presences(&mut l),
            [(a, Presence::Have), (c, Presence::DontHave)]
        );
        assert_eq!(l.next_sends(10), [b]);
        assert!(l.sent(&b));
        assert_eq!(l.next_sends(10), []);
        // c is remembered: it is sent once it arrives, and only once
        assert_eq!(l.size(), 1);
        assert!(l.block_added(&c));
        assert_eq!(l.next_sends(10), [c]);
        assert!(l.sent(&c));
        assert!(!l.block_added(&c));
        assert_eq!(l.size(), 0);
    }

    #[test]
    fn cancel_and_full_wantlist_replace_state() {
        let mut l = Ledger::default();
        apply(&mut l, &[entry(cid(1), WantType::Block)], |_| false);
        l.cancel(&cid(1));
        assert!(!l.block_added(&cid(1)));
        apply(&mut l, &[entry(cid(2), WantType::Block)], |_| false);
        l.clear();
        apply(&mut l, &[entry(cid(3), WantType::Have)], |_| false);
        assert!(!l.block_added(&cid(2)));
        assert!(l.block_added(&cid(3)));
    }

    #[test]
    fn a_cancel_during_a_lookup_or_read_drops_the_result() {
        let mut l = Ledger::default();
        let mut lookups = usize::MAX;
        l.want(&entry(cid(1), WantType::Block), CAP, &mut lookups);
        assert_eq!(l.next_lookups(10), [cid(1)]);
        l.cancel(&cid(1));
        l.looked(&cid(1), true);
        assert_eq!(l.next_sends(10), []);

        apply(&mut l, &[entry(cid(2), WantType::Block)], |_| true);
        assert_eq!(l.next_sends(10), [cid(2)]);
        l.cancel(&cid(2));
        assert!(!l.sent(&cid(2)), "a cancelled block is not sent");
        assert_eq!(l.size(), 0);
    }

    #[test]
    fn a_block_stored_during_its_lookup_is_not_missed() {
        let mut l = Ledger::default();
        let mut lookups = usize::MAX;
        l.want(&entry(cid(1), WantType::Block), CAP, &mut lookups);
        assert_eq!(l.next_lookups(10), [cid(1)]);
        assert!(!l.block_added(&cid(1)));
        l.looked(&cid(1), false); // read before the write committed
        assert_eq!(l.next_sends(10), [cid(1)]);
    }

    #[test]
    fn unread_and_vanished_blocks() {
        let mut l = Ledger::default();
        let wants: Vec<_> = (0..3).map(|n| entry(cid(n), WantType::Block)).collect();
        apply(&mut l, &wants, |_| true);
        assert_eq!(l.next_sends(10), [cid(0), cid(1), cid(2)]);
        assert!(l.sent(&cid(0)));
        l.vanished(&cid(1));
        l.unread(&[cid(2)]);
        assert_eq!(presences(&mut l), [(cid(1), Presence::DontHave)]);
        assert_eq!(l.next_sends(10), [cid(2)]);
        assert!(l.block_added(&cid(1)));
    }

    #[test]
    fn want_block_after_a_have_and_repeated_wants() {
        let mut l = Ledger::default();
        apply(&mut l, &[entry(cid(1), WantType::Have)], |_| true);
        // the HAVE is still queued when the want-block comes
        apply(&mut l, &[entry(cid(1), WantType::Block)], |_| true);
        assert_eq!(l.next_sends(10), [cid(1)]);
        // a want repeated while missing needs no second lookup
        apply(&mut l, &[entry(cid(2), WantType::Have)], |_| false);
        let mut lookups = 0;
        assert_eq!(
            l.want(&entry(cid(2), WantType::Block), CAP, &mut lookups),
            Wanted::Known
        );
        assert!(l.block_added(&cid(2)));
        assert_eq!(l.next_sends(10), [cid(2)]);
    }

    #[test]
    fn queued_entries_are_capped_exactly_across_messages() {
        let mut l = Ledger::default();
        let mut lookups = usize::MAX;
        // held blocks, missing blocks, pending lookups and answers all count
        for n in 0..CAP as u32 - 1 {
            let want_type = if n % 2 == 0 {
                WantType::Block
            } else {
                WantType::Have
            };
            assert_eq!(
                l.want(&entry(cid(n), want_type), CAP, &mut lookups),
                Wanted::Lookup
            );
            if n % 3 == 0 {
                for c in l.next_lookups(usize::MAX) {
                    l.looked(&c, n % 4 == 0);
                }
            }
        }
        assert_eq!(l.size(), CAP - 1);
        // exactly at the cap
        let last = entry(cid(CAP as u32), WantType::Block);
        assert_eq!(l.want(&last, CAP, &mut lookups), Wanted::Lookup);
        assert_eq!(l.size(), CAP);
        // one past it: refused, in a later message too; known CIDs still update
        let over = entry(cid(CAP as u32 + 1), WantType::Block);
        assert_eq!(l.want(&over, CAP, &mut lookups), Wanted::Full);
        let mut fresh = usize::MAX;
        assert_eq!(l.want(&over, CAP, &mut fresh), Wanted::Full);
        assert_eq!(l.want(&last, CAP, &mut fresh), Wanted::Known);
        assert_eq!(l.size(), CAP);
        // sending frees entries
        for c in l.next_lookups(usize::MAX) {
            l.looked(&c, true);
        }
        let sends = l.next_sends(usize::MAX);
        assert!(!sends.is_empty());
        assert!(l.sent(&sends[0]));
        assert_eq!(l.want(&over, CAP, &mut fresh), Wanted::Lookup);
    }

    #[test]
    fn lookups_per_message_are_capped_exactly() {
        let mut l = Ledger::default();
        let mut lookups = 256;
        for n in 0..256 {
            assert_eq!(
                l.want(&entry(cid(n), WantType::Have), CAP, &mut lookups),
                Wanted::Lookup
            );
        }
        assert_eq!(lookups, 0);
        // a known CID needs no lookup; a new one is refused
        assert_eq!(
            l.want(&entry(cid(0), WantType::Block), CAP, &mut lookups),
            Wanted::Known
        );
        assert_eq!(
            l.want(&entry(cid(256), WantType::Have), CAP, &mut lookups),
            Wanted::NoLookups
        );
        assert_eq!(l.size(), 256);
    }

    #[test]
    fn churn_keeps_the_queues_bounded() {
        let mut l = Ledger::default();
        for _ in 0..10_000 {
            let mut lookups = 1;
            l.want(&entry(cid(7), WantType::Block), CAP, &mut lookups);
            l.cancel(&cid(7));
        }
        assert!(l.lookups.len() <= 2 + 64 + 1, "{}", l.lookups.len());
        assert_eq!(l.next_lookups(10), []);
    }
}
