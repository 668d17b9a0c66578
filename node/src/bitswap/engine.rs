//! What the behaviour does with received messages, and how it batches what it sends.

use super::behaviour::Behaviour;
use super::client::{Action, BlockStatus};
use super::handle::BitswapError;
use super::handler::HandlerIn;
use super::inbound::InboundMessage;
use super::ledger::Wanted;
use super::message::{Message, PayloadBlock, Wantlist};
use super::prefix::Prefix;
use super::serve_worker::{Job, LOOKUP_BATCH, READ_BATCH, Report};
use super::store_worker::{Received, Stored};
use super::{BitswapEvent, MAX_BATCH_BYTES, MAX_IN_FLIGHT_BYTES};
use crate::ipld::IDENTITY;
use bytes::Bytes;
use cid::Cid;
use libp2p::PeerId;
use libp2p::swarm::{CloseConnection, NotifyHandler, ToSwarm};
use std::time::Instant;

/// Bytes a HAVE / DONT_HAVE is counted as in a peer's flow control (a CIDv1 + framing).
const PRESENCE_BYTES: usize = 48;

impl Behaviour {
    /// Handles one message from `peer`.
    pub(super) fn on_message(&mut self, peer: PeerId, msg: InboundMessage) {
        let now = Instant::now();
        if !self.peers.contains_key(&peer) || self.penalties.contains(&peer, now) {
            return; // cut off: its connections are closing
        }
        let skipped = msg.skipped;
        self.stats.entries_refused += skipped.long_cids as u64;
        if skipped.wants_over_cap > 0 || skipped.presences_over_cap > 0 {
            self.stats.messages_refused += 1;
            self.stats.entries_refused += skipped.wants_over_cap as u64;
            let max = self.limits.max_entries_per_message;
            let n = skipped.wants_over_cap.max(skipped.presences_over_cap);
            self.strike(peer, format!("a message with over {max} entries ({n})"));
        } else if let Some(wl) = &msg.wantlist {
            self.on_wantlist(peer, wl);
        }
        for block in msg.blocks {
            match block.cid {
                Ok(cid) => self.on_block(peer, cid, block.data),
                Err(e) => self.bad_block(peer, None, e),
            }
        }
        for p in msg.presences {
            self.client.presence(peer, p.cid, p.presence, now);
        }
    }

    /// Takes a peer's wantlist (delta or full) into its ledger. Per entry O(1); a message with
    /// a want or cancel for an identity CID is refused (its CID holds the block: only a broken
    /// or hostile client asks) and is a strike; new wants beyond the ledger's room or the
    /// message's lookups are dropped.
    fn on_wantlist(&mut self, peer: PeerId, wl: &Wantlist) {
        if wl.entries.iter().any(|e| e.cid.hash().code() == IDENTITY) {
            self.stats.messages_refused += 1;
            self.stats.entries_refused += wl.entries.len() as u64;
            self.strike(peer, "wants an identity CID".into());
            return;
        }
        let Some(st) = self.peers.get_mut(&peer) else {
            return;
        };
        if wl.full {
            st.ledger.clear();
        }
        let cap = self.limits.max_queued_entries_per_peer;
        let mut lookups = self.limits.max_lookups_per_message;
        let mut refused = 0u64;
        for e in &wl.entries {
            if e.cancel {
                st.ledger.cancel(&e.cid);
            } else {
                match st.ledger.want(e, cap, &mut lookups) {
                    Wanted::Lookup | Wanted::Known => {}
                    Wanted::Full | Wanted::NoLookups => refused += 1,
                }
            }
        }
        if refused > 0 {
            self.stats.entries_refused += refused;
            tracing::debug!(
                "bitswap: {peer}: {refused} wants dropped (ledger {} of {cap})",
                st.ledger.size()
            );
        }
        self.dirty.insert(peer);
    }

    /// An offence by `peer`: enough of them within the strike window cut it off.
    pub(super) fn strike(&mut self, peer: PeerId, reason: String) {
        self.stats.strikes += 1;
        let (window, max) = (self.limits.strike_window, self.limits.max_strikes);
        let Some(st) = self.peers.get_mut(&peer) else {
            return;
        };
        if st.strikes.add(Instant::now(), window, max) {
            self.penalise(peer, reason);
        } else {
            tracing::debug!("bitswap: strike for {peer}: {reason}");
        }
    }

    /// Cuts `peer` off: drops what it asked for, closes its connections, refuses new ones
    /// until the penalty expires, and reports it.
    fn penalise(&mut self, peer: PeerId, reason: String) {
        let l = &self.limits;
        self.penalties
            .add(peer, Instant::now(), l.penalty, l.max_penalised_peers);
        self.stats.peers_penalised += 1;
        tracing::warn!(
            "bitswap: cutting off {peer} for {:?}: {reason}",
            self.limits.penalty
        );
        if let Some(st) = self.peers.get_mut(&peer) {
            st.ledger.clear();
        }
        self.events
            .push_back(ToSwarm::GenerateEvent(BitswapEvent::PeerPenalised {
                peer,
                reason,
            }));
        self.events.push_back(ToSwarm::CloseConnection {
            peer_id: peer,
            connection: CloseConnection::All,
        });
    }

    /// A report from the serve worker: answers from a lookup, or blocks to send.
    pub(super) fn on_served(&mut self, report: Report) {
        match report {
            Report::Looked { peer, epoch, found } => {
                self.stats.lookups += found.len() as u64;
                let Some(st) = self.peers.get_mut(&peer).filter(|st| st.epoch == epoch) else {
                    return;
                };
                st.looking = false;
                for (cid, have) in found {
                    st.ledger.looked(&cid, have);
                }
                self.dirty.insert(peer);
            }
            Report::Read {
                peer,
                epoch,
                blocks,
                missing,
                unread,
            } => {
                let Some(st) = self.peers.get_mut(&peer).filter(|st| st.epoch == epoch) else {
                    return;
                };
                st.reading = false;
                for cid in &missing {
                    st.ledger.vanished(cid);
                }
                st.ledger.unread(&unread);
                self.dirty.insert(peer);
                let Some(&conn) = st.conns.first() else {
                    let cids: Vec<Cid> = blocks.iter().map(|(c, _)| *c).collect();
                    st.ledger.unread(&cids);
                    return;
                };
                // blocks cancelled while being read are not sent
                let mut owed = blocks.into_iter().filter(|(c, _)| st.ledger.sent(c));
                let mut next = owed.next();
                while let Some(first) = next.take() {
                    let mut bytes = first.1.len();
                    let mut batch = vec![first];
                    for b in owed.by_ref() {
                        if bytes + b.1.len() > MAX_BATCH_BYTES {
                            next = Some(b);
                            break;
                        }
                        bytes += b.1.len();
                        batch.push(b);
                    }
                    st.in_flight += bytes;
                    self.stats.blocks_sent += batch.len() as u64;
                    self.stats.bytes_sent += bytes as u64;
                    self.events.push_back(ToSwarm::NotifyHandler {
                        peer_id: peer,
                        handler: NotifyHandler::One(conn),
                        event: HandlerIn::Send {
                            msg: blocks_message(batch),
                            block_bytes: bytes,
                        },
                    });
                }
            }
        }
    }

    fn on_block(&mut self, peer: PeerId, cid: Cid, data: bytes::Bytes) {
        match self.client.status(&cid) {
            BlockStatus::Late => self.stats.duplicate_blocks += 1,
            BlockStatus::Unsolicited => self.bad_block(peer, Some(cid), "unsolicited block".into()),
            BlockStatus::Wanted if self.pending_store.contains(&cid) => {
                self.stats.duplicate_blocks += 1
            }
            BlockStatus::Wanted => {
                // verified and stored on the store thread; `on_stored` completes the want
                self.pending_store.insert(cid);
                self.storing.submit(Received { peer, cid, data });
            }
        }
    }

    /// A report from the store thread: complete (or fail) the want, serve waiting peers.
    pub(super) fn on_stored(&mut self, report: Stored) {
        match report {
            Stored::Ok(Received { peer, cid, data }) => {
                self.pending_store.remove(&cid);
                self.stats.blocks_received += 1;
                self.stats.bytes_received += data.len() as u64;
                self.client
                    .complete(&cid, Some(peer), &data, Instant::now());
                self.serve_block_added(&cid);
                self.events
                    .push_back(ToSwarm::GenerateEvent(BitswapEvent::BlockReceived {
                        cid,
                        from: peer,
                    }));
            }
            Stored::Failed(cid, e) => {
                self.pending_store.remove(&cid);
                tracing::warn!("bitswap: storing {cid} failed: {e}");
                self.client.fail(&cid, BitswapError::Store(e));
            }
        }
    }

    fn bad_block(&mut self, peer: PeerId, cid: Option<Cid>, reason: String) {
        tracing::warn!("bitswap: bad block from {peer}: {reason}");
        self.events
            .push_back(ToSwarm::GenerateEvent(BitswapEvent::BadBlock {
                peer,
                cid,
                reason,
            }));
        self.events.push_back(ToSwarm::CloseConnection {
            peer_id: peer,
            connection: CloseConnection::All,
        });
    }

    /// Queues the block or a HAVE for every peer whose ledger waits for `cid`.
    pub(super) fn serve_block_added(&mut self, cid: &Cid) {
        for (peer, st) in &mut self.peers {
            if st.ledger.block_added(cid) {
                self.dirty.insert(*peer);
            }
        }
    }

    /// Turns the client's actions into queued wantlist entries and events.
    pub(super) fn apply_actions(&mut self) {
        for action in self.client.take_actions() {
            match action {
                Action::Send(peer, entry) => {
                    if let Some(st) = self.peers.get_mut(&peer) {
                        st.wants_out.retain(|e| e.cid != entry.cid);
                        st.wants_out.push(entry);
                        self.dirty.insert(peer);
                    }
                }
                Action::NeedProviders(cid) => self
                    .events
                    .push_back(ToSwarm::GenerateEvent(BitswapEvent::NeedProviders { cid })),
            }
        }
    }

    /// For each dirty peer: sends our wants and the answers it is owed at once, and gives the
    /// serve worker its next lookup job and its next read job (one of each at a time per peer:
    /// round-robin across peers; reads only while less than [`MAX_IN_FLIGHT_BYTES`] are
    /// unacknowledged, blocks batched up to [`MAX_BATCH_BYTES`] per message).
    pub(super) fn flush(&mut self) {
        for peer in std::mem::take(&mut self.dirty) {
            let Some(st) = self.peers.get_mut(&peer) else {
                continue;
            };
            let Some(&conn) = st.conns.first() else {
                continue;
            };
            let mut msg = Message::default();
            if !st.wants_out.is_empty() {
                msg.wantlist = Some(Wantlist {
                    entries: std::mem::take(&mut st.wants_out),
                    full: false,
                });
            }
            // a peer that does not read its answers stops getting new ones
            if st.in_flight < MAX_IN_FLIGHT_BYTES && st.ledger.has_presences() {
                msg.presences = st.ledger.take_presences();
            }
            if !msg.is_empty() {
                let flow = msg.presences.len() * PRESENCE_BYTES;
                st.in_flight += flow;
                self.events.push_back(ToSwarm::NotifyHandler {
                    peer_id: peer,
                    handler: NotifyHandler::One(conn),
                    event: HandlerIn::Send {
                        msg,
                        block_bytes: flow,
                    },
                });
            }
            if !st.looking && st.ledger.has_lookups() {
                let cids = st.ledger.next_lookups(LOOKUP_BATCH);
                if !cids.is_empty() {
                    st.looking = true;
                    let epoch = st.epoch;
                    self.serving.submit(Job::Lookup { peer, epoch, cids });
                }
            }
            if !st.reading && st.in_flight < MAX_IN_FLIGHT_BYTES && st.ledger.has_sends() {
                let cids = st.ledger.next_sends(READ_BATCH);
                if !cids.is_empty() {
                    st.reading = true;
                    self.serving.submit(Job::Read {
                        peer,
                        epoch: st.epoch,
                        cids,
                        max_bytes: MAX_BATCH_BYTES,
                    });
                }
            }
        }
    }
}

/// A message carrying `blocks`.
fn blocks_message(blocks: Vec<(Cid, Bytes)>) -> Message {
    Message {
        payload: blocks
            .into_iter()
            .map(|(cid, data)| PayloadBlock {
                prefix: Prefix::of(&cid).to_bytes(),
                data,
            })
            .collect(),
        ..Message::default()
    }
}
