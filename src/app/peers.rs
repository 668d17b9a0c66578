//! Peer bookkeeping: polls the node's connections, keeps PEER rows (address, last seen,
//! WANDA or not), emits `peer_connected` / `peer_disconnected` on `/ws/ipfs`, and when a peer
//! arrives makes postponed announcements due at once (they were waiting for a listener). When a
//! peer starts listening on the announcement topic, our own newest announcements are replayed
//! so it catches up on what it missed (never others': a message must be signed by the telescope
//! it names, so only the origin can repeat it). WANDA peers are protected from connection
//! trimming. When a WANDA peer
//! arrives we also ask it for its pin list, so our replica counts match what it really holds
//! (`replication::peer_pins`).

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
    topic: String,
    db: MetadataDb,
    events: EventBus,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut known: HashMap<String, bool> = HashMap::new();
    let mut topic_known = std::collections::HashSet::<String>::new();
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
                        images_shared: prev.as_ref().map_or(0, |r| r.images_shared),
                        bytes_replicated: prev.map_or(0, |r| r.bytes_replicated),
                    };
                    if let Err(e) = db.put_peer(&row) {
                        tracing::warn!("peer row: {e:#}");
                    }
                    if p.is_wanda {
                        sync_pins(&node, &db, &events, &p.peer);
                        // telescopes we work with are kept when connections are trimmed
                        if let Ok(id) = p.peer.parse() {
                            let _ = node.protect(id, "wanda", true).await;
                        }
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
            // a peer that newly listens on our topic catches up on what it missed while away
            if let Ok(on_topic) = node.topic_peers(Some(&topic)).await {
                let on_topic: std::collections::HashSet<String> =
                    on_topic.iter().map(|p| p.to_string()).collect();
                if on_topic.iter().any(|p| !topic_known.contains(p)) {
                    replay_recent(&db);
                    wake.notify_one();
                }
                topic_known = on_topic;
            }
            known = now;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Asks a WANDA peer for its pin list in the background and updates PIN_STATUS from it.
fn sync_pins(node: &NodeHandle, db: &MetadataDb, events: &EventBus, peer: &str) {
    let Ok(peer) = peer.parse::<libp2p::PeerId>() else {
        return;
    };
    let (node, db, events) = (node.clone(), db.clone(), events.clone());
    tokio::spawn(async move {
        match super::replication::peer_pins::sync_peer(&node, &db, &events, peer).await {
            Ok(r) => tracing::info!(
                "pin list of {peer}: {} pins, {} of our captures newly counted, {} no longer held",
                r.peer_pins,
                r.added,
                r.removed
            ),
            Err(e) => tracing::info!("pin list of {peer}: {e:#}"),
        }
    });
}

/// How many of our newest announced captures are replayed to a WANDA peer that arrives.
pub const REPLAY: usize = 50;

/// Queues the newest announced captures for announcing again.
fn replay_recent(db: &MetadataDb) {
    let Ok(mut caps) = db.captures() else { return };
    caps.retain(|c| c.is_synced && c.cid.is_some());
    caps.sort_by_key(|c| std::cmp::Reverse(c.id));
    for c in caps.into_iter().take(REPLAY) {
        let _ = db.put_job(&super::rows::PublishJob {
            capture_id: c.id,
            stage: PublishStage::Announce,
            attempts: 0,
            not_before_ms: 0,
        });
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
