//! Running blocking work (store, UnixFS, network fetches) off the async runtime and streaming
//! what it produces as the response body.
//!
//! The response status is decided by the first thing the work produces: an error before any
//! output is a normal Kubo error response (4xx/5xx); once output has started, an error ends a
//! JSON stream with a final `{"Message","Code":0,"Type":"error"}` line, and aborts a raw stream
//! (the client sees a truncated body), as Kubo does with its `X-Stream-Error` trailer.
//!
//! JSON lines are queued without bound: a client that uploads a body (`add`) may read the answer
//! only when its upload is done, so the importer must never wait for the client to read. Raw
//! output (file content) is bounded: those requests have no body to wait for.

use super::error::{RpcError, RpcResult};
use axum::body::{Body, Bytes};
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use serde_json::Value;
use std::io::Write;
use tokio::sync::mpsc;

/// How the body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Newline-delimited JSON objects (`application/json`, `X-Chunked-Output: 1`).
    Ndjson,
    /// Raw bytes with this content type (`X-Stream-Output: 1`).
    Raw(&'static str),
}

type Chunk = Result<Bytes, RpcError>;

enum Tx {
    Bounded(mpsc::Sender<Chunk>),
    Unbounded(mpsc::UnboundedSender<Chunk>),
}

enum Rx {
    Bounded(mpsc::Receiver<Chunk>),
    Unbounded(mpsc::UnboundedReceiver<Chunk>),
}

impl Tx {
    fn send(&self, chunk: Chunk) -> bool {
        match self {
            Tx::Bounded(tx) => tx.blocking_send(chunk).is_ok(),
            Tx::Unbounded(tx) => tx.send(chunk).is_ok(),
        }
    }
}

impl Rx {
    async fn recv(&mut self) -> Option<Chunk> {
        match self {
            Rx::Bounded(rx) => rx.recv().await,
            Rx::Unbounded(rx) => rx.recv().await,
        }
    }
}

/// Where blocking work sends its output.
pub struct Emitter {
    tx: Tx,
}

impl Emitter {
    /// Sends one JSON object as a line. Fails when the client went away.
    pub fn json(&self, value: &Value) -> RpcResult<()> {
        let mut line = value.to_string().into_bytes();
        line.push(b'\n');
        self.send(Bytes::from(line))
    }

    /// Sends raw bytes.
    pub fn send(&self, bytes: Bytes) -> RpcResult<()> {
        if self.tx.send(Ok(bytes)) {
            Ok(())
        } else {
            Err(RpcError::bad_request("the client went away"))
        }
    }
}

impl Write for Emitter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.send(Bytes::copy_from_slice(buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs `work` on a blocking thread and answers with what it emits (see the module docs).
pub async fn respond<F>(kind: Kind, work: F) -> RpcResult<Response>
where
    F: FnOnce(&mut Emitter) -> RpcResult<()> + Send + 'static,
{
    let (tx, mut rx) = match kind {
        Kind::Ndjson => {
            let (tx, rx) = mpsc::unbounded_channel();
            (Tx::Unbounded(tx), Rx::Unbounded(rx))
        }
        Kind::Raw(_) => {
            let (tx, rx) = mpsc::channel(16);
            (Tx::Bounded(tx), Rx::Bounded(rx))
        }
    };
    tokio::task::spawn_blocking(move || {
        let mut emitter = Emitter { tx };
        if let Err(e) = work(&mut emitter) {
            emitter.tx.send(Err(e));
        }
    });
    let first = match rx.recv().await {
        Some(Err(e)) => return Err(e),
        Some(Ok(bytes)) => Some(bytes),
        None => None,
    };
    let builder = match kind {
        Kind::Ndjson => Response::builder()
            .header(CONTENT_TYPE, "application/json")
            .header("X-Chunked-Output", "1"),
        Kind::Raw(ct) => Response::builder()
            .header(CONTENT_TYPE, ct)
            .header("X-Stream-Output", "1"),
    };
    let rest = futures::stream::unfold((first, rx), move |(first, mut rx)| async move {
        if let Some(bytes) = first {
            return Some((Ok(bytes), (None, rx)));
        }
        match rx.recv().await? {
            Ok(bytes) => Some((Ok(bytes), (None, rx))),
            Err(e) if kind == Kind::Ndjson => Some((Ok(Bytes::from(e.stream_line())), (None, rx))),
            Err(e) => Some((
                Err(std::io::Error::other(e.message().to_string())),
                (None, rx),
            )),
        }
    });
    builder
        .body(Body::from_stream(rest))
        .map_err(|e| RpcError::bad_request(e.to_string()))
}
