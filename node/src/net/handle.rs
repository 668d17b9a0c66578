//! [`NodeHandle`]: the async API of a running node. Each call is a command to the event loop.

use super::pin_list::PeerPinsError;
use crate::error::{Error, Result};
use cid::Cid;
use libp2p::{Multiaddr, PeerId};
use serde::Serialize;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};

/// A connected peer.
#[derive(Debug, Clone, Serialize)]
pub struct PeerInfo {
    /// Peer id.
    pub peer: String,
    /// Address of the (first) connection.
    pub addr: String,
    /// Agent version from identify, once known.
    pub agent: Option<String>,
    /// Protocols from identify, once known.
    pub protocols: Vec<String>,
    /// Whether identify says it is a WANDA node.
    pub is_wanda: bool,
}

/// A pub/sub message received on a subscribed topic.
#[derive(Debug, Clone, Serialize)]
pub struct PubsubMessage {
    /// Topic.
    pub topic: String,
    /// Original author (signed messages).
    pub from: Option<String>,
    /// Payload.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Sequence number.
    pub seqno: Option<u64>,
}

/// Traffic and defence counters.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct NetStats {
    /// Connected peers.
    pub peers: usize,
    /// Established connections.
    pub connections: u32,
    /// Pub/sub messages received and accepted.
    pub pubsub_received: u64,
    /// Pub/sub messages published.
    pub pubsub_published: u64,
    /// Pub/sub messages rejected as invalid (their forwarder penalised).
    pub pubsub_rejected: u64,
    /// Pub/sub messages dropped without penalty (rate limit, unknown format).
    pub pubsub_ignored: u64,
    /// Connections closed by the connection manager.
    pub connections_trimmed: u64,
    /// Connections refused by the limits (count, per peer, pending, memory).
    pub connections_refused: u64,
    /// Peers cut off for misbehaving.
    pub peers_penalised: u64,
}

pub(super) type Reply<T> = oneshot::Sender<Result<T>>;

/// Commands from handles to the event loop.
pub(super) enum Command {
    ListenAddrs(Reply<Vec<Multiaddr>>),
    Connect(Multiaddr, Reply<PeerId>),
    Disconnect(PeerId, Reply<()>),
    Peers(Reply<Vec<PeerInfo>>),
    Provide(Cid, Reply<()>),
    FindProviders(Cid, usize, Reply<Vec<PeerId>>),
    Publish(String, Vec<u8>, Reply<()>),
    Subscribe(String, Reply<broadcast::Receiver<PubsubMessage>>),
    Unsubscribe(String, Reply<()>),
    Topics(Reply<Vec<String>>),
    TopicPeers(Option<String>, Reply<Vec<PeerId>>),
    Stats(Reply<NetStats>),
    /// Store an IPNS record (already persisted locally) in the DHT.
    PutName(crate::ipns::IpnsName, Vec<u8>, Reply<()>),
    /// Look up the best valid IPNS record of a name in the DHT, until the deadline.
    GetName(crate::ipns::IpnsName, std::time::Instant, Reply<Vec<u8>>),
    /// Ask a connected peer for a page of its pins (`/wanda/pins/1.0.0`).
    PeerPins {
        peer: PeerId,
        after: Option<Cid>,
        limit: usize,
        reply: super::pin_list::PinsReply,
    },
    /// Protect a peer from the connection manager under a tag (or lift it).
    Protect(PeerId, String, bool),
    Shutdown(Reply<()>),
}

/// Handle to a running node. Cheap to clone.
#[derive(Clone)]
pub struct NodeHandle {
    pub(super) peer_id: PeerId,
    pub(super) protocols: std::sync::Arc<Vec<String>>,
    pub(super) bitswap: crate::bitswap::BitswapHandle,
    pub(super) tx: mpsc::Sender<Command>,
    /// Own IPNS records (sequence numbers, local resolution).
    pub(super) local_names: crate::ipns::LocalRecords,
    /// Resolved names, until their TTL runs out.
    pub(super) name_cache: super::names::NameCache,
    /// Serializes publishes so sequence numbers never repeat.
    pub(super) publish_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// Traffic counters.
    pub(super) bandwidth: super::bandwidth::BandwidthMeter,
}

impl NodeHandle {
    pub(super) async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| Error::InvalidInput("the node has stopped".into()))?;
        rx.await
            .map_err(|_| Error::InvalidInput("the node has stopped".into()))?
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Fetches a block from the local store or, failing that, from peers over Bitswap (asking
    /// the DHT for providers when no connected peer has it). The block is verified and stored.
    pub async fn fetch_block(&self, cid: Cid, timeout: Duration) -> Result<Vec<u8>> {
        // a copy, never `Vec::from`: that could hand out the whole received frame's buffer as
        // the capacity of a small block's Vec, which caches would then keep alive
        self.fetch_shared(cid, timeout).await.map(|b| b.to_vec())
    }

    /// Like [`NodeHandle::fetch_block`], but hands back the received buffer itself, shared
    /// with the behaviour (no copy). It may be a slice of a larger received frame: keep it only
    /// briefly (read-ahead), or copy it.
    pub async fn fetch_shared(&self, cid: Cid, timeout: Duration) -> Result<bytes::Bytes> {
        self.bitswap.get(cid, timeout).await.map_err(|e| match e {
            crate::bitswap::BitswapError::Timeout(_) => Error::FetchTimeout(cid.to_string()),
            other => Error::InvalidInput(other.to_string()),
        })
    }

    /// The Bitswap counters: traffic, and what the server refused (`stats/bitswap`,
    /// `stats/limits`).
    pub async fn bitswap_stats(&self) -> Result<crate::bitswap::BitswapStats> {
        self.bitswap
            .stats()
            .await
            .map_err(|e| Error::InvalidInput(e.to_string()))
    }

    /// Protects `peer` from the connection manager's trimming while `tag` holds it (`on`
    /// false lifts that tag). The app protects the WANDA telescopes it works with.
    pub async fn protect(&self, peer: PeerId, tag: &str, on: bool) -> Result<()> {
        self.tx
            .send(Command::Protect(peer, tag.to_string(), on))
            .await
            .map_err(|_| Error::InvalidInput("the node has stopped".into()))
    }

    /// Tells peers that want `cid` that it is now here (call after local adds).
    pub fn block_added(&self, cid: Cid) {
        let _ = self.bitswap.block_added(cid);
    }

    /// Protocols this node speaks (as identify announces them).
    pub fn protocols(&self) -> Vec<String> {
        self.protocols.as_ref().clone()
    }

    /// Addresses the node listens on (with real ports).
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>> {
        self.call(Command::ListenAddrs).await
    }

    /// Dials `addr` and waits for the connection; returns the remote peer id.
    pub async fn connect(&self, addr: Multiaddr) -> Result<PeerId> {
        self.call(|r| Command::Connect(addr, r)).await
    }

    /// Closes every connection to `peer`.
    pub async fn disconnect(&self, peer: PeerId) -> Result<()> {
        self.call(|r| Command::Disconnect(peer, r)).await
    }

    /// Connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>> {
        self.call(Command::Peers).await
    }

    /// Announces that this node provides `cid` (DHT provider record).
    pub async fn provide(&self, cid: Cid) -> Result<()> {
        self.call(|r| Command::Provide(cid, r)).await
    }

    /// Finds up to `limit` providers of `cid` through the DHT within `timeout`.
    pub async fn find_providers(
        &self,
        cid: Cid,
        limit: usize,
        timeout: Duration,
    ) -> Result<Vec<PeerId>> {
        tokio::time::timeout(
            timeout,
            self.call(|r| Command::FindProviders(cid, limit, r)),
        )
        .await
        .map_err(|_| Error::FetchTimeout(format!("providers of {cid}")))?
    }

    /// Publishes `data` on `topic` (signed).
    pub async fn publish(&self, topic: &str, data: Vec<u8>) -> Result<()> {
        self.call(|r| Command::Publish(topic.into(), data, r)).await
    }

    /// Subscribes to `topic`; messages arrive on the returned receiver.
    pub async fn subscribe(&self, topic: &str) -> Result<broadcast::Receiver<PubsubMessage>> {
        self.call(|r| Command::Subscribe(topic.into(), r)).await
    }

    /// Leaves `topic`.
    pub async fn unsubscribe(&self, topic: &str) -> Result<()> {
        self.call(|r| Command::Unsubscribe(topic.into(), r)).await
    }

    /// Topics this node is subscribed to.
    pub async fn topics(&self) -> Result<Vec<String>> {
        self.call(Command::Topics).await
    }

    /// Peers subscribed to `topic` (all pub/sub peers when `None`).
    pub async fn topic_peers(&self, topic: Option<&str>) -> Result<Vec<PeerId>> {
        self.call(|r| Command::TopicPeers(topic.map(str::to_string), r))
            .await
    }

    /// Counters.
    pub async fn stats(&self) -> Result<NetStats> {
        self.call(Command::Stats).await
    }

    /// Bytes in and out since start, and current rates (`stats bw`).
    pub fn bandwidth(&self) -> super::Bandwidth {
        self.bandwidth.read()
    }

    /// Asks the connected `peer` for its pins over `/wanda/pins/1.0.0`: up to `limit` (capped
    /// at [`super::MAX_PIN_PAGE`]; 0 is refused) whose CIDs sort after `after` in byte order;
    /// pass the page's `next` as `after` for the following page. Never dials: an unconnected
    /// peer is [`PeerPinsError::NotConnected`]. Other errors say whether the peer lacks the
    /// protocol, dropped the connection, refused (with its reason), sent a malformed page, or
    /// did not answer within [`super::PEER_PINS_TIMEOUT`].
    pub async fn peer_pins(
        &self,
        peer: PeerId,
        after: Option<Cid>,
        limit: usize,
    ) -> std::result::Result<super::PinPage, PeerPinsError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Command::PeerPins {
                peer,
                after,
                limit,
                reply,
            })
            .await
            .map_err(|_| PeerPinsError::Stopped)?;
        // the protocol's own timeout answers first; this one only guards against a lost reply
        match tokio::time::timeout(super::PEER_PINS_TIMEOUT + Duration::from_secs(2), rx).await {
            Ok(Ok(res)) => res,
            Ok(Err(_)) => Err(PeerPinsError::Stopped),
            Err(_) => Err(PeerPinsError::Timeout(peer, super::PEER_PINS_TIMEOUT)),
        }
    }

    /// Stops the node: closes connections and ends the event loop.
    pub async fn shutdown(&self) -> Result<()> {
        self.call(Command::Shutdown).await
    }
}
