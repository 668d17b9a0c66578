//! What the behaviour does with received messages, and how it batches what it sends.

use super::behaviour::{Behaviour, PeerState};
use super::client::{Action, BlockStatus};
use super::handle::BitswapError;
use super::handler::HandlerIn;
use super::inbound::InboundMessage;
use super::message::{Message, Wantlist};
use super::prefix::Prefix;
use super::store_worker::{Received, Stored};
use super::{BitswapEvent, MAX_BATCH_BYTES, MAX_IN_FLIGHT_BYTES};
use cid::Cid;
use libp2p::PeerId;
use libp2p::swarm::{CloseConnection, NotifyHandler, ToSwarm};
use std::time::Instant;

impl Behaviour {
    /// Handles one message from `peer`.
    pub(super) fn on_message(&mut self, peer: PeerId, msg: InboundMessage) {
        let now = Instant::now();
        if let Some(wl) = &msg.wantlist {
            let store = self.store.clone();
            if let Some(st) = self.peers.get_mut(&peer) {
                st.ledger.apply(wl, |c| store.has(c).unwrap_or(false));
                self.dirty.insert(peer);
            }
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

    /// Sends everything pending for the dirty peers, blocks batched up to
    /// [`MAX_BATCH_BYTES`] per message and [`MAX_IN_FLIGHT_BYTES`] unacknowledged per peer.
    pub(super) fn flush(&mut self) {
        for peer in std::mem::take(&mut self.dirty) {
            let Some(st) = self.peers.get_mut(&peer) else {
                continue;
            };
            while let Some((msg, block_bytes)) = next_message(st, &self.store) {
                let Some(&conn) = st.conns.first() else {
                    break;
                };
                st.in_flight += block_bytes;
                self.stats.blocks_sent += msg.payload.len() as u64;
                self.stats.bytes_sent += block_bytes as u64;
                self.events.push_back(ToSwarm::NotifyHandler {
                    peer_id: peer,
                    handler: NotifyHandler::One(conn),
                    event: HandlerIn::Send { msg, block_bytes },
                });
            }
        }
    }
}

/// Builds the next message for a peer, or `None` when nothing is pending (or blocks are
/// waiting on flow control).
fn next_message(st: &mut PeerState, store: &crate::store::Blockstore) -> Option<(Message, usize)> {
    if st.conns.is_empty() {
        return None;
    }
    let mut msg = Message::default();
    if !st.wants_out.is_empty() {
        msg.wantlist = Some(Wantlist {
            entries: std::mem::take(&mut st.wants_out),
            full: false,
        });
    }
    msg.presences = st.ledger.take_presences();
    let mut bytes = 0;
    while st.in_flight + bytes < MAX_IN_FLIGHT_BYTES
        && let Some(cid) = st.ledger.next_block()
    {
        let data = match store.get(&cid) {
            Ok(Some(data)) => data,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!("bitswap: reading {cid} failed: {e}");
                continue;
            }
        };
        if bytes > 0 && bytes + data.len() > MAX_BATCH_BYTES {
            st.ledger.requeue(cid);
            break;
        }
        bytes += data.len();
        msg.payload.push(super::message::PayloadBlock {
            prefix: Prefix::of(&cid).to_bytes(),
            data: data.into(),
        });
    }
    (!msg.is_empty()).then_some((msg, bytes))
}
