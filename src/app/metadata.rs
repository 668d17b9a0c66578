//! The app's metadata database: `$REPO/app.redb` with the CAPTURE, SESSION, PEER and
//! PIN_STATUS tables and the durable publish queue. Every write is one durable redb
//! transaction, so a capture's row and its publish job appear together or not at all.

pub mod network;

use super::rows::{CaptureRow, LoginRow, PeerRow, PinStatusRow, PublishJob, SessionRow};
use anyhow::{Context, Result};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;
use std::sync::Arc;

const CAPTURES: TableDefinition<u64, &[u8]> = TableDefinition::new("capture");
const SESSIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("session");
const PEERS: TableDefinition<&str, &[u8]> = TableDefinition::new("peer");
/// Key: `cid/peer_id`.
const PIN_STATUS: TableDefinition<&str, &[u8]> = TableDefinition::new("pin_status");
/// Key: capture id.
const PUBLISH_QUEUE: TableDefinition<u64, &[u8]> = TableDefinition::new("publish_queue");
/// Network gallery: CID → JSON announcement from a peer (+ `received_ms`).
const NETWORK: TableDefinition<&str, &[u8]> = TableDefinition::new("network_capture");
/// Web UI logins: hex SHA-256 of the session cookie → [`LoginRow`].
const LOGINS: TableDefinition<&str, &[u8]> = TableDefinition::new("login");
/// Counters (`next_capture_id`) and small values (`root_cid`).
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

/// File name of the database inside the repo.
pub const METADATA_FILE: &str = "app.redb";

/// Handle to the metadata database. Cheap to clone.
#[derive(Clone)]
pub struct MetadataDb {
    db: Arc<Database>,
}

fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("rows serialize")
}

fn dec<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).context("corrupt metadata row")
}

impl MetadataDb {
    /// Opens (creating) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::create(path)
            .with_context(|| format!("cannot open metadata database {}", path.display()))?;
        let txn = db.begin_write()?;
        txn.open_table(CAPTURES)?;
        txn.open_table(SESSIONS)?;
        txn.open_table(PEERS)?;
        txn.open_table(PIN_STATUS)?;
        txn.open_table(PUBLISH_QUEUE)?;
        txn.open_table(META)?;
        txn.open_table(NETWORK)?;
        txn.open_table(LOGINS)?;
        txn.commit()?;
        Ok(Self { db: Arc::new(db) })
    }

    /// Inserts a new capture and its publish job (if any) in one durable transaction; assigns
    /// the id. Returns the stored row.
    pub fn insert_capture(
        &self,
        mut row: CaptureRow,
        job: Option<PublishJob>,
    ) -> Result<CaptureRow> {
        let txn = self.db.begin_write()?;
        {
            let mut meta = txn.open_table(META)?;
            let next = match meta.get("next_capture_id")? {
                Some(v) => u64::from_le_bytes(v.value().try_into().unwrap_or([0; 8])),
                None => 1,
            };
            meta.insert(
                "next_capture_id",
                next.wrapping_add(1).to_le_bytes().as_slice(),
            )?;
            row.id = next;
            txn.open_table(CAPTURES)?
                .insert(row.id, enc(&row).as_slice())?;
            if let Some(mut job) = job {
                job.capture_id = row.id;
                txn.open_table(PUBLISH_QUEUE)?
                    .insert(row.id, enc(&job).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(row)
    }

    /// Stores a login under `key` (the hashed cookie); keeps at most `max` logins, dropping
    /// expired ones first, then the oldest.
    pub fn put_login(&self, key: &str, row: &LoginRow, now_ms: u64, max: usize) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut t = txn.open_table(LOGINS)?;
            let mut all: Vec<(String, LoginRow)> = t
                .iter()?
                .map(|e| {
                    let (k, v) = e?;
                    Ok((k.value().to_string(), dec(v.value())?))
                })
                .collect::<Result<_>>()?;
            all.sort_by_key(|(_, r)| r.created_ms);
            let mut keep = all.len();
            for (k, r) in &all {
                if r.expires_ms <= now_ms || keep >= max {
                    t.remove(k.as_str())?;
                    keep -= 1;
                }
            }
            t.insert(key, enc(row).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The login stored under `key`.
    pub fn login(&self, key: &str) -> Result<Option<LoginRow>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(LOGINS)?;
        t.get(key)?.map(|v| dec(v.value())).transpose()
    }

    /// Removes the login stored under `key`.
    pub fn remove_login(&self, key: &str) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(LOGINS)?.remove(key)?;
        txn.commit()?;
        Ok(())
    }

    /// Replaces a capture row.
    pub fn put_capture(&self, row: &CaptureRow) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(CAPTURES)?
            .insert(row.id, enc(row).as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Changes one capture row in place, read and written in one transaction (so a change
    /// made meanwhile by another writer is not lost). Missing rows are left alone.
    pub fn update_capture(&self, id: u64, change: impl FnOnce(&mut CaptureRow)) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut t = txn.open_table(CAPTURES)?;
            let current = t.get(id)?.map(|v| dec(v.value())).transpose()?;
            if let Some(mut row) = current {
                change(&mut row);
                t.insert(id, enc(&row).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// One capture.
    pub fn capture(&self, id: u64) -> Result<Option<CaptureRow>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CAPTURES)?;
        t.get(id)?.map(|v| dec(v.value())).transpose()
    }

    /// Every capture, oldest first.
    pub fn captures(&self) -> Result<Vec<CaptureRow>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(CAPTURES)?;
        t.iter()?
            .map(|e| {
                let (_, v) = e?;
                dec(v.value())
            })
            .collect()
    }

    /// The captures of one session, oldest first.
    pub fn session_captures(&self, session: &str) -> Result<Vec<CaptureRow>> {
        Ok(self
            .captures()?
            .into_iter()
            .filter(|c| c.session.as_deref() == Some(session))
            .collect())
    }

    /// Inserts or replaces a session.
    pub fn put_session(&self, row: &SessionRow) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(SESSIONS)?
            .insert(row.name.as_str(), enc(row).as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Reads, changes and writes a session in one transaction (the session runner and the
    /// publisher both update session rows). Returns the new row; `None` if there is none.
    pub fn update_session(
        &self,
        name: &str,
        change: impl FnOnce(&mut SessionRow),
    ) -> Result<Option<SessionRow>> {
        let txn = self.db.begin_write()?;
        let row = {
            let mut t = txn.open_table(SESSIONS)?;
            let current: Option<SessionRow> = t.get(name)?.map(|v| dec(v.value())).transpose()?;
            match current {
                Some(mut row) => {
                    change(&mut row);
                    t.insert(name, enc(&row).as_slice())?;
                    Some(row)
                }
                None => None,
            }
        };
        txn.commit()?;
        Ok(row)
    }

    /// One session.
    pub fn session(&self, name: &str) -> Result<Option<SessionRow>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(SESSIONS)?;
        t.get(name)?.map(|v| dec(v.value())).transpose()
    }

    /// Every session, by name.
    pub fn sessions(&self) -> Result<Vec<SessionRow>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(SESSIONS)?;
        t.iter()?
            .map(|e| {
                let (_, v) = e?;
                dec(v.value())
            })
            .collect()
    }

    /// Inserts or replaces a peer.
    pub fn put_peer(&self, row: &PeerRow) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(PEERS)?
            .insert(row.peer_id.as_str(), enc(row).as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Every known peer.
    pub fn peers(&self) -> Result<Vec<PeerRow>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(PEERS)?;
        t.iter()?
            .map(|e| {
                let (_, v) = e?;
                dec(v.value())
            })
            .collect()
    }

    /// Inserts or replaces a pin status.
    pub fn put_pin_status(&self, row: &PinStatusRow) -> Result<()> {
        let key = format!("{}/{}", row.cid, row.peer_id);
        let txn = self.db.begin_write()?;
        txn.open_table(PIN_STATUS)?
            .insert(key.as_str(), enc(row).as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Forgets that `peer_id` pins `cid` (e.g. its pin list no longer has it). Returns whether
    /// there was a row.
    pub fn remove_pin_status(&self, cid: &str, peer_id: &str) -> Result<bool> {
        let key = format!("{cid}/{peer_id}");
        let txn = self.db.begin_write()?;
        let removed = txn.open_table(PIN_STATUS)?.remove(key.as_str())?.is_some();
        txn.commit()?;
        Ok(removed)
    }

    /// Who pins `cid`.
    pub fn pin_statuses(&self, cid: &str) -> Result<Vec<PinStatusRow>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(PIN_STATUS)?;
        let start = format!("{cid}/");
        let end = format!("{cid}0"); // '0' follows '/' in ASCII
        t.range(start.as_str()..end.as_str())?
            .map(|e| {
                let (_, v) = e?;
                dec(v.value())
            })
            .collect()
    }

    /// Every queued publish job.
    pub fn jobs(&self) -> Result<Vec<PublishJob>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(PUBLISH_QUEUE)?;
        t.iter()?
            .map(|e| {
                let (_, v) = e?;
                dec(v.value())
            })
            .collect()
    }

    /// Stores a job (new stage or retry time).
    pub fn put_job(&self, job: &PublishJob) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(PUBLISH_QUEUE)?
            .insert(job.capture_id, enc(job).as_slice())?;
        txn.commit()?;
        Ok(())
    }

    /// Records a capture's new state and its job's next state (or removes the job) in one
    /// transaction.
    pub fn advance(&self, row: &CaptureRow, job: Option<&PublishJob>) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            txn.open_table(CAPTURES)?
                .insert(row.id, enc(row).as_slice())?;
            let mut q = txn.open_table(PUBLISH_QUEUE)?;
            match job {
                Some(j) => {
                    q.insert(j.capture_id, enc(j).as_slice())?;
                }
                None => {
                    q.remove(row.id)?;
                }
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Records a capture announced by a peer (network gallery); keeps the first receive time.
    pub fn put_network_capture(&self, a: &wanda_node::net::CaptureAnnouncement) -> Result<()> {
        let txn = self.db.begin_write()?;
        {
            let mut t = txn.open_table(NETWORK)?;
            if t.get(a.cid.as_str())?.is_none() {
                let mut v = serde_json::to_value(a)?;
                v["received_ms"] = serde_json::json!(super::rows::now_ms());
                t.insert(a.cid.as_str(), enc(&v).as_slice())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// One network capture (announcement JSON + `received_ms`).
    pub fn network_capture(&self, cid: &str) -> Result<Option<serde_json::Value>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(NETWORK)?;
        t.get(cid)?.map(|v| dec(v.value())).transpose()
    }

    /// Every capture announced by peers.
    pub fn network_captures(&self) -> Result<Vec<serde_json::Value>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(NETWORK)?;
        t.iter()?
            .map(|e| {
                let (_, v) = e?;
                dec(v.value())
            })
            .collect()
    }

    /// Drops the job of a capture (e.g. its row is gone).
    pub fn remove_job(&self, capture_id: u64) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(PUBLISH_QUEUE)?.remove(capture_id)?;
        txn.commit()?;
        Ok(())
    }

    /// A small stored value.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        let txn = self.db.begin_read()?;
        let t = txn.open_table(META)?;
        Ok(t.get(key)?
            .map(|v| String::from_utf8_lossy(v.value()).into_owned()))
    }

    /// Stores a small value.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(META)?.insert(key, value.as_bytes())?;
        txn.commit()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::rows::{PublishStage, now_ms};

    pub(crate) fn row(session: Option<&str>, name: &str) -> CaptureRow {
        CaptureRow {
            id: 0,
            session: session.map(str::to_string),
            filename: name.into(),
            rel_path: name.into(),
            thumbnail: None,
            kind: "jpeg".into(),
            size: 1,
            width: 1,
            height: 1,
            exposure_us: 1,
            gain: 1.0,
            captured_at_ms: now_ms(),
            cid: None,
            dag_size: None,
            is_pinned: false,
            is_synced: false,
            local: true,
            publish_error: None,
        }
    }

    #[test]
    fn capture_and_job_are_written_together_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METADATA_FILE);
        {
            let db = MetadataDb::open(&path).unwrap();
            let job = PublishJob {
                capture_id: 0,
                stage: PublishStage::Add,
                attempts: 0,
                not_before_ms: 0,
            };
            let a = db
                .insert_capture(row(Some("m31"), "a.jpg"), Some(job.clone()))
                .unwrap();
            let b = db.insert_capture(row(None, "b.jpg"), None).unwrap();
            assert_eq!((a.id, b.id), (1, 2));
            assert_eq!(db.jobs().unwrap().len(), 1);
            assert_eq!(db.jobs().unwrap()[0].capture_id, 1);
        }
        let db = MetadataDb::open(&path).unwrap();
        assert_eq!(db.captures().unwrap().len(), 2);
        assert_eq!(db.session_captures("m31").unwrap().len(), 1);
        let mut a = db.capture(1).unwrap().unwrap();
        a.cid = Some("x".into());
        db.advance(&a, None).unwrap();
        assert!(db.jobs().unwrap().is_empty());
        assert_eq!(db.capture(1).unwrap().unwrap().cid.as_deref(), Some("x"));
        let c = db.insert_capture(row(None, "c.jpg"), None).unwrap();
        assert_eq!(c.id, 3, "ids are never reused");
    }

    #[test]
    fn pin_status_by_cid() {
        let dir = tempfile::tempdir().unwrap();
        let db = MetadataDb::open(&dir.path().join(METADATA_FILE)).unwrap();
        for (cid, peer) in [("Qa", "p1"), ("Qa", "p2"), ("Qab", "p1")] {
            db.put_pin_status(&PinStatusRow {
                cid: cid.into(),
                peer_id: peer.into(),
                status: "pinned".into(),
                updated_ms: 0,
            })
            .unwrap();
        }
        assert_eq!(db.pin_statuses("Qa").unwrap().len(), 2);
        assert_eq!(db.pin_statuses("Qab").unwrap().len(), 1);
        assert!(db.remove_pin_status("Qa", "p1").unwrap());
        assert!(!db.remove_pin_status("Qa", "p1").unwrap());
        let left = db.pin_statuses("Qa").unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].peer_id, "p2");
        assert_eq!(db.pin_statuses("Qab").unwrap().len(), 1);
    }
}
