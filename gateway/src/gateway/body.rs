//! Streaming response bodies produced on a blocking thread.

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use std::io::{self, Write};
use tokio::sync::mpsc;

/// Bytes gathered before a chunk is sent to the client.
const CHUNK: usize = 256 * 1024;
/// Chunks queued ahead of the client.
const QUEUE: usize = 8;

/// `io::Write` into a channel of body chunks; small writes are coalesced into chunks.
pub struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: BytesMut,
}

/// Shared pieces at least this long are sent as they are (no copy); shorter ones are coalesced.
const ZERO_COPY_MIN: usize = 16 * 1024;

impl ChannelWriter {
    fn send(&self, b: Bytes) -> io::Result<()> {
        self.tx
            .blocking_send(Ok(b))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "client went away"))
    }

    /// Writes `data` without copying it when it is large (after what is buffered), so a block's
    /// bytes go from the store's buffer to the socket as they are.
    pub fn write_bytes(&mut self, data: Bytes) -> io::Result<()> {
        if data.len() < ZERO_COPY_MIN {
            return self.write_all(&data);
        }
        self.flush()?;
        self.send(data)
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buf.is_empty() && data.len() >= CHUNK {
            self.send(Bytes::copy_from_slice(data))?;
            return Ok(data.len());
        }
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = self.buf.split().freeze();
            self.buf.reserve(CHUNK);
            self.send(chunk)?;
        }
        Ok(())
    }
}

/// A body written by `produce` on a blocking thread. If `produce` fails, the body ends with an
/// error, which aborts the response (the client sees a truncated transfer, never a wrong one).
pub fn blocking_body<F>(produce: F) -> Body
where
    F: FnOnce(&mut ChannelWriter) -> Result<(), String> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx: tx.clone(),
            buf: BytesMut::with_capacity(CHUNK),
        };
        let result = produce(&mut w).and_then(|()| w.flush().map_err(|e| e.to_string()));
        if let Err(e) = result {
            tracing::debug!("gateway: response stream aborted: {e}");
            let _ = tx.blocking_send(Err(io::Error::other(e)));
        }
    });
    Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}
