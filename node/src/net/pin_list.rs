//! `/wanda/pins/1.0.0`: ask a connected peer which CIDs it pins.
//!
//! One request, one response, CBOR on a fresh stream (libp2p `request_response`). The request
//! names a cursor and a page size; the answer is a page of the peer's pins (recursive and direct,
//! in CID byte order, with their kind and name) and the cursor of the next page, or an error
//! with a reason. Nothing is refused silently. The server reads its pin table on a blocking
//! thread, so a large pin set never stalls the event loop.

use crate::store::{Blockstore, PinMode};
use cid::Cid;
use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::request_response::{self, OutboundRequestId, ProtocolSupport, ResponseChannel};
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// The protocol name.
pub const PIN_LIST_PROTOCOL: &str = "/wanda/pins/1.0.0";

/// Most pins in one response; larger requests are answered with this many (and a cursor).
pub const MAX_PIN_PAGE: usize = 1000;

/// How long a request may take, from sending it to the last byte of the answer.
pub const PEER_PINS_TIMEOUT: Duration = Duration::from_secs(10);

/// Pin listings a node computes at once; further requests are answered "busy".
const MAX_SERVING: usize = 4;

/// A page stops growing once its CIDs and names take this many bytes (so a page of pins with
/// long names still fits the response limit); the cursor says where to go on.
const PAGE_BYTES: usize = 512 * 1024;

/// Largest request (a cursor and a number) and response accepted on the wire.
const MAX_REQUEST_BYTES: u64 = 4 * 1024;
const MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// The request on the wire: the page after `after` (a CID string; `None` = from the start),
/// at most `limit` pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinListRequest {
    /// Cursor: only pins whose CID (as bytes) sorts after this one.
    pub after: Option<String>,
    /// Wanted page size (1 ..; the server caps it at [`MAX_PIN_PAGE`]).
    pub limit: u32,
}

/// One pin on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePin {
    /// The pinned CID (string form).
    pub cid: String,
    /// `recursive` or `direct`.
    pub kind: PinMode,
    /// The pin's name, if it has one.
    pub name: Option<String>,
}

/// The response on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PinListResponse {
    /// A page of pins in CID byte order; `next` is the cursor of the following page (`None` =
    /// this was the last page).
    Page {
        /// The pins.
        pins: Vec<WirePin>,
        /// Cursor for the next request.
        next: Option<String>,
    },
    /// The server could not answer.
    Error {
        /// Why.
        reason: String,
    },
}

/// One pin of a peer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerPin {
    /// The pinned CID.
    pub cid: Cid,
    /// Recursive (the whole DAG is kept) or direct (only this block).
    pub kind: PinMode,
    /// The pin's name, if it has one.
    pub name: Option<String>,
}

/// A page of a peer's pins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinPage {
    /// The pins, in CID byte order.
    pub pins: Vec<PeerPin>,
    /// Pass as `after` to get the next page; `None` when this page was the last.
    pub next: Option<Cid>,
}

/// Why a peer's pin list could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerPinsError {
    /// The request itself is wrong (e.g. a page size of 0).
    #[error("invalid pin list request: {0}")]
    InvalidRequest(String),
    /// We have no connection to the peer (the request never dials).
    #[error("not connected to peer {0}")]
    NotConnected(PeerId),
    /// The peer does not speak `/wanda/pins/1.0.0`.
    #[error("peer {0} does not support {PIN_LIST_PROTOCOL}")]
    Unsupported(PeerId),
    /// The connection failed or closed before the answer arrived.
    #[error("peer {0} is unreachable: {1}")]
    Unreachable(PeerId, String),
    /// No answer within [`PEER_PINS_TIMEOUT`].
    #[error("peer {0} did not answer within {1:?}")]
    Timeout(PeerId, Duration),
    /// The peer answered with an error.
    #[error("peer {0} could not list its pins: {1}")]
    Refused(PeerId, String),
    /// The peer's answer breaks the protocol (bad CID, wrong order, too many pins).
    #[error("peer {0} sent a bad pin list: {1}")]
    BadResponse(PeerId, String),
    /// Our node has stopped.
    #[error("the node has stopped")]
    Stopped,
}

/// Where a client's answer goes.
pub(super) type PinsReply = oneshot::Sender<Result<PinPage, PeerPinsError>>;

/// What the protocol reports to the event loop (for logs; answers go to their callers).
#[derive(Debug)]
pub enum Event {
    /// We answered `peer` with `pins` pins.
    Served {
        /// Who asked.
        peer: PeerId,
        /// How many pins the page held.
        pins: usize,
    },
    /// We answered `peer` with an error.
    Refused {
        /// Who asked.
        peer: PeerId,
        /// The reason we sent.
        reason: String,
    },
    /// An inbound request failed (timeout, closed connection, undecodable request).
    InboundFailed {
        /// Who asked.
        peer: PeerId,
        /// What happened.
        error: String,
    },
}

type Inner = request_response::cbor::Behaviour<PinListRequest, PinListResponse>;

/// A page computed on a blocking thread, ready to be sent.
struct Ready {
    peer: PeerId,
    channel: ResponseChannel<PinListResponse>,
    response: PinListResponse,
}

/// A request of ours waiting for its answer.
struct Pending {
    peer: PeerId,
    after: Option<Cid>,
    limit: usize,
    reply: PinsReply,
}

/// The `/wanda/pins/1.0.0` behaviour: serves our pins from the store and asks peers for theirs.
pub struct Behaviour {
    inner: Inner,
    store: Blockstore,
    ready_tx: mpsc::UnboundedSender<Ready>,
    ready_rx: mpsc::UnboundedReceiver<Ready>,
    serving: usize,
    pending: HashMap<OutboundRequestId, Pending>,
}

impl Behaviour {
    /// Serves the pins of `store` and asks peers with [`Self::request`].
    pub fn new(store: Blockstore) -> Self {
        let codec = request_response::cbor::codec::Codec::default()
            .set_request_size_maximum(MAX_REQUEST_BYTES)
            .set_response_size_maximum(MAX_RESPONSE_BYTES);
        let inner = Inner::with_codec(
            codec,
            [(
                StreamProtocol::new(PIN_LIST_PROTOCOL),
                ProtocolSupport::Full,
            )],
            request_response::Config::default()
                .with_request_timeout(PEER_PINS_TIMEOUT)
                .with_max_concurrent_streams(16),
        );
        let (ready_tx, ready_rx) = mpsc::unbounded_channel();
        Self {
            inner,
            store,
            ready_tx,
            ready_rx,
            serving: 0,
            pending: HashMap::new(),
        }
    }

    /// Asks the connected `peer` for up to `limit` pins after `after`; the answer goes to
    /// `reply`. `limit` is capped at [`MAX_PIN_PAGE`]; 0 is refused.
    pub(super) fn request(
        &mut self,
        peer: PeerId,
        after: Option<Cid>,
        limit: usize,
        reply: PinsReply,
    ) {
        if limit == 0 {
            let _ = reply.send(Err(PeerPinsError::InvalidRequest(
                "the page size must be at least 1".into(),
            )));
            return;
        }
        let limit = limit.min(MAX_PIN_PAGE);
        let id = self.inner.send_request(
            &peer,
            PinListRequest {
                after: after.map(|c| c.to_string()),
                limit: limit as u32,
            },
        );
        self.pending.insert(
            id,
            Pending {
                peer,
                after,
                limit,
                reply,
            },
        );
    }

    /// An inbound request: answered at once when it is wrong or we are busy, otherwise the
    /// page is read on a blocking thread and sent from [`Self::poll`].
    fn on_request(
        &mut self,
        peer: PeerId,
        request: PinListRequest,
        channel: ResponseChannel<PinListResponse>,
    ) -> Option<Event> {
        let refuse = |reason: String| PinListResponse::Error { reason };
        let after = match request.after.as_deref().map(crate::parse_cid).transpose() {
            Ok(a) => a,
            Err(e) => return self.respond(peer, channel, refuse(format!("bad cursor: {e}"))),
        };
        if request.limit == 0 {
            return self.respond(
                peer,
                channel,
                refuse("the page size must be at least 1".into()),
            );
        }
        if self.serving >= MAX_SERVING {
            return self.respond(
                peer,
                channel,
                refuse(format!(
                    "busy: {MAX_SERVING} pin listings in progress, try again shortly"
                )),
            );
        }
        self.serving += 1;
        let limit = (request.limit as usize).min(MAX_PIN_PAGE);
        let store = self.store.clone();
        let tx = self.ready_tx.clone();
        tokio::task::spawn_blocking(move || {
            let response = match page(&store, after.as_ref(), limit) {
                Ok((pins, next)) => PinListResponse::Page {
                    pins: pins
                        .into_iter()
                        .map(|p| WirePin {
                            cid: p.cid.to_string(),
                            kind: p.kind,
                            name: p.name,
                        })
                        .collect(),
                    next: next.map(|c| c.to_string()),
                },
                Err(e) => PinListResponse::Error {
                    reason: format!("cannot read the pin store: {e}"),
                },
            };
            let _ = tx.send(Ready {
                peer,
                channel,
                response,
            });
        });
        None
    }

    fn respond(
        &mut self,
        peer: PeerId,
        channel: ResponseChannel<PinListResponse>,
        response: PinListResponse,
    ) -> Option<Event> {
        let event = match &response {
            PinListResponse::Page { pins, .. } => Event::Served {
                peer,
                pins: pins.len(),
            },
            PinListResponse::Error { reason } => Event::Refused {
                peer,
                reason: reason.clone(),
            },
        };
        match self.inner.send_response(channel, response) {
            Ok(()) => Some(event),
            Err(_) => Some(Event::InboundFailed {
                peer,
                error: "the connection closed before the answer".into(),
            }),
        }
    }

    /// An event of the request-response layer; `Some` when the event loop should hear of it.
    fn on_inner(
        &mut self,
        event: request_response::Event<PinListRequest, PinListResponse>,
    ) -> Option<Event> {
        use request_response::{Event as E, Message, OutboundFailure as F};
        match event {
            E::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => self.on_request(peer, request, channel),
            E::Message {
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some(p) = self.pending.remove(&request_id) {
                    let res = check_response(p.peer, p.after.as_ref(), p.limit, response);
                    let _ = p.reply.send(res);
                }
                None
            }
            E::OutboundFailure {
                request_id, error, ..
            } => {
                if let Some(p) = self.pending.remove(&request_id) {
                    let peer = p.peer;
                    let err = match error {
                        F::UnsupportedProtocols => PeerPinsError::Unsupported(peer),
                        F::Timeout => PeerPinsError::Timeout(peer, PEER_PINS_TIMEOUT),
                        F::DialFailure => PeerPinsError::Unreachable(peer, "dial failed".into()),
                        F::ConnectionClosed => PeerPinsError::Unreachable(
                            peer,
                            "the connection closed before the answer".into(),
                        ),
                        F::Io(e) => PeerPinsError::Unreachable(peer, format!("stream error: {e}")),
                    };
                    let _ = p.reply.send(Err(err));
                }
                None
            }
            E::InboundFailure { peer, error, .. } => Some(Event::InboundFailed {
                peer,
                error: error.to_string(),
            }),
            E::ResponseSent { .. } => None,
        }
    }
}

/// Checks a peer's answer against what we asked: valid CIDs, strictly ascending, after the
/// cursor, no more than the page size.
fn check_response(
    peer: PeerId,
    after: Option<&Cid>,
    limit: usize,
    response: PinListResponse,
) -> Result<PinPage, PeerPinsError> {
    let (wire, next) = match response {
        PinListResponse::Error { reason } => return Err(PeerPinsError::Refused(peer, reason)),
        PinListResponse::Page { pins, next } => (pins, next),
    };
    let bad = |reason: String| PeerPinsError::BadResponse(peer, reason);
    if wire.len() > limit {
        return Err(bad(format!("{} pins for a page of {limit}", wire.len())));
    }
    let mut last = after.map(|c| c.to_bytes());
    let mut pins = Vec::with_capacity(wire.len());
    for w in wire {
        let cid = crate::parse_cid(&w.cid).map_err(|e| bad(e.to_string()))?;
        let key = cid.to_bytes();
        if last.as_ref().is_some_and(|l| &key <= l) {
            return Err(bad(format!("{cid} is out of order")));
        }
        last = Some(key);
        pins.push(PeerPin {
            cid,
            kind: w.kind,
            name: w.name,
        });
    }
    let next = next
        .map(|n| crate::parse_cid(&n).map_err(|e| bad(format!("cursor: {e}"))))
        .transpose()?;
    if next.is_some() && pins.is_empty() {
        return Err(bad("an empty page with a cursor".into()));
    }
    Ok(PinPage { pins, next })
}

/// Up to `limit` of the pins in `store` whose CID bytes sort after `after`, and the cursor of
/// the next page when more remain. A page also ends when its CIDs and names reach
/// [`PAGE_BYTES`] (it always holds at least one pin).
pub fn page(
    store: &Blockstore,
    after: Option<&Cid>,
    limit: usize,
) -> crate::Result<(Vec<PeerPin>, Option<Cid>)> {
    let after = after.map(|c| c.to_bytes());
    let mut rest = store
        .list_pins()?
        .into_iter()
        .filter(|(cid, _)| after.as_ref().is_none_or(|a| &cid.to_bytes() > a))
        .peekable();
    let mut pins = Vec::new();
    let mut bytes = 0;
    while let Some((cid, record)) = rest.next_if(|_| pins.len() < limit && bytes < PAGE_BYTES) {
        bytes += 64 + record.name.as_ref().map_or(0, String::len);
        pins.push(PeerPin {
            cid,
            kind: record.mode,
            name: record.name,
        });
    }
    let next = match rest.peek() {
        Some(_) => pins.last().map(|p| p.cid),
        None => None,
    };
    Ok((pins, next))
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = <Inner as NetworkBehaviour>::ConnectionHandler;
    type ToSwarm = Event;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.inner
            .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_inbound_connection(
            connection_id,
            peer,
            local_addr,
            remote_addr,
        )
    }

    fn handle_pending_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.inner.handle_pending_outbound_connection(
            connection_id,
            maybe_peer,
            addresses,
            effective_role,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner.handle_established_outbound_connection(
            connection_id,
            peer,
            addr,
            role_override,
            port_use,
        )
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event)
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.inner
            .on_connection_handler_event(peer_id, connection_id, event)
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<Event, THandlerInEvent<Self>>> {
        while let Poll::Ready(Some(r)) = self.ready_rx.poll_recv(cx) {
            self.serving -= 1;
            if let Some(ev) = self.respond(r.peer, r.channel, r.response) {
                return Poll::Ready(ToSwarm::GenerateEvent(ev));
            }
        }
        loop {
            match self.inner.poll(cx) {
                Poll::Ready(ToSwarm::GenerateEvent(ev)) => {
                    if let Some(ev) = self.on_inner(ev) {
                        return Poll::Ready(ToSwarm::GenerateEvent(ev));
                    }
                }
                Poll::Ready(other) => {
                    return Poll::Ready(other.map_out(|_| unreachable!("events handled above")));
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> PeerId {
        PeerId::random()
    }

    const A: &str = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    const B: &str = "bafkreiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354";

    fn wire(cid: &str) -> WirePin {
        WirePin {
            cid: cid.into(),
            kind: PinMode::Recursive,
            name: None,
        }
    }

    fn sorted() -> (String, String) {
        let (a, b) = (crate::parse_cid(A).unwrap(), crate::parse_cid(B).unwrap());
        if a.to_bytes() < b.to_bytes() {
            (A.into(), B.into())
        } else {
            (B.into(), A.into())
        }
    }

    #[test]
    fn answers_are_checked() {
        let p = peer();
        let (lo, hi) = sorted();
        let ok = check_response(
            p,
            None,
            2,
            PinListResponse::Page {
                pins: vec![wire(&lo), wire(&hi)],
                next: None,
            },
        )
        .unwrap();
        assert_eq!(ok.pins.len(), 2);
        let err = |r| check_response(p, None, 1, r).unwrap_err();
        assert!(matches!(
            err(PinListResponse::Page {
                pins: vec![wire(&lo), wire(&hi)],
                next: None
            }),
            PeerPinsError::BadResponse(..)
        ));
        let out_of_order = check_response(
            p,
            None,
            5,
            PinListResponse::Page {
                pins: vec![wire(&hi), wire(&lo)],
                next: None,
            },
        )
        .unwrap_err();
        assert!(
            out_of_order.to_string().contains("out of order"),
            "{out_of_order}"
        );
        let before_cursor = check_response(
            p,
            Some(&crate::parse_cid(&hi).unwrap()),
            5,
            PinListResponse::Page {
                pins: vec![wire(&lo)],
                next: None,
            },
        )
        .unwrap_err();
        assert!(matches!(before_cursor, PeerPinsError::BadResponse(..)));
        assert!(matches!(
            err(PinListResponse::Page {
                pins: vec![wire("not-a-cid")],
                next: None
            }),
            PeerPinsError::BadResponse(..)
        ));
        assert_eq!(
            err(PinListResponse::Error {
                reason: "disk on fire".into()
            }),
            PeerPinsError::Refused(p, "disk on fire".into())
        );
    }
}
