//! Session folders as IPFS directories: `session_metadata.json` (WANDA's keys plus each
//! image's CID) is rewritten from the database, and the session's UnixFS directory (its
//! captures + the metadata file) and the node's root directory (one entry per session, plus
//! single captures) are rebuilt and pinned as captures get CIDs.

use super::local_save::TEMP_PREFIX;
use super::metadata::MetadataDb;
use super::rows::{CaptureRow, SessionRow, iso_time};
use anyhow::{Context, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use wanda_node::net::NodeHandle;
use wanda_node::store::{Blockstore, PinMode, PinRecord};
use wanda_node::unixfs::{AddEvent, AddOptions, DirLink, Importer, StoreSink};

/// File name of a session's metadata.
pub const SESSION_METADATA: &str = "session_metadata.json";

/// Directories changed by a [`SessionDirs::refresh`].
#[derive(Debug, Default)]
pub struct Refreshed {
    /// Sessions whose directory CID changed: (name, new CID).
    pub sessions: Vec<(String, String)>,
    /// The root directory's CID, when it changed.
    pub root: Option<String>,
}

/// Builds and pins session and root directories.
#[derive(Clone)]
pub struct SessionDirs {
    /// Where captures are.
    pub captures_dir: PathBuf,
    /// The node's blocks.
    pub store: Blockstore,
    /// Metadata.
    pub db: MetadataDb,
    /// Serialises metadata file writes (the session runner and the publisher both write).
    pub write_lock: Arc<Mutex<()>>,
    /// The key whose IPNS name points at the root directory.
    pub key: Option<libp2p::identity::Keypair>,
}

/// Lifetime of the root's IPNS record (republished whenever the root changes).
pub const ROOT_RECORD_LIFETIME: std::time::Duration = std::time::Duration::from_secs(48 * 3600);
/// TTL of the root's IPNS record: resolvers re-check after a minute.
pub const ROOT_RECORD_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// WANDA's `session_metadata.json` for a session and its captures (plus `images` with CIDs).
pub fn session_metadata(
    session: &SessionRow,
    captures: &[CaptureRow],
    captures_dir_name: &str,
) -> Value {
    json!({
        "name": session.name,
        "total_images": session.total_images,
        "use_current_settings": session.use_current_settings,
        "enable_tracking": session.enable_tracking,
        "total_time_hours": session.total_time_hours,
        "start_time": iso_time(session.started_at_ms),
        "end_time": session.ended_at_ms.map(iso_time),
        "images_captured": session.images_captured,
        "session_dir": format!("{captures_dir_name}/{}", session.name),
        "status": session.state.wanda_status(),
        "mount_tracking_stopped": session.mount_tracking_stopped,
        "mode": session.mode,
        "exposure_seconds": session.exposure_us as f64 / 1e6,
        "iso": (session.gain * 100.0).round() as u32,
        "error": session.error,
        "cid": session.cid,
        "images": captures.iter().map(|c| json!({
            "filename": c.filename,
            "size": c.size,
            "width": c.width,
            "height": c.height,
            "captured_at": iso_time(c.captured_at_ms),
            "exposure_seconds": c.exposure_us as f64 / 1e6,
            "iso": (c.gain * 100.0).round() as u32,
            "cid": c.cid,
        })).collect::<Vec<_>>(),
    })
}

/// Replaces `path` atomically and durably with `bytes`.
fn replace_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().context("metadata path has no parent")?;
    let name = path.file_name().context("metadata path has no name")?;
    let tmp = dir.join(format!("{TEMP_PREFIX}{}", name.to_string_lossy()));
    let res = (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    res.with_context(|| format!("cannot write {}", path.display()))
}

impl SessionDirs {
    /// Rewrites `<session>/session_metadata.json` from the database. Returns its bytes.
    pub fn write_metadata(&self, session: &str) -> Result<Vec<u8>> {
        let _g = self.write_lock.lock().unwrap_or_else(|p| p.into_inner());
        let row = self
            .db
            .session(session)?
            .with_context(|| format!("no session {session:?}"))?;
        let captures = self.db.session_captures(session)?;
        let dir_name = self
            .captures_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "captures".into());
        let mut bytes = serde_json::to_vec_pretty(&session_metadata(&row, &captures, &dir_name))?;
        bytes.push(b'\n');
        let dir = self.captures_dir.join(session);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        replace_atomic(&dir.join(SESSION_METADATA), &bytes)?;
        Ok(bytes)
    }

    /// Rebuilds every session directory whose published captures changed, then the root.
    /// Blocking (imports and pins); call from `spawn_blocking`.
    pub fn refresh(&self) -> Result<Refreshed> {
        let mut out = Refreshed::default();
        let all = self.db.captures()?;
        let mut by_session: BTreeMap<String, Vec<CaptureRow>> = BTreeMap::new();
        let mut loose = Vec::new();
        for c in all {
            match &c.session {
                Some(s) => by_session.entry(s.clone()).or_default().push(c),
                None => loose.push(c),
            }
        }
        for (name, captures) in &by_session {
            let Some(session) = self.db.session(name)? else {
                continue;
            };
            let published: Vec<DirLink> = captures.iter().filter_map(link_of).collect();
            if published.is_empty() {
                continue;
            }
            let key = published
                .iter()
                .map(|l| format!("{}={}", l.name, l.cid))
                .collect::<Vec<_>>()
                .join(",")
                + &format!("|{:?}|{}", session.state, session.images_captured);
            if self.db.meta(&format!("session_links/{name}"))?.as_deref() == Some(key.as_str()) {
                continue;
            }
            let metadata = self.write_metadata(name)?;
            let (cid, size) = self.build(&published, Some(metadata))?;
            let mut old = None;
            self.db.update_session(name, |s| {
                old = s.cid.replace(cid.to_string());
                s.dag_size = Some(size);
            })?;
            self.db.set_meta(&format!("session_links/{name}"), &key)?;
            self.unpin_old(old.as_deref(), &cid)?;
            out.sessions.push((name.clone(), cid.to_string()));
        }
        let mut root_links = Vec::new();
        for s in self.db.sessions()? {
            if let (Some(cid), Some(size)) = (&s.cid, s.dag_size) {
                root_links.push(DirLink {
                    name: s.name.clone(),
                    cid: wanda_node::parse_cid(cid)?,
                    dag_size: size,
                });
            }
        }
        let names: std::collections::HashSet<String> =
            root_links.iter().map(|l| l.name.clone()).collect();
        root_links.extend(
            loose
                .iter()
                .filter_map(link_of)
                .filter(|l| !names.contains(&l.name)),
        );
        if root_links.is_empty() {
            return Ok(out);
        }
        let (root, _) = self.build(&root_links, None)?;
        let old = self.db.meta("root_cid")?;
        if old.as_deref() != Some(root.to_string().as_str()) {
            self.db.set_meta("root_cid", &root.to_string())?;
            self.unpin_old(old.as_deref(), &root)?;
            out.root = Some(root.to_string());
        }
        Ok(out)
    }

    /// The node's current root directory CID (all sessions), if any capture is published.
    pub fn root(&self) -> Result<Option<String>> {
        self.db.meta("root_cid")
    }

    /// Writes a directory of `links` (plus the metadata file, if given), pinned recursively.
    fn build(&self, links: &[DirLink], metadata: Option<Vec<u8>>) -> Result<(cid::Cid, u64)> {
        let mut links = links.to_vec();
        let mut sink = StoreSink::new(&self.store)?;
        let mut ev = |_: AddEvent<'_>| {};
        let dir = {
            let mut importer = Importer::new(AddOptions::default(), &mut sink, &mut ev)?;
            if let Some(bytes) = metadata {
                let f = importer.import_stream(bytes.as_slice())?;
                links.retain(|l| l.name != SESSION_METADATA);
                links.push(DirLink {
                    name: SESSION_METADATA.into(),
                    cid: f.cid,
                    dag_size: f.dag_size,
                });
            }
            importer.build_directory(&links)?
        };
        sink.finish(Some((
            dir.cid,
            PinRecord {
                mode: PinMode::Recursive,
                name: None,
            },
        )))?;
        Ok((dir.cid, dir.dag_size))
    }

    fn unpin_old(&self, old: Option<&str>, new: &cid::Cid) -> Result<()> {
        if let Some(old) = old
            && old != new.to_string()
            && let Ok(old) = wanda_node::parse_cid(old)
        {
            // an older version of the directory: its captures stay pinned on their own
            let _ = wanda_node::pinning::pin_rm(&self.store, &old);
        }
        Ok(())
    }

    /// Points the node's IPNS name at `root` and provides the root on the DHT. Failures are
    /// logged; the next change publishes again. Returns the name when published.
    pub async fn publish_root_name(&self, node: &NodeHandle, root: &str) -> Option<String> {
        if let Ok(cid) = wanda_node::parse_cid(root)
            && let Err(e) = node.provide(cid).await
        {
            tracing::warn!("providing root {root}: {e}");
        }
        let key = self.key.clone()?;
        match node
            .publish_name(
                key,
                format!("/ipfs/{root}"),
                ROOT_RECORD_LIFETIME,
                ROOT_RECORD_TTL,
            )
            .await
        {
            Ok(name) => {
                let name = name.to_string();
                let _ = self.db.set_meta("ipns_name", &name);
                let _ = self.db.set_meta("ipns_value", root);
                Some(name)
            }
            Err(e) => {
                tracing::warn!("publishing the root {root} over IPNS: {e}");
                None
            }
        }
    }
}

fn link_of(c: &CaptureRow) -> Option<DirLink> {
    let cid = wanda_node::parse_cid(c.cid.as_deref()?).ok()?;
    Some(DirLink {
        name: c.filename.clone(),
        cid,
        dag_size: c.dag_size?,
    })
}
