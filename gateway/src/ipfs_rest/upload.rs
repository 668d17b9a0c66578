//! `POST /api/ipfs/content`: the body (raw bytes, or the first file part of a
//! `multipart/form-data` body) is added as one UnixFS file with Kubo's defaults (CIDv0,
//! 256 KiB chunks, balanced DAG) and pinned recursively. The body is streamed into the
//! importer, never held whole in memory; an add that would take the repo beyond
//! `storage.max_storage` stops with 507 `IPFS_STORAGE_FULL`.

use super::IpfsRestContext;
use super::error::{RestError, RestResult, blocking, ok};
use super::params::Query;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header;
use axum::response::Response;
use futures::StreamExt;
use serde_json::json;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot};
use wanda_node::store::{PinMode, PinRecord};
use wanda_node::unixfs::{AddOptions, Importer, StoreSink};

/// Body chunks queued ahead of the importer.
const QUEUE: usize = 16;

/// The blocking end of the request body: chunks from the async side, counted against the
/// space left in the repo.
struct BodyReader {
    rx: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
    read: u64,
    /// Bytes the content may take before the repo reaches `storage.max_storage`.
    room: u64,
    full: Arc<AtomicBool>,
    failed: Option<String>,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => {
                    self.failed = Some(e.clone());
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, e));
                }
            }
        }
        let n = self.current.len().min(buf.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        self.read += n as u64;
        if self.read > self.room {
            self.full.store(true, Ordering::Relaxed);
            return Err(std::io::Error::other("storage.max_storage reached"));
        }
        Ok(n)
    }
}

/// Sends the raw body's chunks. Once the importer stops listening (storage full, bad input),
/// the rest is read and dropped, so the client finishes sending and sees the answer.
async fn pump_body(body: Body, tx: mpsc::Sender<Result<Bytes, String>>) {
    let mut stream = body.into_data_stream();
    let mut listening = true;
    while let Some(chunk) = stream.next().await {
        let item = chunk.map_err(|e| format!("reading the request body: {e}"));
        let stop = item.is_err();
        if listening {
            listening = tx.send(item).await.is_ok();
        }
        if stop {
            return;
        }
    }
}

/// Reads and drops what is left of `body` (see [`pump_body`]).
async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    while let Some(Ok(_)) = stream.next().await {}
}

/// Finds the first file part (one with a file name, or named `file`), reports its file name,
/// then sends its chunks. Parts before it are skipped.
async fn pump_multipart(
    mut multipart: Multipart,
    name_tx: oneshot::Sender<Result<Option<String>, String>>,
    tx: mpsc::Sender<Result<Bytes, String>>,
) {
    let mut field = loop {
        match multipart.next_field().await {
            Ok(Some(f)) if f.file_name().is_some() || f.name() == Some("file") => break f,
            Ok(Some(_)) => continue,
            Ok(None) => {
                let _ = name_tx.send(Err("the multipart body has no file part".into()));
                return;
            }
            Err(e) => {
                let _ = name_tx.send(Err(format!("bad multipart body: {}", e.body_text())));
                return;
            }
        }
    };
    let _ = name_tx.send(Ok(field
        .file_name()
        .map(str::to_string)
        .filter(|n| !n.is_empty())));
    let mut listening = true;
    loop {
        let item = match field.chunk().await {
            Ok(Some(chunk)) => Ok(chunk),
            Ok(None) => break,
            Err(e) => Err(format!("bad multipart body: {}", e.body_text())),
        };
        let stop = item.is_err();
        if listening {
            listening = tx.send(item).await.is_ok();
        }
        if stop {
            return;
        }
    }
    drop(field);
    // the rest of the body is read and dropped (see `pump_body`)
    while let Ok(Some(mut f)) = multipart.next_field().await {
        while let Ok(Some(_)) = f.chunk().await {}
    }
}

/// `POST /api/ipfs/content[?name=N]` with the content as the body, or as a `multipart/form-data`
/// file part → `{cid, size, name}`; `size` is the content bytes. The pin is named after `name`,
/// else the part's file name.
pub async fn add(State(ctx): State<Arc<IpfsRestContext>>, req: Request) -> RestResult<Response> {
    let q = Query::parse(req.uri().query());
    let mut name = q.value("name").map(str::to_string);
    let store = ctx.store.clone();
    let used = blocking({
        let store = store.clone();
        move || Ok(store.stats()?.disk_bytes)
    })
    .await?;
    let room = ctx.storage_max.saturating_sub(used);
    let full_error = || {
        RestError::storage_full(format!(
            "adding this would exceed storage.max_storage ({} bytes; {used} used)",
            ctx.storage_max
        ))
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            t.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    // the whole body counts for raw uploads; multipart framing is small
    if !is_multipart && declared.is_some_and(|n| n > room) {
        tokio::spawn(drain(req.into_body()));
        return Err(full_error());
    }
    let (tx, rx) = mpsc::channel(QUEUE);
    if is_multipart {
        let multipart = Multipart::from_request(req, &())
            .await
            .map_err(|e| RestError::invalid(e.body_text()))?;
        let (name_tx, name_rx) = oneshot::channel();
        tokio::spawn(pump_multipart(multipart, name_tx, tx));
        let part_name = name_rx
            .await
            .map_err(|_| RestError::invalid("bad multipart body"))?
            .map_err(RestError::invalid)?;
        name = name.or(part_name);
    } else {
        tokio::spawn(pump_body(req.into_body(), tx));
    }
    let full = Arc::new(AtomicBool::new(false));
    let mut reader = BodyReader {
        rx,
        current: Bytes::new(),
        read: 0,
        room,
        full: full.clone(),
        failed: None,
    };
    let pin_name = name.clone();
    let imported = blocking(move || {
        let mut sink = StoreSink::new(&store)?;
        let mut events = |_: wanda_node::unixfs::AddEvent<'_>| {};
        let result = Importer::new(AddOptions::default(), &mut sink, &mut events)
            .and_then(|mut importer| importer.import_stream(&mut reader));
        match result {
            Ok(file) => {
                let pin = PinRecord {
                    mode: PinMode::Recursive,
                    name: pin_name,
                };
                sink.finish(Some((file.cid, pin)))?;
                Ok(file)
            }
            // blocks written so far stay unpinned (garbage for GC)
            Err(e) => Err(match reader.failed.take() {
                Some(why) => RestError::invalid(why),
                None => e.into(),
            }),
        }
    })
    .await;
    if full.load(Ordering::Relaxed) {
        return Err(full_error());
    }
    let file = imported?;
    if let Some(node) = &ctx.node {
        node.block_added(file.cid);
    }
    Ok(ok(json!({
        "cid": file.cid.to_string(),
        "size": file.file_size,
        "name": name,
    })))
}
