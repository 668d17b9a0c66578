//! The storage router's synchronous half — what a capture waits for: space check (with GC
//! first when short), atomic durable save of the JPEG, its CAPTURE row and publish job in one
//! durable transaction, an event and a wake-up for the publish worker (publishing starts
//! here), then the thumbnail, then the raw file and its row. Publishing never delays the
//! camera.

use super::events::{EventBus, NS_IPFS};
use super::local_save::{StorageFull, check_space, save_atomic};
use super::metadata::MetadataDb;
use super::rows::{CaptureRow, PublishJob, PublishStage, now_ms};
use super::thumbnail::thumbnail_jpeg;
use anyhow::Result;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Notify;
use wanda_hardware::Capture;
use wanda_node::store::Blockstore;

/// Saves captures and queues them for publishing.
#[derive(Clone)]
pub struct CaptureStore {
    /// Captures directory (sessions are sub-folders).
    pub captures_dir: PathBuf,
    /// Thumbnails, mirroring the captures' relative paths (outside the captures directory so
    /// WANDA's folder listings stay as they were).
    pub thumbs_dir: PathBuf,
    /// Metadata and queue.
    pub db: MetadataDb,
    /// UI events.
    pub events: EventBus,
    /// Wakes the publish worker.
    pub wake: Arc<Notify>,
    /// Set when session or root directories must be rebuilt without a new capture (a session
    /// ended); the publish worker clears it.
    pub dirs_dirty: Arc<std::sync::atomic::AtomicBool>,
    /// Queue captures for publishing.
    pub publish: bool,
    /// Bytes that must stay free on the captures' disk.
    pub min_free: u64,
    /// Longest thumbnail side.
    pub thumbnail_px: u32,
    /// The node's store (GC when the disk runs short).
    pub store: Blockstore,
}

/// What one saved capture produced.
#[derive(Debug, Clone)]
pub struct Saved {
    /// The JPEG's row.
    pub jpeg: CaptureRow,
    /// The raw file's row, when one was saved.
    pub raw: Option<CaptureRow>,
}

impl CaptureStore {
    /// Saves `capture` as `file_name` (a `.jpg` name) in `session`'s folder (or the root).
    /// Blocking (fsync); call from `spawn_blocking`. Returns once the files are durable and the
    /// rows committed.
    pub fn save(&self, capture: &Capture, session: Option<&str>, file_name: &str) -> Result<Saved> {
        let dir = match session {
            Some(s) => self.captures_dir.join(s),
            None => self.captures_dir.clone(),
        };
        std::fs::create_dir_all(&dir)?;
        let needed = capture.jpeg.len() as u64
            + capture.raw.as_ref().map_or(0, |r| r.bytes.len() as u64)
            + 64 * 1024;
        self.ensure_space(&dir, needed)?;
        let captured_at_ms = now_ms();
        save_atomic(&dir, file_name, &capture.jpeg)?;
        let row = CaptureRow {
            id: 0,
            session: session.map(str::to_string),
            filename: file_name.to_string(),
            rel_path: rel(session, file_name),
            // written just below, after the commit (see `write_thumbnail`)
            thumbnail: Some(rel(session, file_name)),
            kind: "jpeg".into(),
            size: capture.jpeg.len() as u64,
            width: capture.width,
            height: capture.height,
            exposure_us: capture.settings.exposure_us,
            gain: capture.settings.gain,
            captured_at_ms,
            cid: None,
            dag_size: None,
            is_pinned: false,
            is_synced: false,
            local: true,
            publish_error: None,
        };
        let jpeg = self.commit(row)?;
        // The capture is durable and queued: publishing starts now, on the other core, while
        // the thumbnail is made (it is not needed to publish).
        self.wake.notify_one();
        let jpeg = self.write_thumbnail(jpeg, &capture.jpeg);
        let raw = match &capture.raw {
            Some(raw) => {
                let stem = file_name.rsplit_once('.').map_or(file_name, |(s, _)| s);
                let raw_name = format!("{stem}.{}", raw.format.extension());
                save_atomic(&dir, &raw_name, &raw.bytes)?;
                let row = CaptureRow {
                    filename: raw_name.clone(),
                    rel_path: rel(session, &raw_name),
                    thumbnail: None,
                    kind: raw.format.extension().into(),
                    size: raw.bytes.len() as u64,
                    ..jpeg.clone()
                };
                Some(self.commit(row)?)
            }
            None => None,
        };
        self.wake.notify_one();
        Ok(Saved { jpeg, raw })
    }

    /// Makes and saves the thumbnail the committed `row` names; when that fails (logged) the
    /// row's thumbnail is cleared so nothing links to a missing file. Startup recovery remakes
    /// thumbnails a crash left out ([`Self::ensure_thumbnail`]).
    fn write_thumbnail(&self, mut row: CaptureRow, jpeg: &[u8]) -> CaptureRow {
        let Some(thumb) = row.thumbnail.clone() else {
            return row;
        };
        if let Err(e) = self.save_thumbnail(&thumb, jpeg) {
            tracing::warn!("thumbnail of {}: {e:#}", row.rel_path);
            row.thumbnail = None;
            if let Err(e) = self.db.update_capture(row.id, |r| r.thumbnail = None) {
                tracing::warn!("capture {}: {e:#}", row.id);
            }
        }
        row
    }

    /// Thumbnail of `jpeg` saved (atomically) as `thumbs_dir/<thumb_rel>`.
    fn save_thumbnail(&self, thumb_rel: &str, jpeg: &[u8]) -> Result<()> {
        let thumbnail = thumbnail_jpeg(jpeg, self.thumbnail_px)?;
        let (sub, name) = thumb_rel.rsplit_once('/').unwrap_or(("", thumb_rel));
        save_atomic(&self.thumbs_dir.join(sub), name, &thumbnail)?;
        Ok(())
    }

    /// Makes `row`'s thumbnail when its file is missing (a crash between the row's commit and
    /// the thumbnail), or gives a thumbnail-less JPEG row one. Returns whether it wrote one.
    pub fn ensure_thumbnail(&self, row: &CaptureRow) -> Result<bool> {
        if row.kind != "jpeg" {
            return Ok(false);
        }
        let thumb = row
            .thumbnail
            .clone()
            .unwrap_or_else(|| row.rel_path.clone());
        if self.thumbs_dir.join(&thumb).is_file() {
            return Ok(false);
        }
        let jpeg = std::fs::read(self.captures_dir.join(&row.rel_path))?;
        self.save_thumbnail(&thumb, &jpeg)?;
        if row.thumbnail.is_none() {
            self.db
                .update_capture(row.id, |r| r.thumbnail = Some(thumb.clone()))?;
        }
        Ok(true)
    }

    /// Inserts the row and (when publishing) its job in one transaction.
    fn commit(&self, mut row: CaptureRow) -> Result<CaptureRow> {
        row.id = 0;
        let job = self.publish.then_some(PublishJob {
            capture_id: 0,
            stage: PublishStage::Add,
            attempts: 0,
            not_before_ms: 0,
        });
        let row = self.db.insert_capture(row, job)?;
        if self.publish {
            self.events.emit(
                NS_IPFS,
                "ipfs_upload_started",
                json!({ "capture_id": row.id, "filename": row.filename, "path": row.rel_path, "session": row.session }),
            );
        }
        Ok(row)
    }

    /// Space check; when short, garbage-collects unpinned blocks once and checks again, then
    /// raises a `storage_alert` event and refuses.
    fn ensure_space(&self, dir: &Path, needed: u64) -> Result<()> {
        match check_space(dir, needed, self.min_free) {
            Ok(()) => return Ok(()),
            Err(e) if e.downcast_ref::<StorageFull>().is_none() => return Err(e),
            Err(_) => {}
        }
        match wanda_node::gc::collect_garbage(&self.store) {
            Ok(r) => tracing::info!("disk short: GC removed {} blocks", r.removed.len()),
            Err(e) => tracing::warn!("disk short and GC failed: {e}"),
        }
        check_space(dir, needed, self.min_free).inspect_err(|e| {
            self.events.emit(
                NS_IPFS,
                "storage_alert",
                json!({ "code": "IPFS_STORAGE_FULL", "error": e.to_string() }),
            );
        })
    }
}

/// `session/file` or `file`.
pub fn rel(session: Option<&str>, file: &str) -> String {
    match session {
        Some(s) => format!("{s}/{file}"),
        None => file.to_string(),
    }
}
