//! The network side of the metadata database, written in batches and bounded: the gallery of
//! captures peers announced (NETWORK), the telescopes met (PEER) and who holds which capture
//! (PIN_STATUS). Every message from the network is untrusted, so a batch of them is one
//! transaction (not one durable commit each), receipts count only for captures this node
//! knows, and each table has a cap: the oldest rows go first.

use super::{MetadataDb, NETWORK, PEERS, PIN_STATUS, dec, enc};
use crate::app::rows::{PeerRow, PinStatusRow, now_ms};
use anyhow::Result;
use redb::{ReadableTable, ReadableTableMetadata};
use wanda_node::net::CaptureAnnouncement;

/// Captures from one telescope kept in the gallery; its oldest go first.
pub const MAX_GALLERY_PER_PEER: usize = 2_000;
/// Telescopes remembered; the longest unseen go first.
pub const MAX_PEERS: usize = 1_000;
/// Holders recorded for one capture.
pub const MAX_HOLDERS_PER_CID: usize = 64;

/// What arrived from the network since the last batch.
#[derive(Debug, Default)]
pub struct NetworkBatch {
    /// Announcements (each already checked to be signed by its `node`).
    pub announcements: Vec<CaptureAnnouncement>,
    /// Pin receipts as (cid, holder) (each signed by its holder).
    pub receipts: Vec<(String, String)>,
}

/// What a batch changed.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Announcements of captures the gallery did not have yet.
    pub new_captures: Vec<CaptureAnnouncement>,
    /// Receipts recorded, as (cid, holder).
    pub receipts: Vec<(String, String)>,
    /// Receipts dropped: the capture is unknown here, or it has too many holders already.
    pub receipts_dropped: usize,
    /// Rows removed to keep the tables within their caps.
    pub pruned: usize,
}

impl MetadataDb {
    /// Records a batch in one transaction; `me` is this node's peer id; the gallery keeps at
    /// most `max_gallery` captures.
    pub fn record_network(
        &self,
        batch: &NetworkBatch,
        me: &str,
        max_gallery: usize,
    ) -> Result<BatchOutcome> {
        let mut out = BatchOutcome::default();
        let now = now_ms();
        let txn = self.db.begin_write()?;
        {
            let mut net = txn.open_table(NETWORK)?;
            let mut peers = txn.open_table(PEERS)?;
            let mut status = txn.open_table(PIN_STATUS)?;
            for a in &batch.announcements {
                if net.get(a.cid.as_str())?.is_none() {
                    let mut v = serde_json::to_value(a)?;
                    v["received_ms"] = serde_json::json!(now);
                    net.insert(a.cid.as_str(), enc(&v).as_slice())?;
                    out.new_captures.push(a.clone());
                }
                let mut row: PeerRow = match peers.get(a.node.as_str())? {
                    Some(v) => dec(v.value())?,
                    None => PeerRow {
                        peer_id: a.node.clone(),
                        multiaddr: String::new(),
                        last_seen_ms: 0,
                        location: None,
                        is_wanda_node: true,
                        images_shared: 0,
                        bytes_replicated: 0,
                    },
                };
                row.is_wanda_node = true;
                row.last_seen_ms = now;
                if a.location.is_some() {
                    row.location = a.location.clone();
                }
                peers.insert(a.node.as_str(), enc(&row).as_slice())?;
            }
            for (cid, holder) in &batch.receipts {
                let known = net.get(cid.as_str())?.is_some()
                    || status.get(format!("{cid}/{me}").as_str())?.is_some();
                let start = format!("{cid}/");
                let end = format!("{cid}0");
                let holders = status.range(start.as_str()..end.as_str())?.count();
                let key = format!("{cid}/{holder}");
                let exists = status.get(key.as_str())?.is_some();
                if !known || (!exists && holders >= MAX_HOLDERS_PER_CID) {
                    out.receipts_dropped += 1;
                    continue;
                }
                let row = PinStatusRow {
                    cid: cid.clone(),
                    peer_id: holder.clone(),
                    status: "pinned".into(),
                    updated_ms: now,
                };
                status.insert(key.as_str(), enc(&row).as_slice())?;
                out.receipts.push((cid.clone(), holder.clone()));
            }
            out.pruned += prune_gallery(&mut net, max_gallery)?;
            out.pruned += prune_peers(&mut peers)?;
        }
        txn.commit()?;
        Ok(out)
    }
}

/// Keeps the gallery within `max` captures and every telescope within
/// [`MAX_GALLERY_PER_PEER`]; removes the oldest received first. Only scans when over a cap,
/// and then goes 10 % under it, so the scan is rare.
fn prune_gallery(net: &mut redb::Table<&str, &[u8]>, max: usize) -> Result<usize> {
    let len = net.len()? as usize;
    // (received, cid, node)
    let mut rows: Vec<(u64, String, String)> = Vec::new();
    let mut per_peer: std::collections::HashMap<String, usize> = Default::default();
    let scan = len > max || len > MAX_GALLERY_PER_PEER;
    if !scan {
        return Ok(0);
    }
    for e in net.iter()? {
        let (k, v) = e?;
        let v: serde_json::Value = dec(v.value())?;
        let node = v["node"].as_str().unwrap_or("").to_string();
        *per_peer.entry(node.clone()).or_default() += 1;
        rows.push((
            v["received_ms"].as_u64().unwrap_or(0),
            k.value().to_string(),
            node,
        ));
    }
    rows.sort();
    let mut remove = std::collections::HashSet::new();
    for (node, n) in &per_peer {
        if *n > MAX_GALLERY_PER_PEER {
            let excess = n - MAX_GALLERY_PER_PEER * 9 / 10;
            for (_, cid, _) in rows.iter().filter(|r| &r.2 == node).take(excess) {
                remove.insert(cid.clone());
            }
        }
    }
    let left = len - remove.len();
    if left > max {
        let mut excess = left - max * 9 / 10;
        for (_, cid, _) in &rows {
            if excess == 0 {
                break;
            }
            if remove.insert(cid.clone()) {
                excess -= 1;
            }
        }
    }
    for cid in &remove {
        net.remove(cid.as_str())?;
    }
    Ok(remove.len())
}

/// Keeps at most [`MAX_PEERS`] telescopes; the longest unseen go first.
fn prune_peers(peers: &mut redb::Table<&str, &[u8]>) -> Result<usize> {
    let len = peers.len()? as usize;
    if len <= MAX_PEERS {
        return Ok(0);
    }
    let mut rows: Vec<(u64, String)> = Vec::new();
    for e in peers.iter()? {
        let (k, v) = e?;
        let r: PeerRow = dec(v.value())?;
        rows.push((r.last_seen_ms, k.value().to_string()));
    }
    rows.sort();
    let n = len - MAX_PEERS * 9 / 10;
    for (_, p) in rows.iter().take(n) {
        peers.remove(p.as_str())?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(i: usize, node: &str) -> CaptureAnnouncement {
        // distinct valid CIDs: identity multihashes of the index
        let cid = cid::Cid::new_v1(
            0x55,
            multihash_codetable::Code::Sha2_256.digest(&i.to_le_bytes()),
        );
        CaptureAnnouncement {
            version: 1,
            cid: cid.to_string(),
            node: node.into(),
            session: "s".into(),
            timestamp_ms: i as u64,
            size: 1,
            kind: "jpeg".into(),
            location: None,
        }
    }
    use multihash_codetable::MultihashDigest;

    #[test]
    fn receipts_count_only_for_known_captures_and_holders_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let db = MetadataDb::open(&dir.path().join("app.redb")).unwrap();
        let a = ann(1, "P");
        let mut b = NetworkBatch::default();
        b.announcements.push(a.clone());
        b.receipts.push((a.cid.clone(), "H1".into()));
        b.receipts.push(("bafkqaaa".into(), "H1".into()));
        let out = db.record_network(&b, "me", 100).unwrap();
        assert_eq!(out.new_captures.len(), 1);
        assert_eq!(out.receipts, vec![(a.cid.clone(), "H1".to_string())]);
        assert_eq!(out.receipts_dropped, 1, "unknown capture");
        // exactly at the cap of holders, then one past it
        let mut b = NetworkBatch::default();
        for i in 2..=MAX_HOLDERS_PER_CID {
            b.receipts.push((a.cid.clone(), format!("H{i}")));
        }
        b.receipts.push((a.cid.clone(), "one-too-many".into()));
        let out = db.record_network(&b, "me", 100).unwrap();
        assert_eq!(out.receipts.len(), MAX_HOLDERS_PER_CID - 1);
        assert_eq!(out.receipts_dropped, 1);
        assert_eq!(db.pin_statuses(&a.cid).unwrap().len(), MAX_HOLDERS_PER_CID);
    }

    #[test]
    fn the_gallery_and_peers_stay_within_their_caps() {
        let dir = tempfile::tempdir().unwrap();
        let db = MetadataDb::open(&dir.path().join("app.redb")).unwrap();
        let mut b = NetworkBatch::default();
        for i in 0..100 {
            b.announcements.push(ann(i, "P"));
        }
        db.record_network(&b, "me", 100).unwrap();
        assert_eq!(
            db.network_captures().unwrap().len(),
            100,
            "exactly at the cap"
        );
        let mut b = NetworkBatch::default();
        b.announcements.push(ann(100, "Q"));
        let out = db.record_network(&b, "me", 100).unwrap();
        assert!(out.pruned > 0);
        let left = db.network_captures().unwrap();
        assert!(left.len() <= 100);
        assert!(left.iter().any(|v| v["node"] == "Q"), "the newest stays");
        // a flood of telescopes
        let mut b = NetworkBatch::default();
        for i in 0..(MAX_PEERS + 1) {
            b.announcements.push(ann(1000 + i, &format!("peer{i}")));
        }
        db.record_network(&b, "me", 100_000).unwrap();
        assert!(db.peers().unwrap().len() <= MAX_PEERS);
    }
}
