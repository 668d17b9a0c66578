//! Replica counts from the source: when a WANDA peer connects, ask it which CIDs it pins
//! (`/wanda/pins/1.0.0`) and bring our PIN_STATUS rows for our own captures in line with the
//! answer. Pin receipts on the topic keep the counts current while everyone is online; this
//! repairs them after receipts were missed (our restart, a partition, a peer that unpinned).

use super::replicas;
use crate::app::events::{EventBus, NS_IPFS};
use crate::app::metadata::MetadataDb;
use crate::app::rows::{PinStatusRow, now_ms};
use anyhow::{Context, Result};
use cid::Cid;
use libp2p::PeerId;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use wanda_node::net::{MAX_PIN_PAGE, NodeHandle};
use wanda_node::store::PinMode;

/// At most this many pages are read from one peer (a million pins).
pub const MAX_PAGES: usize = 1000;

/// What one synchronisation changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Pins the peer reported (all of them, not only ours).
    pub peer_pins: usize,
    /// Our captures now recorded as pinned by the peer that were not before.
    pub added: usize,
    /// Our captures recorded as pinned by the peer that it no longer pins.
    pub removed: usize,
}

/// Reads every page of `peer`'s pin list and updates PIN_STATUS for our captures: a capture
/// the peer pins recursively is `pinned` by it; a `pinned` row of that peer for a capture it
/// no longer lists is removed, unless it was written after the listing began (a pin receipt
/// that raced it). Emits `replica_update` for every change. Nothing is written unless the
/// whole list was read.
pub async fn sync_peer(
    node: &NodeHandle,
    db: &MetadataDb,
    events: &EventBus,
    peer: PeerId,
) -> Result<SyncReport> {
    let me = node.peer_id().to_string();
    let peer_id = peer.to_string();
    let started_ms = now_ms();
    let ours: HashMap<Cid, String> = db
        .captures()?
        .into_iter()
        .filter_map(|c| c.cid)
        .filter_map(|s| Some((wanda_node::parse_cid(&s).ok()?, s)))
        .collect();

    let mut report = SyncReport::default();
    let mut held = HashSet::new();
    let mut after = None;
    for page_no in 0.. {
        anyhow::ensure!(
            page_no < MAX_PAGES,
            "{peer} lists more than {MAX_PAGES} pages of pins; stopped"
        );
        let page = node
            .peer_pins(peer, after, MAX_PIN_PAGE)
            .await
            .with_context(|| format!("asking {peer} for its pins"))?;
        report.peer_pins += page.pins.len();
        for p in page.pins {
            if p.kind == PinMode::Recursive
                && let Some(s) = ours.get(&p.cid)
            {
                held.insert(s.clone());
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }

    for cid in ours.values() {
        let row = db
            .pin_statuses(cid)?
            .into_iter()
            .find(|r| r.peer_id == peer_id);
        let pinned_row = row.as_ref().is_some_and(|r| r.status == "pinned");
        let changed = if held.contains(cid) {
            if !pinned_row {
                db.put_pin_status(&PinStatusRow {
                    cid: cid.clone(),
                    peer_id: peer_id.clone(),
                    status: "pinned".into(),
                    updated_ms: now_ms(),
                })?;
                report.added += 1;
            }
            !pinned_row
        } else if pinned_row && row.is_some_and(|r| r.updated_ms < started_ms) {
            db.remove_pin_status(cid, &peer_id)?;
            report.removed += 1;
            true
        } else {
            false
        };
        if changed {
            events.emit(
                NS_IPFS,
                "replica_update",
                json!({ "cid": cid, "peer_id": peer_id, "replicas": replicas(db, cid, &me), "ours": true }),
            );
        }
    }
    Ok(report)
}
