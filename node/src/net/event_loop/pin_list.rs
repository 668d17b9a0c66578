//! `/wanda/pins/1.0.0`, the event-loop side: a request goes out only to a connected peer that
//! (as far as identify told us) speaks the protocol; the behaviour (`net/pin_list.rs`) does the
//! rest and answers the caller. Its events are logged here.

use super::EventLoop;
use crate::net::pin_list::{Event, PIN_LIST_PROTOCOL, PeerPinsError, PinsReply};
use cid::Cid;
use libp2p::PeerId;

impl EventLoop {
    /// Sends a pin list request to `peer`, or answers `reply` at once when it cannot go out.
    pub(super) fn peer_pins(
        &mut self,
        peer: PeerId,
        after: Option<Cid>,
        limit: usize,
        reply: PinsReply,
    ) {
        if !self.swarm.is_connected(&peer) {
            let _ = reply.send(Err(PeerPinsError::NotConnected(peer)));
            return;
        }
        let identified = self.peers.get(&peer).and_then(|st| st.identify.as_ref());
        if let Some(info) = identified
            && !info
                .protocols
                .iter()
                .any(|p| p.as_ref() == PIN_LIST_PROTOCOL)
        {
            let _ = reply.send(Err(PeerPinsError::Unsupported(peer)));
            return;
        }
        self.swarm
            .behaviour_mut()
            .pin_list
            .request(peer, after, limit, reply);
    }

    /// What the protocol reports besides answers to our own requests.
    pub(super) fn on_pin_list_event(&mut self, ev: Event) {
        match ev {
            Event::Served { peer, pins } => {
                tracing::debug!("sent {pins} pins to {peer}");
            }
            Event::Refused { peer, reason } => {
                tracing::info!("pin list request from {peer} refused: {reason}");
            }
            Event::InboundFailed { peer, error } => {
                tracing::debug!("pin list request from {peer} failed: {error}");
            }
        }
    }
}
