//! `/api/captures`, `/api/captures/folders`, `/api/captures/{path}` (also `/captures/{path}`,
//! what WANDA's nginx/Next.js served) and `/api/thumbnails/{path}`. Paths are checked
//! component by component: no `..`, no hidden or temporary files, nothing outside the
//! captures directory.

use super::envelope::{ApiError, ApiResult, ok};
use crate::app::App;
use crate::app::local_save::TEMP_PREFIX;
use crate::app::rows::CaptureRow;
use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// `?folder=`.
#[derive(Debug, Deserialize)]
pub struct FolderQuery {
    folder: Option<String>,
}

fn checked_component(c: &str) -> Result<&str, ApiError> {
    if c.is_empty() || c == "." || c == ".." || c.contains(['/', '\\', '\0']) {
        return Err(ApiError::validation(format!(
            "invalid path component {c:?}"
        )));
    }
    Ok(c)
}

fn ipfs_object(app: &App, row: &CaptureRow) -> Value {
    let me = app
        .node
        .as_ref()
        .map(|n| n.peer_id().to_string())
        .unwrap_or_default();
    let replicas = row
        .cid
        .as_deref()
        .map_or(0, |c| crate::app::replication::replicas(&app.db, c, &me));
    let remote = row.cid.as_deref().and_then(|c| {
        app.db
            .pin_statuses(c)
            .ok()?
            .into_iter()
            .find(|r| r.peer_id == crate::app::pinning_service::SERVICE_PEER)
            .map(|r| r.status)
    });
    json!({
        "replicas": replicas,
        "remote_pin": remote,
        "cid": row.cid,
        "pinned": row.is_pinned,
        "synced": row.is_synced,
        "gateway_url": row.cid.as_ref().and_then(|c| app.gateway_url.as_ref().map(|g| format!("{g}/ipfs/{c}"))),
        "error": row.publish_error,
    })
}

/// `GET /api/captures[?folder=F]`: `files` (names, newest first, as WANDA) and `captures`
/// (the same files with size, time and their `ipfs` object).
pub async fn list(State(app): State<Arc<App>>, Query(q): Query<FolderQuery>) -> ApiResult {
    let folder = q.folder.filter(|f| !f.is_empty());
    let dir = match &folder {
        Some(f) => app.store.captures_dir.join(checked_component(f)?),
        None => app.store.captures_dir.clone(),
    };
    let rows: HashMap<String, CaptureRow> = app
        .db
        .captures()
        .map_err(internal("CAPTURE_LIST_ERROR"))?
        .into_iter()
        .map(|r| (r.rel_path.clone(), r))
        .collect();
    let mut files = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let Ok(meta) = e.metadata() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if !meta.is_file() || name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0.0, |d| d.as_secs_f64());
            files.push((modified, name, meta.len()));
        }
    }
    files.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let details: Vec<Value> = files
        .iter()
        .map(|(modified, name, size)| {
            let rel = match &folder {
                Some(f) => format!("{f}/{name}"),
                None => name.clone(),
            };
            let row = rows.get(&rel);
            json!({
                "name": name,
                "path": rel,
                "size": size,
                "modified": modified,
                "thumbnail": row.and_then(|r| r.thumbnail.as_ref()).map(|t| format!("/api/thumbnails/{t}")),
                "ipfs": row.map(|r| ipfs_object(&app, r)),
            })
        })
        .collect();
    let names: Vec<&String> = files.iter().map(|(_, n, _)| n).collect();
    Ok(ok(
        json!({ "files": names, "captures": details }),
        "Capture list retrieved",
    ))
}

/// `GET /api/captures/folders`: session folders, sorted.
pub async fn folders(State(app): State<Arc<App>>) -> ApiResult {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(&app.store.captures_dir) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                let n = e.file_name().to_string_lossy().into_owned();
                if !n.starts_with('.') {
                    out.push(n);
                }
            }
        }
    }
    out.sort();
    Ok(ok(json!({ "folders": out }), "Capture folders retrieved"))
}

fn internal(code: &'static str) -> impl Fn(anyhow::Error) -> ApiError {
    move |e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, format!("{e:#}"))
}

/// Resolves `folder/file` or `file` (already percent-decoded) under `root`.
fn resolve(root: &std::path::Path, tail: &str) -> Result<PathBuf, ApiError> {
    let parts: Vec<&str> = tail.split('/').collect();
    if parts.len() > 2 {
        return Err(ApiError::validation("path must be FILE or FOLDER/FILE"));
    }
    let mut p = root.to_path_buf();
    for c in parts {
        let c = checked_component(c)?;
        if c.starts_with('.') {
            return Err(ApiError::validation(format!(
                "invalid path component {c:?}"
            )));
        }
        p.push(c);
    }
    Ok(p)
}

/// Content type by extension.
pub fn content_type(path: &std::path::Path) -> &'static str {
    match path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .as_deref()
    {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("dng") => "image/x-adobe-dng",
        Some("pgm") => "image/x-portable-graymap",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

async fn serve_file(path: PathBuf) -> Result<Response, ApiError> {
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "FILE_NOT_FOUND",
                "File not found",
            ));
        }
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "SERVE_ERROR",
                e.to_string(),
            ));
        }
    };
    let meta = file.metadata().await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SERVE_ERROR",
            e.to_string(),
        )
    })?;
    if !meta.is_file() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "FILE_NOT_FOUND",
            "File not found",
        ));
    }
    let stream = tokio_util_stream(file);
    Ok((
        [
            (header::CONTENT_TYPE, content_type(&path).to_string()),
            (header::CONTENT_LENGTH, meta.len().to_string()),
            (header::CACHE_CONTROL, "public, max-age=3600".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Reads a file as a stream of chunks.
fn tokio_util_stream(
    file: tokio::fs::File,
) -> impl futures::Stream<Item = std::io::Result<axum::body::Bytes>> {
    use tokio::io::AsyncReadExt;
    futures::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let mut buf = vec![0u8; 256 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

/// `GET /api/captures/{folder/file}` and `/captures/{…}`; `%2F` works as `/`.
pub async fn file(State(app): State<Arc<App>>, UrlPath(tail): UrlPath<String>) -> ApiResult {
    let path = resolve(&app.store.captures_dir, &tail)?;
    serve_file(path).await
}

/// `GET /api/thumbnails/{folder/file}`: the capture's thumbnail JPEG.
pub async fn thumbnail(State(app): State<Arc<App>>, UrlPath(tail): UrlPath<String>) -> ApiResult {
    let path = resolve(&app.store.thumbs_dir, &tail)?;
    serve_file(path).await
}

/// `GET /api/network/captures`: captures announced by peers (newest first), with a URL through
/// our gateway (fetched on demand over Bitswap), whether we hold a pinned replica and how many
/// replicas are known besides the origin (ours included).
pub async fn network(State(app): State<Arc<App>>) -> ApiResult {
    let mut list = app
        .db
        .network_captures()
        .map_err(internal("NETWORK_LIST_ERROR"))?;
    list.sort_by_key(|v| std::cmp::Reverse(v["timestamp_ms"].as_u64().unwrap_or(0)));
    for v in &mut list {
        let cid = v["cid"].as_str().unwrap_or_default().to_string();
        let origin = v["node"].as_str().unwrap_or_default().to_string();
        // copies known besides the telescope that took it (ours included once pinned)
        v["replicas"] = json!(crate::app::replication::replicas(&app.db, &cid, &origin));
        v["gateway_url"] = json!(app.gateway_url.as_ref().map(|g| format!("{g}/ipfs/{cid}")));
        v["pinned"] = json!(
            wanda_node::parse_cid(&cid)
                .ok()
                .and_then(|c| app.blocks.get_pin(&c).ok().flatten())
                .is_some()
        );
    }
    Ok(ok(
        json!({ "captures": list }),
        "Network captures retrieved",
    ))
}

/// `GET /api/network/peers`: the PEER table (telescopes and other peers we met), with the
/// location a telescope announces and how many of its captures we hold.
pub async fn peers(State(app): State<Arc<App>>) -> ApiResult {
    let mut rows = app.db.peers().map_err(internal("PEER_LIST_ERROR"))?;
    rows.sort_by_key(|p| std::cmp::Reverse(p.last_seen_ms));
    Ok(ok(json!({ "peers": rows }), "Peers retrieved"))
}

/// `GET /api/network/stats`: what replication refused since start (captures over budget,
/// receipts dropped, forged messages, rows pruned to keep the tables bounded).
pub async fn network_stats(State(app): State<Arc<App>>) -> ApiResult {
    use std::sync::atomic::Ordering::Relaxed;
    let s = &app.replication;
    Ok(ok(
        json!({
            "refused_captures": s.refused_captures.load(Relaxed),
            "receipts_dropped": s.receipts_dropped.load(Relaxed),
            "forged": s.forged.load(Relaxed),
            "pruned": s.pruned.load(Relaxed),
        }),
        "Replication counters",
    ))
}
