//! A network of telescopes: listens on the announcement topic, keeps the network gallery
//! (captures announced by peers), replicates peers' captures up to `replication.replicas`
//! copies (fetch over Bitswap, pin, answer with a signed pin receipt on the same topic), and
//! counts who holds each of our captures (PIN_STATUS rows, `replica_update` events; repaired
//! from a WANDA peer's own pin list when it connects, [`peer_pins`]).
//!
//! Nothing on the topic is trusted: the node only delivers messages [`validate_message`]
//! accepted (at most [`MAX_MESSAGE_BYTES`], `node` = the gossipsub signer), messages are
//! recorded in batches into bounded tables (`metadata::network`), and a replica is fetched
//! under a byte budget that the announcer's own `size` cannot stretch: the fetch stops at the
//! declared size plus the DAG's overhead, at what is left of `replication.max_space`, and at the
//! announcing telescope's `replication.max_space_per_peer`. A capture that does not fit is
//! dropped; what was fetched of it stays unpinned, for GC.

pub mod peer_pins;

use super::events::{EventBus, NS_IPFS};
use super::metadata::MetadataDb;
use super::metadata::network::NetworkBatch;
use super::rows::{PinStatusRow, now_ms};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use wanda_node::net::{
    ANNOUNCEMENT_VERSION, CaptureAnnouncement, NetworkBlocks, NodeHandle, Verdict,
};
use wanda_node::store::Blockstore;

/// Largest message accepted on the announcement topic.
pub const MAX_MESSAGE_BYTES: usize = 4096;
/// Messages recorded in one transaction at most.
const BATCH: usize = 256;
/// Replications waiting to run at most; more announcements wait for their next replay.
const QUEUE: usize = 256;
/// Captures refused (too large, over budget) remembered, so replays are not fetched again.
const REFUSED_MEMORY: usize = 4096;

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

/// The announcement topic's validator (run by the node before anything is forwarded or
/// delivered): a JSON object of at most [`MAX_MESSAGE_BYTES`] whose `node` is the peer that
/// signed it; a pin receipt or an announcement of a version this node knows must be well
/// formed. A later version is passed on (newer telescopes read it) but not used here.
pub fn validate_message(author: Option<&libp2p::PeerId>, data: &[u8]) -> Verdict {
    if data.len() > MAX_MESSAGE_BYTES {
        return Verdict::Reject(format!(
            "{} bytes (at most {MAX_MESSAGE_BYTES})",
            data.len()
        ));
    }
    let Ok(serde_json::Value::Object(v)) = serde_json::from_slice::<serde_json::Value>(data) else {
        return Verdict::Reject("not a JSON object".into());
    };
    let Some(author) = author else {
        return Verdict::Reject("unsigned".into());
    };
    match v.get("node").and_then(|n| n.as_str()) {
        Some(node) if node == author.to_string() => {}
        Some(node) => {
            return Verdict::Reject(format!("claims to be from {node} but {author} signed it"));
        }
        None => return Verdict::Reject("no `node`".into()),
    }
    let version = v.get("version").and_then(|n| n.as_u64()).unwrap_or(0);
    let is_receipt = v.get("type").and_then(|t| t.as_str()) == Some("pin_receipt");
    let known = if is_receipt {
        PinReceipt::from_bytes(data).is_some()
    } else {
        CaptureAnnouncement::from_bytes(data).is_ok()
    };
    let newer = if is_receipt {
        version > 1
    } else {
        version > u64::from(ANNOUNCEMENT_VERSION)
    };
    if known || newer {
        Verdict::Accept
    } else {
        Verdict::Reject("a malformed announcement or receipt".into())
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
    /// Bytes of one telescope's captures this node holds at most.
    pub max_bytes_per_peer: u64,
    /// Captures kept in the network gallery.
    pub max_gallery: usize,
    /// How long one block may take to arrive.
    pub fetch_timeout: Duration,
}

/// Counters of what replication refused (shown by `wanda stats` and the status routes).
#[derive(Debug, Default)]
pub struct ReplicationStats {
    /// Captures not replicated because they did not fit the budget (declared, space, quota).
    pub refused_captures: AtomicU64,
    /// Receipts dropped (unknown capture, too many holders).
    pub receipts_dropped: AtomicU64,
    /// Messages on the topic not signed by the node they name (should be zero: the node's
    /// validator rejects them first).
    pub forged: AtomicU64,
    /// Gallery and peer rows removed to stay within the caps.
    pub pruned: AtomicU64,
}

/// The replication worker's state.
#[derive(Clone)]
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
    /// Counters.
    pub stats: Arc<ReplicationStats>,
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

/// Why a replica was not made.
#[derive(Debug)]
enum Skip {
    /// The DAG is larger than the budget allows.
    TooLarge(u64),
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::TooLarge(limit) => write!(f, "its DAG is larger than the {limit} bytes allowed"),
        }
    }
}

impl std::error::Error for Skip {}

/// Bytes a capture's DAG may take: its declared size plus what a UnixFS DAG adds (block
/// headers, branch nodes: well under 1/32), at least 16 KiB.
pub fn dag_allowance(declared: u64) -> u64 {
    declared
        .saturating_add(declared / 32)
        .saturating_add(16 * 1024)
}

/// Fetches every block below `root` from `src`, stopping with [`Skip::TooLarge`] as soon as
/// more than `limit` bytes have arrived. Returns the bytes fetched.
fn fetch_within(
    src: &dyn wanda_node::blocks::BlockSource,
    root: &cid::Cid,
    limit: u64,
) -> Result<u64> {
    let mut seen = HashSet::new();
    let mut total = 0u64;
    let walked = wanda_node::dag_walk::walk_unique(src, root, &mut seen, &mut |_, data| {
        total += data.len() as u64;
        if total > limit {
            return Err(wanda_node::Error::InvalidInput(format!(
                "over the replication budget of {limit} bytes"
            )));
        }
        Ok(())
    });
    match walked {
        Ok(()) => Ok(total),
        Err(_) if total > limit => Err(Skip::TooLarge(limit).into()),
        Err(e) => Err(e).context("fetching the capture"),
    }
}

impl Replicator {
    /// Runs until `stop`: messages are read in batches and recorded in one transaction each;
    /// replications run on a worker behind a bounded queue.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut rx = match self.node.subscribe(&self.topic).await {
            Ok(rx) => rx,
            Err(e) => {
                tracing::warn!("replication off: cannot subscribe to {}: {e}", self.topic);
                return;
            }
        };
        let (jobs, queue) = mpsc::channel::<CaptureAnnouncement>(QUEUE);
        tokio::spawn(self.clone().work(queue, stop.clone()));
        loop {
            let first = tokio::select! {
                m = rx.recv() => m,
                _ = stop.changed() => return,
            };
            let mut msgs = Vec::new();
            match first {
                Ok(m) => msgs.push(m),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("replication: {n} messages dropped");
                    continue;
                }
                Err(_) => return,
            }
            while msgs.len() < BATCH {
                match rx.try_recv() {
                    Ok(m) => msgs.push(m),
                    Err(tokio::sync::broadcast::error::TryRecvError::Lagged(n)) => {
                        tracing::warn!("replication: {n} messages dropped");
                    }
                    Err(_) => break,
                }
            }
            if let Err(e) = self.on_batch(msgs, &jobs).await {
                tracing::warn!("replication: recording messages: {e:#}");
            }
        }
    }

    /// Records a batch of messages, emits their events and queues wanted replications.
    async fn on_batch(
        &self,
        msgs: Vec<wanda_node::net::PubsubMessage>,
        jobs: &mpsc::Sender<CaptureAnnouncement>,
    ) -> Result<()> {
        let mut batch = NetworkBatch::default();
        for m in msgs {
            let Some(from) = m.from else { continue };
            // the node's validator checked this already; a second look costs nothing
            if let Some(r) = PinReceipt::from_bytes(&m.data) {
                if r.node != from {
                    self.stats.forged.fetch_add(1, Ordering::Relaxed);
                } else if r.node != self.me {
                    batch.receipts.push((r.cid, r.node));
                }
            } else if let Ok(a) = CaptureAnnouncement::from_bytes(&m.data) {
                if a.node != from {
                    self.stats.forged.fetch_add(1, Ordering::Relaxed);
                } else if a.node != self.me {
                    batch.announcements.push(a);
                }
            }
        }
        if batch.announcements.is_empty() && batch.receipts.is_empty() {
            return Ok(());
        }
        let (db, me, max) = (self.db.clone(), self.me.clone(), self.policy.max_gallery);
        let (batch, out) = tokio::task::spawn_blocking(move || {
            let out = db.record_network(&batch, &me, max);
            (batch, out)
        })
        .await?;
        let out = out?;
        self.stats
            .receipts_dropped
            .fetch_add(out.receipts_dropped as u64, Ordering::Relaxed);
        self.stats
            .pruned
            .fetch_add(out.pruned as u64, Ordering::Relaxed);
        for a in &out.new_captures {
            self.events.emit(
                NS_IPFS,
                "content_received",
                json!({ "cid": a.cid, "node": a.node, "session": a.session, "size": a.size, "kind": a.kind, "timestamp_ms": a.timestamp_ms }),
            );
        }
        if !out.receipts.is_empty() {
            let ours: HashSet<String> = self
                .db
                .captures()
                .map(|c| c.into_iter().filter_map(|c| c.cid).collect())
                .unwrap_or_default();
            for (cid, holder) in &out.receipts {
                self.events.emit(
                    NS_IPFS,
                    "replica_update",
                    json!({ "cid": cid, "peer_id": holder, "replicas": replicas(&self.db, cid, &self.me), "ours": ours.contains(cid) }),
                );
            }
        }
        for a in batch.announcements {
            if self.wanted(&a) && jobs.try_send(a).is_err() {
                tracing::debug!(
                    "replication queue full; the capture waits for its next announcement"
                );
            }
        }
        Ok(())
    }

    /// Whether the policy asks for a replica of `a` (checked again before fetching).
    fn wanted(&self, a: &CaptureAnnouncement) -> bool {
        self.policy.enabled
            && (self.policy.peers.is_empty() || self.policy.peers.contains(&a.node))
            && replicas(&self.db, &a.cid, &a.node) < self.policy.replicas as usize
    }

    /// The replication worker: one capture at a time.
    async fn work(
        self,
        mut queue: mpsc::Receiver<CaptureAnnouncement>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut refused: VecDeque<String> = VecDeque::new();
        loop {
            let a = tokio::select! {
                a = queue.recv() => match a { Some(a) => a, None => return },
                _ = stop.changed() => return,
            };
            if refused.contains(&a.cid) {
                continue;
            }
            match self.replicate(&a).await {
                Ok(()) => {}
                Err(e) if e.downcast_ref::<Skip>().is_some() => {
                    self.stats.refused_captures.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("not replicating {} from {}: {e}", a.cid, a.node);
                    if refused.len() >= REFUSED_MEMORY {
                        refused.pop_front();
                    }
                    refused.push_back(a.cid.clone());
                }
                Err(e) => tracing::warn!("replicating {} from {}: {e:#}", a.cid, a.node),
            }
        }
    }

    /// Fetches and pins one capture under the budget, then sends the receipt.
    async fn replicate(&self, a: &CaptureAnnouncement) -> Result<()> {
        let cid = wanda_node::parse_cid(&a.cid)?;
        if self.store.get_pin(&cid)?.is_some() || !self.wanted(a) {
            return Ok(());
        }
        let peer = self.db.peers()?.into_iter().find(|p| p.peer_id == a.node);
        let used_by_peer = peer.as_ref().map_or(0, |p| p.bytes_replicated);
        let used = self.store.stats()?.block_bytes;
        let limit = dag_allowance(a.size)
            .min(self.policy.max_bytes.saturating_sub(used))
            .min(self.policy.max_bytes_per_peer.saturating_sub(used_by_peer));
        if limit < a.size {
            return Err(Skip::TooLarge(limit).into());
        }
        // read ahead only as far as the budget reaches (chunks are 256 KiB)
        let src = NetworkBlocks::new(
            self.store.clone(),
            self.node.clone(),
            tokio::runtime::Handle::current(),
            self.policy.fetch_timeout,
        )
        .with_read_ahead((limit / (256 * 1024)) as usize);
        let store = self.store.clone();
        let fetched = tokio::task::spawn_blocking(move || -> Result<u64> {
            let fetched = fetch_within(&src, &cid, limit)?;
            wanda_node::pinning::pin_add(&store, &cid, true, Some("replica".to_string()))?;
            Ok(fetched)
        })
        .await??;
        if let Some(mut p) = peer.or_else(|| {
            self.db
                .peers()
                .ok()?
                .into_iter()
                .find(|p| p.peer_id == a.node)
        }) {
            p.images_shared += 1;
            p.bytes_replicated = p.bytes_replicated.saturating_add(fetched);
            self.db.put_peer(&p)?;
        }
        self.events.emit(
            NS_IPFS,
            "content_pinned",
            json!({ "cid": a.cid, "node": a.node, "session": a.session }),
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use libp2p::PeerId;

    fn announcement(node: &PeerId) -> Vec<u8> {
        CaptureAnnouncement {
            version: 1,
            cid: "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH".into(),
            node: node.to_string(),
            session: "m31".into(),
            timestamp_ms: 1,
            size: 10,
            kind: "jpeg".into(),
            location: None,
        }
        .to_bytes()
    }

    #[test]
    fn messages_must_be_signed_by_the_node_they_name() {
        let (a, b) = (PeerId::random(), PeerId::random());
        assert_eq!(
            validate_message(Some(&a), &announcement(&a)),
            Verdict::Accept
        );
        assert!(matches!(
            validate_message(Some(&b), &announcement(&a)),
            Verdict::Reject(_)
        ));
        assert!(matches!(
            validate_message(None, &announcement(&a)),
            Verdict::Reject(_)
        ));
        let receipt = |node: &PeerId| {
            serde_json::to_vec(&PinReceipt::new(
                "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
                &node.to_string(),
            ))
            .unwrap()
        };
        assert_eq!(validate_message(Some(&a), &receipt(&a)), Verdict::Accept);
        assert!(matches!(
            validate_message(Some(&b), &receipt(&a)),
            Verdict::Reject(_)
        ));
    }

    #[test]
    fn size_and_shape_are_checked_and_newer_versions_pass() {
        let a = PeerId::random();
        // exactly at the size limit, then one past it
        let pad = |n: usize| {
            let base = format!(r#"{{"node":"{a}","version":9,"pad":""}}"#);
            let fill = "x".repeat(n - base.len());
            format!(r#"{{"node":"{a}","version":9,"pad":"{fill}"}}"#).into_bytes()
        };
        assert_eq!(pad(MAX_MESSAGE_BYTES).len(), MAX_MESSAGE_BYTES);
        assert_eq!(
            validate_message(Some(&a), &pad(MAX_MESSAGE_BYTES)),
            Verdict::Accept
        );
        assert!(matches!(
            validate_message(Some(&a), &pad(MAX_MESSAGE_BYTES + 1)),
            Verdict::Reject(_)
        ));
        for bad in [
            b"[]".to_vec(),
            b"not json".to_vec(),
            format!(r#"{{"node":"{a}","version":1,"cid":"nope"}}"#).into_bytes(),
            format!(r#"{{"node":"{a}","type":"pin_receipt","version":1,"cid":"x"}}"#).into_bytes(),
        ] {
            assert!(matches!(
                validate_message(Some(&a), &bad),
                Verdict::Reject(_)
            ));
        }
    }

    #[test]
    fn the_budget_follows_the_declared_size() {
        assert_eq!(dag_allowance(0), 16 * 1024);
        assert_eq!(dag_allowance(32 << 20), (32 << 20) + (1 << 20) + 16 * 1024);
        assert_eq!(dag_allowance(u64::MAX), u64::MAX);
    }
}
