//! The publish worker: takes durable jobs from the metadata database and, for each capture,
//! adds the file to the node and pins it, refreshes its session directory and the node's root
//! directory, then provides it on the DHT and announces it on gossipsub. Each stage is
//! committed before the next starts, so a kill -9 resumes at the stage that was running.
//! Failed stages retry with exponential backoff; with no network, captures stay local and
//! announcements wait.

use super::config::PublishConfig;
use super::events::{EventBus, NS_IPFS};
use super::metadata::MetadataDb;
use super::rows::{CaptureRow, PinStatusRow, PublishJob, PublishStage, now_ms};
use super::session_dir::SessionDirs;
use anyhow::{Context, Result};
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};
use wanda_node::net::{ANNOUNCEMENT_VERSION, CaptureAnnouncement, NodeHandle};
use wanda_node::store::{Blockstore, PinMode, PinRecord};
use wanda_node::unixfs::{AddEvent, AddOptions, Importer, StoreSink};

/// Everything the worker needs.
#[derive(Clone)]
pub struct Publisher {
    /// Where captures are.
    pub captures_dir: PathBuf,
    /// The node's blocks.
    pub store: Blockstore,
    /// The running node (`None`: no network at all; captures are added, never announced).
    pub node: Option<NodeHandle>,
    /// Metadata and queue.
    pub db: MetadataDb,
    /// UI events.
    pub events: EventBus,
    /// Policy.
    pub config: PublishConfig,
    /// Gossipsub topic of announcements.
    pub topic: String,
    /// Our peer id (in announcements).
    pub peer_id: String,
    /// Base URL of our gateway (for events), e.g. `http://127.0.0.1:8080`.
    pub gateway_url: Option<String>,
    /// Wakes the worker when a job is queued.
    pub wake: Arc<Notify>,
    /// Session and root directories.
    pub dirs: SessionDirs,
    /// Rebuild directories even without new adds (set when a session ends).
    pub dirs_dirty: Arc<std::sync::atomic::AtomicBool>,
    /// Collect unpinned blocks above this many stored bytes.
    pub gc_threshold: Option<u64>,
    /// Remote pinning service, if configured.
    pub remote: Option<super::pinning_service::PinningService>,
    /// `telescope.location`, sent with announcements.
    pub location: Option<String>,
    /// The newest root directory, for [`name_root`].
    pub root_tx: Arc<watch::Sender<Option<String>>>,
}

/// Points the node's IPNS name at the newest root directory, in the background: waits for a
/// new root, publishes it (a DHT put), repeats; roots that arrive meanwhile collapse into the
/// newest, so the name never goes back to an older root.
pub async fn name_root(
    dirs: SessionDirs,
    node: NodeHandle,
    mut roots: watch::Receiver<Option<String>>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            r = roots.changed() => if r.is_err() { return },
            _ = stop.changed() => return,
        }
        let root = roots.borrow_and_update().clone();
        if let Some(root) = root {
            dirs.publish_root_name(&node, &root).await;
        }
    }
}

/// Delay before retry `attempt` (1, 2, 4 … seconds, capped).
pub fn backoff(attempt: u32, cap_s: u64) -> Duration {
    let s = 1u64
        .checked_shl(attempt.saturating_sub(1).min(20))
        .unwrap_or(u64::MAX);
    Duration::from_secs(s.min(cap_s.max(1)))
}

impl Publisher {
    /// Runs until `stop` becomes true. Jobs left at shutdown stay queued.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let next_due = match self.run_due_jobs().await {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!("publish queue: {e:#}");
                    Some(now_ms() + 1000)
                }
            };
            let sleep = match next_due {
                Some(t) => Duration::from_millis(t.saturating_sub(now_ms()).max(10)),
                None => Duration::from_secs(3600),
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(sleep) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Runs every job that is due; returns when the next one will be (if any).
    async fn run_due_jobs(&self) -> Result<Option<u64>> {
        let mut jobs = self.db.jobs()?;
        // adds first: a slow announcement must never delay the next capture's CID
        jobs.sort_by_key(|j| (j.stage != PublishStage::Add, j.capture_id));
        let now = now_ms();
        let mut next = None::<u64>;
        let mut added_any = false;
        for job in jobs {
            if job.not_before_ms > now {
                next = Some(next.map_or(job.not_before_ms, |n| n.min(job.not_before_ms)));
                continue;
            }
            let Some(row) = self.db.capture(job.capture_id)? else {
                // the capture row is gone: nothing to publish
                self.db.remove_job(job.capture_id)?;
                continue;
            };
            let result = match job.stage {
                PublishStage::Add => self.stage_add(row.clone()).await,
                PublishStage::Remote => self.stage_remote(row.clone()).await,
                PublishStage::Announce => self.stage_announce(row.clone()).await,
            };
            match result {
                Ok(updated) => {
                    let next_job = match job.stage {
                        PublishStage::Add | PublishStage::Remote => {
                            added_any |= job.stage == PublishStage::Add;
                            let stage = if job.stage == PublishStage::Add && self.remote.is_some() {
                                PublishStage::Remote
                            } else {
                                PublishStage::Announce
                            };
                            Some(PublishJob {
                                capture_id: row.id,
                                stage,
                                attempts: 0,
                                not_before_ms: 0,
                            })
                        }
                        PublishStage::Announce => None,
                    };
                    self.db.advance(&updated, next_job.as_ref())?;
                    if job.stage == PublishStage::Add
                        && updated.is_pinned
                        && let Some(cid) = &updated.cid
                    {
                        self.db.put_pin_status(&PinStatusRow {
                            cid: cid.clone(),
                            peer_id: self.peer_id.clone(),
                            status: "pinned".into(),
                            updated_ms: now_ms(),
                        })?;
                    }
                    if next_job.is_some() {
                        next = Some(now);
                    }
                    self.emit_done(&updated, job.stage);
                }
                Err(e) => {
                    let attempts = job.attempts + 1;
                    let wait = backoff(attempts, self.config.max_retry_delay_s);
                    let retry = PublishJob {
                        attempts,
                        not_before_ms: now_ms() + wait.as_millis() as u64,
                        ..job.clone()
                    };
                    next = Some(next.map_or(retry.not_before_ms, |n| n.min(retry.not_before_ms)));
                    if job.stage == PublishStage::Announce {
                        // normal while no peer is around: the capture is saved, added and
                        // pinned; the announcement goes out when someone listens
                        tracing::debug!("announcing {} postponed {wait:?}: {e:#}", row.rel_path);
                        self.db.put_job(&retry)?;
                        continue;
                    }
                    let mut failed = row.clone();
                    failed.publish_error = Some(format!("{e:#}"));
                    self.db.advance(&failed, Some(&retry))?;
                    tracing::warn!(
                        "adding {} to IPFS failed (attempt {attempts}), retry in {wait:?}: {e:#}",
                        row.rel_path
                    );
                    self.events.emit(
                        NS_IPFS,
                        "ipfs_upload_error",
                        json!({
                            "capture_id": row.id,
                            "filename": row.filename,
                            "session": row.session,
                            "attempts": attempts,
                            "retry_in_s": wait.as_secs(),
                            "error": format!("{e:#}"),
                        }),
                    );
                }
            }
        }
        let dirty = self
            .dirs_dirty
            .swap(false, std::sync::atomic::Ordering::SeqCst);
        if added_any || dirty {
            let dirs = self.dirs.clone();
            let changed = tokio::task::spawn_blocking(move || dirs.refresh()).await??;
            for (name, cid) in &changed.sessions {
                self.events.emit(
                    NS_IPFS,
                    "sync_progress",
                    json!({ "session": name, "session_cid": cid, "root_cid": changed.root }),
                );
            }
            if let Some(root) = &changed.root {
                // named by IPNS in the background (`name_root`): DHT puts take seconds
                self.root_tx.send_replace(Some(root.clone()));
            }
            self.trim_local_files()?;
            self.gc_above_watermark().await;
        }
        Ok(next)
    }

    /// Runs GC of unpinned blocks (e.g. content fetched for the network gallery) once the
    /// store passes the watermark. Pinned captures are never collected.
    async fn gc_above_watermark(&self) {
        let Some(limit) = self.gc_threshold else {
            return;
        };
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<Option<(u64, usize)>> {
            let used = store.stats()?.block_bytes;
            if used <= limit {
                return Ok(None);
            }
            let r = wanda_node::gc::collect_garbage(&store)?;
            Ok(Some((r.freed_bytes, r.removed.len())))
        })
        .await;
        match result {
            Ok(Ok(Some((freed, blocks)))) => {
                tracing::info!(
                    "store above the GC watermark: removed {blocks} unpinned blocks ({freed} bytes)"
                );
                self.events.emit(
                    NS_IPFS,
                    "gc_complete",
                    json!({ "removed_blocks": blocks, "freed_bytes": freed }),
                );
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::warn!("GC at the watermark failed: {e:#}"),
            Err(e) => tracing::warn!("GC task failed: {e}"),
        }
    }

    /// Adds the capture's file to the node (pinned per policy), durably.
    async fn stage_add(&self, mut row: CaptureRow) -> Result<CaptureRow> {
        let path = self.captures_dir.join(&row.rel_path);
        let store = self.store.clone();
        let pin = self.config.auto_pin;
        let (cid, dag_size) = tokio::task::spawn_blocking(move || -> Result<_> {
            let file = std::fs::File::open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            let mut sink = StoreSink::new(&store)?;
            let mut ev = |_: AddEvent<'_>| {};
            let imported = Importer::new(AddOptions::default(), &mut sink, &mut ev)?
                .import_stream(std::io::BufReader::with_capacity(1 << 20, file))?;
            let pin = pin.then_some((
                imported.cid,
                PinRecord {
                    mode: PinMode::Recursive,
                    name: None,
                },
            ));
            sink.finish(pin)?;
            Ok((imported.cid, imported.dag_size))
        })
        .await??;
        if let Some(node) = &self.node {
            node.block_added(cid);
        }
        row.cid = Some(cid.to_string());
        row.dag_size = Some(dag_size);
        row.is_pinned = pin;
        row.publish_error = None;
        Ok(row)
    }

    /// Asks the remote pinning service for a copy (once per CID) and records its status in
    /// PIN_STATUS under `pinning-service`; `remote::follow` tracks it to `pinned`/`failed`.
    async fn stage_remote(&self, row: CaptureRow) -> Result<CaptureRow> {
        let Some(service) = self.remote.clone() else {
            return Ok(row);
        };
        let cid = row.cid.clone().context("capture has no CID yet")?;
        let origins = match &self.node {
            Some(n) => n
                .listen_addrs()
                .await
                .map(|a| {
                    a.into_iter()
                        .map(|m| format!("{m}/p2p/{}", n.peer_id()))
                        .collect()
                })
                .unwrap_or_default(),
            None => vec![],
        };
        let pin = super::pinning_service::Pin {
            cid: cid.clone(),
            name: Some(row.rel_path.clone()),
            origins,
        };
        let status = tokio::task::spawn_blocking(move || service.ensure(&pin)).await??;
        self.db.put_pin_status(&PinStatusRow {
            cid,
            peer_id: super::pinning_service::SERVICE_PEER.into(),
            status: status.status.clone(),
            updated_ms: now_ms(),
        })?;
        self.events.emit(
            NS_IPFS,
            "remote_pin_status",
            json!({ "capture_id": row.id, "cid": row.cid, "status": status.status, "requestid": status.requestid }),
        );
        Ok(row)
    }

    /// Provides the capture on the DHT and announces it on gossipsub.
    async fn stage_announce(&self, mut row: CaptureRow) -> Result<CaptureRow> {
        let node = self
            .node
            .as_ref()
            .context("the node is offline: announcement postponed")?;
        let cid_text = row.cid.clone().context("capture has no CID yet")?;
        let cid = wanda_node::parse_cid(&cid_text)?;
        // the provider record goes out in the background: a DHT query can take seconds and
        // must not hold up the queue; gossipsub is what peers react to
        let provider = node.clone();
        tokio::spawn(async move {
            if let Err(e) = provider.provide(cid).await {
                tracing::debug!("providing {cid}: {e}");
            }
        });
        let msg = CaptureAnnouncement {
            version: ANNOUNCEMENT_VERSION,
            cid: cid_text,
            node: self.peer_id.clone(),
            session: row.session.clone().unwrap_or_default(),
            timestamp_ms: row.captured_at_ms,
            size: row.size,
            kind: row.kind.clone(),
            location: self.location.clone(),
        };
        node.publish(&self.topic, msg.to_bytes())
            .await
            .context("gossipsub announcement (no peer on the topic yet?)")?;
        row.is_synced = true;
        row.publish_error = None;
        Ok(row)
    }

    fn emit_done(&self, row: &CaptureRow, stage: PublishStage) {
        let cid = row.cid.clone().unwrap_or_default();
        let url = self.gateway_url.as_ref().map(|g| format!("{g}/ipfs/{cid}"));
        let name = match stage {
            PublishStage::Add => "ipfs_upload_complete",
            PublishStage::Announce => "content_announced",
            // `remote_pin_status` was emitted by the stage itself
            PublishStage::Remote => return,
        };
        self.events.emit(
            NS_IPFS,
            name,
            json!({
                "capture_id": row.id,
                "filename": row.filename,
                "path": row.rel_path,
                "session": row.session,
                "cid": cid,
                "pinned": row.is_pinned,
                "synced": row.is_synced,
                "gateway_url": url,
            }),
        );
    }

    /// Deletes local files of published, pinned captures beyond the newest `keep_last_local`.
    fn trim_local_files(&self) -> Result<()> {
        let keep = self.config.keep_last_local as usize;
        if keep == 0 {
            return Ok(());
        }
        let mut done: Vec<CaptureRow> = self
            .db
            .captures()?
            .into_iter()
            .filter(|c| c.local && c.cid.is_some() && c.is_pinned)
            .collect();
        if done.len() <= keep {
            return Ok(());
        }
        done.sort_by_key(|c| c.id);
        let excess = done.len() - keep;
        for mut c in done.into_iter().take(excess) {
            let path = self.captures_dir.join(&c.rel_path);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!("keep_last_local: cannot remove {}: {e}", path.display());
                    continue;
                }
            }
            c.local = false;
            self.db.put_capture(&c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let s: Vec<u64> = (1..=7).map(|a| backoff(a, 30).as_secs()).collect();
        assert_eq!(s, vec![1, 2, 4, 8, 16, 30, 30]);
        assert_eq!(backoff(1000, 30).as_secs(), 30);
    }
}
