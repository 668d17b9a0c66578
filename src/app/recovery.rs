//! Startup recovery after a crash: temporary files are deleted, and capture files that reached
//! the disk but not the database (a kill -9 between the rename and the commit) get their row
//! and publish job, so every saved capture is published; missing thumbnails are made again.

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
    let mut thumbs = 0;
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
    // thumbnails a crash left out (made after the row's commit), and the recovered captures'
    for row in store.db.captures()? {
        if row.local {
            match store.ensure_thumbnail(&row) {
                Ok(made) => thumbs += usize::from(made),
                Err(e) => tracing::warn!("thumbnail of {}: {e:#}", row.rel_path),
            }
        }
    }
    if thumbs > 0 {
        tracing::info!("recovery made {thumbs} missing thumbnail(s)");
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::events::EventBus;
    use crate::app::metadata::MetadataDb;
    use std::sync::Arc;
    use wanda_hardware::camera::{Camera, SimCamera, SimCameraConfig};

    fn store(dir: &Path) -> CaptureStore {
        CaptureStore {
            captures_dir: dir.join("captures"),
            thumbs_dir: dir.join("thumbnails"),
            db: MetadataDb::open(&dir.join("app.redb")).unwrap(),
            events: EventBus::new(),
            wake: Arc::new(tokio::sync::Notify::new()),
            dirs_dirty: Default::default(),
            publish: true,
            min_free: 0,
            thumbnail_px: 64,
            store: wanda_node::store::Blockstore::open(&dir.join("blocks")).unwrap(),
        }
    }

    fn capture() -> wanda_hardware::Capture {
        let cam = SimCamera::new(SimCameraConfig {
            width: 320,
            height: 240,
            realtime: false,
            ..SimCameraConfig::default()
        });
        cam.capture().unwrap()
    }

    /// The thumbnail is written after the row's commit: a crash in between leaves a row whose
    /// thumbnail file is missing; recovery makes it again (a real, decodable JPEG of the right
    /// size), and an unrecorded capture found on disk gets a row and a thumbnail too.
    #[test]
    fn recovery_remakes_missing_thumbnails() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path());
        let saved = s.save(&capture(), Some("night"), "image_0001.jpg").unwrap();
        let thumb = s.thumbs_dir.join(saved.jpeg.thumbnail.as_deref().unwrap());
        let first = std::fs::read(&thumb).unwrap();
        std::fs::remove_file(&thumb).unwrap();
        // a capture file that reached the disk but not the database
        std::fs::write(s.captures_dir.join("night/image_0002.jpg"), &capture().jpeg).unwrap();

        let (_, added) = recover(&s).unwrap();
        assert_eq!(added, 1);
        assert_eq!(
            std::fs::read(&thumb).unwrap(),
            first,
            "same thumbnail remade"
        );
        let rows = s.db.captures().unwrap();
        assert_eq!(rows.len(), 2);
        for row in rows {
            let t = row.thumbnail.expect("every JPEG row names a thumbnail");
            let bytes = std::fs::read(s.thumbs_dir.join(&t)).unwrap();
            let mut d = jpeg_decoder::Decoder::new(bytes.as_slice());
            d.read_info().unwrap();
            let info = d.info().unwrap();
            assert_eq!(info.width.max(info.height), 64, "{t}");
        }
        // nothing left to do on the next start
        let (_, added) = recover(&s).unwrap();
        assert_eq!(added, 0);
    }
}
