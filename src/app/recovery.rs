//! Startup recovery after a crash: temporary files are deleted, and capture files that reached
//! the disk but not the database (a kill -9 between the rename and the commit) get their row
//! and publish job, so every saved capture is published.

use super::capture_store::CaptureStore;
use super::local_save::remove_leftovers;
use super::rows::{CaptureRow, PublishJob, PublishStage};
use anyhow::Result;
use std::collections::HashSet;
use std::path::Path;

/// Extensions of capture files.
const CAPTURE_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "dng", "pgm"];

/// Runs recovery; returns (temporary files removed, captures re-queued).
pub fn recover(store: &CaptureStore) -> Result<(usize, usize)> {
    let removed = remove_leftovers(&store.captures_dir)? + remove_leftovers(&store.thumbs_dir)?;
    let known: HashSet<String> = store
        .db
        .captures()?
        .into_iter()
        .map(|c| c.rel_path)
        .collect();
    let mut added = 0;
    let Ok(rd) = std::fs::read_dir(&store.captures_dir) else {
        return Ok((removed, 0));
    };
    let mut found = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            if name.starts_with('.') {
                continue;
            }
            if let Ok(inner) = std::fs::read_dir(e.path()) {
                for f in inner.flatten() {
                    let fname = f.file_name().to_string_lossy().into_owned();
                    if is_capture(&f.path()) {
                        found.push((Some(name.clone()), fname));
                    }
                }
            }
        } else if is_capture(&e.path()) {
            found.push((None, name));
        }
    }
    found.sort();
    for (session, file) in found {
        let rel = super::capture_store::rel(session.as_deref(), &file);
        if known.contains(&rel) {
            continue;
        }
        let path = store.captures_dir.join(&rel);
        let meta = std::fs::metadata(&path)?;
        let (width, height) = jpeg_size(&path).unwrap_or((0, 0));
        let kind = path
            .extension()
            .map(|x| x.to_string_lossy().to_ascii_lowercase())
            .map(|x| {
                if x == "jpg" || x == "jpeg" {
                    "jpeg".to_string()
                } else {
                    x
                }
            })
            .unwrap_or_default();
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64);
        let row = CaptureRow {
            id: 0,
            session: session.clone(),
            filename: file.clone(),
            rel_path: rel.clone(),
            thumbnail: None,
            kind,
            size: meta.len(),
            width,
            height,
            exposure_us: 0,
            gain: 0.0,
            captured_at_ms: mtime,
            cid: None,
            dag_size: None,
            is_pinned: false,
            is_synced: false,
            local: true,
            publish_error: None,
        };
        let job = store.publish.then_some(PublishJob {
            capture_id: 0,
            stage: PublishStage::Add,
            attempts: 0,
            not_before_ms: 0,
        });
        store.db.insert_capture(row, job)?;
        if let Some(s) = &session
            && let Some(mut srow) = store.db.session(s)?
        {
            srow.images_captured = store
                .db
                .session_captures(s)?
                .iter()
                .filter(|c| c.kind == "jpeg")
                .count() as u32;
            store.db.put_session(&srow)?;
        }
        tracing::info!("recovered capture {rel} (saved before a crash, not yet recorded)");
        added += 1;
    }
    Ok((removed, added))
}

fn is_capture(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .map(|x| x.to_string_lossy().to_ascii_lowercase())
            .is_some_and(|x| CAPTURE_EXTENSIONS.contains(&x.as_str()))
}

fn jpeg_size(path: &Path) -> Option<(u32, u32)> {
    let f = std::fs::File::open(path).ok()?;
    let mut d = jpeg_decoder::Decoder::new(std::io::BufReader::new(f));
    d.read_info().ok()?;
    let i = d.info()?;
    Some((u32::from(i.width), u32::from(i.height)))
}
