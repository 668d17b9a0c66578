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

/// Raw output is handed to the response in chunks of this size.
const RAW_CHUNK: usize = 256 << 10;

/// Where blocking work sends its output.
///
/// Bytes gathered but not yet sent when the work fails are dropped: a failure before the first
/// chunk went out is an ordinary error response (status and message), a later one ends the
/// stream as described in the module docs.
///
/// Bytes written through [`Write`] are gathered into [`RAW_CHUNK`]-sized buffers that are handed
/// to the response as they are (one copy per byte, no intermediate `BufWriter` needed); they are
/// sent when a buffer fills, on [`Write::flush`], before any [`Emitter::json`] /
/// [`Emitter::send`], and when the work ends.
pub struct Emitter {
    tx: Tx,
    pending: Vec<u8>,
}

impl Emitter {
    /// Sends one JSON object as a line. Fails when the client went away.
    pub fn json(&mut self, value: &Value) -> RpcResult<()> {
        let mut line = value.to_string().into_bytes();
        line.push(b'\n');
        self.send(Bytes::from(line))
    }

    /// Sends raw bytes (after whatever [`Write`] left pending).
    pub fn send(&mut self, bytes: Bytes) -> RpcResult<()> {
        self.send_pending()?;
        self.push(bytes)
    }

    fn push(&self, bytes: Bytes) -> RpcResult<()> {
        if self.tx.send(Ok(bytes)) {
            Ok(())
        } else {
            Err(RpcError::bad_request("the client went away"))
        }
    }

    /// Sends the bytes gathered by [`Write`], if any.
    fn send_pending(&mut self) -> RpcResult<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // `write` reserves the next buffer when it needs one
        let full = Bytes::from(std::mem::take(&mut self.pending));
        self.push(full)
    }
}

impl Write for Emitter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.pending.capacity() == 0 {
            self.pending.reserve_exact(RAW_CHUNK);
        }
        let n = buf.len().min(RAW_CHUNK - self.pending.len());
        self.pending.extend_from_slice(&buf[..n]);
        if self.pending.len() == RAW_CHUNK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_pending()
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
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
        let mut emitter = Emitter {
            tx,
            pending: Vec::new(),
        };
        let result = work(&mut emitter).and_then(|()| emitter.send_pending());
        if let Err(e) = result {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Everything the emitter pushed, in order.
    fn drain(mut rx: mpsc::Receiver<Chunk>) -> Vec<Bytes> {
        let mut out = Vec::new();
        while let Ok(chunk) = rx.try_recv() {
            out.push(chunk.unwrap());
        }
        out
    }

    #[test]
    fn written_bytes_arrive_whole_in_order_and_before_later_sends() {
        let (tx, rx) = mpsc::channel(64);
        let mut e = Emitter {
            tx: Tx::Bounded(tx),
            pending: Vec::new(),
        };
        let data: Vec<u8> = (0..(RAW_CHUNK * 2 + 12345))
            .map(|i| (i % 251) as u8)
            .collect();
        // odd-sized writes, one larger than a chunk
        let mut rest = &data[..];
        for n in [1, 1000, RAW_CHUNK + 7, 3] {
            e.write_all(&rest[..n]).unwrap();
            rest = &rest[n..];
        }
        e.write_all(rest).unwrap();
        e.send(Bytes::from_static(b"tail")).unwrap();
        drop(e);
        let chunks = drain(rx);
        assert!(chunks.iter().all(|c| c.len() <= RAW_CHUNK));
        let (last, body) = chunks.split_last().unwrap();
        assert_eq!(body.concat(), data);
        assert_eq!(&last[..], b"tail");
    }
}
