//! Peer bookkeeping: polls the node's connections, keeps PEER rows (address, last seen,
//! WANDA or not), emits `peer_connected` / `peer_disconnected` on `/ws/ipfs`, and when a peer
//! arrives makes postponed announcements due at once (they were waiting for a listener).

use super::events::{EventBus, NS_IPFS};
use super::metadata::MetadataDb;
use super::rows::{PeerRow, PublishStage, now_ms};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use wanda_node::net::NodeHandle;

/// How often connections are polled.
pub const POLL: Duration = Duration::from_secs(1);

/// Runs until `stop` becomes true.
pub async fn watch_peers(
    node: NodeHandle,
    db: MetadataDb,
    events: EventBus,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut known: HashMap<String, bool> = HashMap::new();
    loop {
        if *stop.borrow() {
            return;
        }
        if let Ok(peers) = node.peers().await {
            let mut now = HashMap::new();
            let mut arrived = false;
            for p in &peers {
                now.insert(p.peer.clone(), p.is_wanda);
                let new = !known.contains_key(&p.peer);
                let became_wanda = known.get(&p.peer) == Some(&false) && p.is_wanda;
                if new || became_wanda {
                    arrived = true;
                    let prev = db
                        .peers()
                        .ok()
                        .and_then(|rows| rows.into_iter().find(|r| r.peer_id == p.peer));
                    let row = PeerRow {
                        peer_id: p.peer.clone(),
                        multiaddr: p.addr.clone(),
                        last_seen_ms: now_ms(),
                        location: prev.as_ref().and_then(|r| r.location.clone()),
                        is_wanda_node: p.is_wanda,
                        images_shared: prev.map_or(0, |r| r.images_shared),
                    };
                    if let Err(e) = db.put_peer(&row) {
                        tracing::warn!("peer row: {e:#}");
                    }
                    events.emit(
                        NS_IPFS,
                        "peer_connected",
                        json!({ "peer_id": p.peer, "multiaddr": p.addr, "agent": p.agent, "is_wanda_node": p.is_wanda }),
                    );
                }
            }
            for (gone, _) in known.iter().filter(|(k, _)| !now.contains_key(*k)) {
                if let Ok(rows) = db.peers()
                    && let Some(mut row) = rows.into_iter().find(|r| &r.peer_id == gone)
                {
                    row.last_seen_ms = now_ms();
                    let _ = db.put_peer(&row);
                }
                events.emit(NS_IPFS, "peer_disconnected", json!({ "peer_id": gone }));
            }
            if arrived {
                make_announcements_due(&db);
                wake.notify_one();
            }
            known = now;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Postponed announcements become due now.
fn make_announcements_due(db: &MetadataDb) {
    let Ok(jobs) = db.jobs() else { return };
    for mut j in jobs {
        if j.stage == PublishStage::Announce && j.not_before_ms > 0 {
            j.not_before_ms = 0;
            j.attempts = 0;
            let _ = db.put_job(&j);
        }
    }
}
