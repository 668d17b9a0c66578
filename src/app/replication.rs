//! A network of telescopes: listens on the announcement topic, keeps the network gallery
//! (captures announced by peers), replicates peers' captures up to `replication.replicas`
//! copies (fetch over Bitswap, pin, answer with a signed pin receipt on the same topic), and
//! counts who holds each of our captures (PIN_STATUS rows, `replica_update` events; repaired
//! from a WANDA peer's own pin list when it connects, [`peer_pins`]).

pub mod peer_pins;

use super::events::{EventBus, NS_IPFS};
use super::metadata::MetadataDb;
use super::rows::{PeerRow, PinStatusRow, now_ms};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use tokio::sync::watch;
use wanda_node::net::{CaptureAnnouncement, NetworkBlocks, NodeHandle};
use wanda_node::store::Blockstore;

/// "I now hold a copy of `cid`": sent on the topic after a replica is pinned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinReceipt {
    /// Always `"pin_receipt"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Format version (1).
    pub version: u32,
    /// The pinned CID.
    pub cid: String,
    /// Peer id of the pinning node.
    pub node: String,
}

impl PinReceipt {
    /// A receipt for `cid` pinned by `node`.
    pub fn new(cid: &str, node: &str) -> Self {
        Self {
            kind: "pin_receipt".into(),
            version: 1,
            cid: cid.into(),
            node: node.into(),
        }
    }

    /// Parses a receipt (other messages on the topic are not receipts).
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        let r: PinReceipt = serde_json::from_slice(b).ok()?;
        (r.kind == "pin_receipt" && r.version == 1 && wanda_node::parse_cid(&r.cid).is_ok())
            .then_some(r)
    }
}

/// Replication policy (`[replication]` in config.toml).
#[derive(Debug, Clone)]
pub struct Policy {
    /// Pin peers' captures at all.
    pub enabled: bool,
    /// Copies wanted in the network besides the origin.
    pub replicas: u32,
    /// Only these peers' captures (empty = every WANDA peer).
    pub peers: Vec<String>,
    /// Stop replicating when the store holds this many bytes.
    pub max_bytes: u64,
    /// How long one block may take to arrive.
    pub fetch_timeout: Duration,
}

/// The replication worker's state.
pub struct Replicator {
    /// The node.
    pub node: NodeHandle,
    /// Our peer id.
    pub me: String,
    /// Blocks.
    pub store: Blockstore,
    /// Metadata (PEER, PIN_STATUS, network gallery).
    pub db: MetadataDb,
    /// Events.
    pub events: EventBus,
    /// Topic.
    pub topic: String,
    /// Policy.
    pub policy: Policy,
}

/// Copies of `cid` known to be pinned by others than `origin`.
pub fn replicas(db: &MetadataDb, cid: &str, origin: &str) -> usize {
    db.pin_statuses(cid)
        .map(|rows| {
            rows.iter()
                .filter(|r| r.peer_id != origin && r.status == "pinned")
                .count()
        })
        .unwrap_or(0)
}

impl Replicator {
    /// Runs until `stop`.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut rx = match self.node.subscribe(&self.topic).await {
            Ok(rx) => rx,
            Err(e) => {
                tracing::warn!("replication off: cannot subscribe to {}: {e}", self.topic);
                return;
            }
        };
        loop {
            let msg = tokio::select! {
                m = rx.recv() => m,
                _ = stop.changed() => return,
            };
            let msg = match msg {
                Ok(m) => m,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("replication: {n} messages dropped");
                    continue;
                }
                Err(_) => return,
            };
            if let Some(r) = PinReceipt::from_bytes(&msg.data) {
                self.on_receipt(r);
            } else if let Ok(a) = CaptureAnnouncement::from_bytes(&msg.data)
                && a.node != self.me
                && let Err(e) = self.on_announcement(&a).await
            {
                tracing::warn!("replicating {} from {}: {e:#}", a.cid, a.node);
            }
        }
    }

    fn on_receipt(&self, r: PinReceipt) {
        if r.node == self.me {
            return;
        }
        let row = PinStatusRow {
            cid: r.cid.clone(),
            peer_id: r.node.clone(),
            status: "pinned".into(),
            updated_ms: now_ms(),
        };
        if self.db.put_pin_status(&row).is_ok() {
            let ours = self
                .db
                .captures()
                .map(|c| c.iter().any(|c| c.cid.as_deref() == Some(&r.cid)))
                .unwrap_or(false);
            self.events.emit(
                NS_IPFS,
                "replica_update",
                json!({ "cid": r.cid, "peer_id": r.node, "replicas": replicas(&self.db, &r.cid, &self.me), "ours": ours }),
            );
        }
    }

    async fn on_announcement(&self, a: &CaptureAnnouncement) -> Result<()> {
        let cid = wanda_node::parse_cid(&a.cid)?;
        let known = self.db.network_capture(&a.cid)?.is_some();
        self.db.put_network_capture(a)?;
        let prev = self.db.peers()?.into_iter().find(|p| p.peer_id == a.node);
        let mut peer = prev.unwrap_or(PeerRow {
            peer_id: a.node.clone(),
            multiaddr: String::new(),
            last_seen_ms: 0,
            location: None,
            is_wanda_node: true,
            images_shared: 0,
        });
        peer.is_wanda_node = true;
        peer.last_seen_ms = now_ms();
        if a.location.is_some() {
            peer.location = a.location.clone();
        }
        if !known {
            self.events.emit(
                NS_IPFS,
                "content_received",
                json!({ "cid": a.cid, "node": a.node, "session": a.session, "size": a.size, "kind": a.kind, "timestamp_ms": a.timestamp_ms }),
            );
        }
        let already = self.store.get_pin(&cid)?.is_some();
        let wanted = self.policy.enabled
            && (self.policy.peers.is_empty() || self.policy.peers.contains(&a.node))
            && (already || replicas(&self.db, &a.cid, &a.node) < self.policy.replicas as usize);
        if !wanted {
            self.db.put_peer(&peer)?;
            return Ok(());
        }
        if !already {
            let used = self.store.stats()?.block_bytes;
            if used.saturating_add(a.size) > self.policy.max_bytes {
                tracing::info!("replication budget reached: not pinning {}", a.cid);
                self.db.put_peer(&peer)?;
                return Ok(());
            }
            let src = NetworkBlocks::new(
                self.store.clone(),
                self.node.clone(),
                tokio::runtime::Handle::current(),
                self.policy.fetch_timeout,
            );
            let store = self.store.clone();
            tokio::task::spawn_blocking(move || -> Result<()> {
                let mut seen = std::collections::HashSet::new();
                wanda_node::dag_walk::walk_unique(&src, &cid, &mut seen, &mut |_, _| Ok(()))
                    .context("fetching the capture")?;
                wanda_node::pinning::pin_add(&store, &cid, true, Some("replica".to_string()))?;
                Ok(())
            })
            .await??;
            peer.images_shared += 1;
            self.events.emit(
                NS_IPFS,
                "content_pinned",
                json!({ "cid": a.cid, "node": a.node, "session": a.session }),
            );
        }
        self.db.put_peer(&peer)?;
        self.db.put_pin_status(&PinStatusRow {
            cid: a.cid.clone(),
            peer_id: self.me.clone(),
            status: "pinned".into(),
            updated_ms: now_ms(),
        })?;
        self.node
            .publish(
                &self.topic,
                serde_json::to_vec(&PinReceipt::new(&a.cid, &self.me))?,
            )
            .await
            .context("sending the pin receipt")?;
        Ok(())
    }
}
