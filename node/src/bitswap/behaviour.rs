//! The libp2p [`NetworkBehaviour`]: per-peer state, swarm events and the poll loop.

use super::BitswapEvent;
use super::client::Client;
use super::handle::{BitswapError, BitswapHandle, BitswapStats, Command};
use super::handler::{Handler, HandlerIn, HandlerOut};
use super::ledger::Ledger;
use super::limits::{BitswapLimits, Penalties, Strikes};
use super::message::{Message, WantEntry};
use crate::store::Blockstore;
use cid::Cid;
use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::swarm::{
    ConnectionClosed, ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, NotifyHandler,
    THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};

/// How often wants are re-examined (abandoned gets, slow peers).
const TICK: Duration = Duration::from_millis(250);

#[cfg(test)]
#[path = "server_tests.rs"]
mod server_tests;

/// What the behaviour knows about one connected peer.
#[derive(Default)]
pub(super) struct PeerState {
    /// Open connections, oldest first; messages go on the first.
    pub(super) conns: Vec<ConnectionId>,
    /// `Some(true)` once a Bitswap stream was negotiated, `Some(false)` if it refused.
    pub(super) bitswap: Option<bool>,
    /// Server-side ledger of its wants.
    pub(super) ledger: Ledger,
    /// Our wantlist entries not yet sent to it.
    pub(super) wants_out: Vec<WantEntry>,
    /// Bytes (blocks and answers) handed to its handler and not yet written.
    pub(super) in_flight: usize,
    /// Names this state in serve jobs (a new state for a peer that came back gets a new one).
    pub(super) epoch: u64,
    /// A lookup job is with the serve worker.
    pub(super) looking: bool,
    /// A read job is with the serve worker.
    pub(super) reading: bool,
    /// Its recent offences.
    pub(super) strikes: Strikes,
}

/// The error a connection of a cut-off peer is denied with.
#[derive(Debug, thiserror::Error)]
#[error("peer {0} is cut off by Bitswap (penalised)")]
pub struct Penalised(pub PeerId);

/// Bitswap 1.2.0 (serving 1.0.0/1.1.0 too) over the node's [`Blockstore`].
///
/// Compose it into the node's behaviour, keep a [`BitswapHandle`] (from [`Behaviour::handle`])
/// for fetching, and call [`Behaviour::block_added`] or [`BitswapHandle::block_added`] after
/// storing blocks locally so peers waiting for them are served.
pub struct Behaviour {
    pub(super) store: Blockstore,
    pub(super) client: Client,
    pub(super) peers: HashMap<PeerId, PeerState>,
    pub(super) dirty: HashSet<PeerId>,
    pub(super) events: VecDeque<ToSwarm<BitswapEvent, HandlerIn>>,
    pub(super) stats: BitswapStats,
    cmd_tx: mpsc::UnboundedSender<Command>,
    cmd_rx: mpsc::UnboundedReceiver<Command>,
    tick: Option<Interval>,
    /// Verifies and stores received blocks on its own thread.
    pub(super) storing: super::store_worker::StoreWorker,
    /// Blocks handed to `storing` and not yet reported back.
    pub(super) pending_store: HashSet<Cid>,
    /// Looks wants up and reads blocks to send on its own thread.
    pub(super) serving: super::serve_worker::ServeWorker,
    /// What peers may do before they are cut off.
    pub(super) limits: Arc<BitswapLimits>,
    /// Peers cut off, and until when.
    pub(super) penalties: Penalties,
    next_epoch: u64,
}

impl Behaviour {
    /// A behaviour serving and storing blocks in `store`, with the default [`BitswapLimits`].
    pub fn new(store: Blockstore) -> Self {
        Self::with_limits(store, BitswapLimits::default())
    }

    /// A behaviour serving and storing blocks in `store`, holding peers to `limits`.
    pub fn with_limits(store: Blockstore, limits: BitswapLimits) -> Self {
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        Behaviour {
            serving: super::serve_worker::ServeWorker::spawn(store.clone()),
            limits: Arc::new(limits),
            penalties: Penalties::default(),
            next_epoch: 0,
            client: Client::default(),
            peers: HashMap::new(),
            dirty: HashSet::new(),
            events: VecDeque::new(),
            stats: BitswapStats::default(),
            cmd_tx,
            cmd_rx,
            tick: None,
            storing: super::store_worker::StoreWorker::spawn(store.clone()),
            pending_store: HashSet::new(),
            store,
        }
    }

    /// A handle for fetching blocks from other tasks.
    pub fn handle(&self) -> BitswapHandle {
        BitswapHandle::new(self.cmd_tx.clone(), self.store.clone())
    }

    /// Call after `cid` was stored locally: serves peers waiting for it and completes local
    /// gets for it.
    pub fn block_added(&mut self, cid: &Cid) {
        self.serve_block_added(cid);
        if self.client.status(cid) == super::client::BlockStatus::Wanted {
            match self.store.get(cid) {
                Ok(Some(data)) => {
                    self.client
                        .complete(cid, None, &data.into(), std::time::Instant::now())
                }
                Ok(None) => {}
                Err(e) => self.client.fail(cid, BitswapError::Store(e.to_string())),
            }
        }
    }

    /// Current counters.
    pub fn stats(&self) -> BitswapStats {
        let mut s = self.stats.clone();
        s.wanted = self.client.wanted();
        s.ledgers = self
            .peers
            .iter()
            .map(|(p, st)| (*p, st.ledger.size()))
            .collect();
        s.bitswap_peers = self
            .peers
            .values()
            .filter(|st| st.bitswap == Some(true))
            .count();
        s.penalised_now = self.penalties.count(Instant::now());
        s
    }

    /// The limits peers are held to.
    pub fn limits(&self) -> &BitswapLimits {
        &self.limits
    }

    /// A connection from or to `peer` is refused while it is cut off.
    fn admit(&mut self, peer: &PeerId) -> Result<(), ConnectionDenied> {
        if self.penalties.contains(peer, Instant::now()) {
            self.stats.connections_denied += 1;
            tracing::debug!("bitswap: refusing a connection of penalised peer {peer}");
            return Err(ConnectionDenied::new(Penalised(*peer)));
        }
        Ok(())
    }

    /// Low-level: sends an arbitrary message to `peer` (diagnostics and tests). Returns false
    /// when the peer is not connected.
    pub fn send_message(&mut self, peer: PeerId, msg: Message) -> bool {
        let Some(&conn) = self.peers.get(&peer).and_then(|st| st.conns.first()) else {
            return false;
        };
        self.events.push_back(ToSwarm::NotifyHandler {
            peer_id: peer,
            handler: NotifyHandler::One(conn),
            event: HandlerIn::Send {
                msg,
                block_bytes: 0,
            },
        });
        true
    }

    /// Connected peers not known to refuse Bitswap.
    fn candidate_peers(&self) -> Vec<PeerId> {
        let ok = |st: &PeerState| !st.conns.is_empty() && st.bitswap != Some(false);
        self.peers
            .iter()
            .filter(|(_, st)| ok(st))
            .map(|(p, _)| *p)
            .collect()
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Get(cid, waiter) => match self.store.get(&cid) {
                Ok(Some(data)) => {
                    let _ = waiter.send(Ok(data.into()));
                }
                Ok(None) => {
                    let peers = self.candidate_peers();
                    self.client.want(cid, waiter, &peers, Instant::now());
                }
                Err(e) => {
                    let _ = waiter.send(Err(BitswapError::Store(e.to_string())));
                }
            },
            Command::BlockAdded(cid) => self.block_added(&cid),
            Command::Stats(tx) => {
                let _ = tx.send(self.stats());
            }
        }
    }

    fn connection_established(&mut self, peer: PeerId, conn: ConnectionId) {
        let st = self.peers.entry(peer).or_insert_with(|| {
            self.next_epoch += 1;
            PeerState {
                epoch: self.next_epoch,
                ..PeerState::default()
            }
        });
        st.conns.push(conn);
        if st.conns.len() == 1 && st.bitswap != Some(false) {
            self.client.peer_added(peer);
        }
    }

    fn connection_closed(&mut self, peer: PeerId, conn: ConnectionId, remaining: usize) {
        if let Some(st) = self.peers.get_mut(&peer) {
            st.conns.retain(|c| *c != conn);
            st.in_flight = 0;
            self.dirty.insert(peer);
        }
        if remaining == 0 {
            self.peers.remove(&peer);
            self.dirty.remove(&peer);
            self.client.peer_removed(&peer, Instant::now());
        }
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = BitswapEvent;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.admit(&peer)?;
        Ok(Handler::new(self.limits.clone()))
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: Option<PeerId>,
        _: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        if let Some(peer) = peer {
            self.admit(&peer)?;
        }
        Ok(Vec::new())
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.admit(&peer)?;
        Ok(Handler::new(self.limits.clone()))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::ConnectionEstablished(e) => {
                self.connection_established(e.peer_id, e.connection_id)
            }
            FromSwarm::ConnectionClosed(ConnectionClosed {
                peer_id,
                connection_id,
                remaining_established,
                ..
            }) => self.connection_closed(peer_id, connection_id, remaining_established),
            _ => {}
        }
    }

    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {
            HandlerOut::Message(msg) => self.on_message(peer, msg),
            HandlerOut::Supported(_) => {
                if let Some(st) = self.peers.get_mut(&peer)
                    && st.bitswap != Some(true)
                {
                    let was_refused = st.bitswap == Some(false);
                    st.bitswap = Some(true);
                    if was_refused {
                        self.client.peer_added(peer);
                    }
                    self.events
                        .push_back(ToSwarm::GenerateEvent(BitswapEvent::PeerUsesBitswap {
                            peer,
                        }));
                }
            }
            HandlerOut::Unsupported => {
                if let Some(st) = self.peers.get_mut(&peer)
                    && st.bitswap.is_none()
                {
                    st.bitswap = Some(false);
                    st.wants_out.clear();
                    self.client.peer_removed(&peer, Instant::now());
                }
            }
            HandlerOut::Sent { block_bytes } | HandlerOut::Dropped { block_bytes } => {
                if let Some(st) = self.peers.get_mut(&peer) {
                    st.in_flight = st.in_flight.saturating_sub(block_bytes);
                    self.dirty.insert(peer);
                }
            }
            HandlerOut::BadFrame(e) => {
                self.stats.bad_frames += 1;
                self.strike(peer, format!("bad frame: {e}"));
            }
            HandlerOut::FrameTimedOut(e) => {
                self.stats.frame_timeouts += 1;
                tracing::debug!("bitswap: {peer}: {e}; stream closed");
            }
        }
    }

    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<ToSwarm<BitswapEvent, THandlerInEvent<Self>>> {
        while let Poll::Ready(Some(cmd)) = self.cmd_rx.poll_recv(cx) {
            self.on_command(cmd);
        }
        let tick = self.tick.get_or_insert_with(|| {
            let mut t = tokio::time::interval(TICK);
            t.set_missed_tick_behavior(MissedTickBehavior::Skip);
            t
        });
        while tick.poll_tick(cx).is_ready() {
            self.client.tick(Instant::now());
        }
        while let Poll::Ready(Some(report)) = self.storing.rx.poll_recv(cx) {
            self.on_stored(report);
        }
        while let Poll::Ready(Some(report)) = self.serving.rx.poll_recv(cx) {
            self.on_served(report);
        }
        self.apply_actions();
        self.flush();
        match self.events.pop_front() {
            Some(ev) => Poll::Ready(ev),
            None => Poll::Pending,
        }
    }
}
