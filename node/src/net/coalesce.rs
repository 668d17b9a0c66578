//! Gathers a muxer's small writes into one write to the encrypted stream.
//!
//! yamux writes every frame with two `poll_write`s — its 12-byte header, then a body of at most
//! 16 KiB — and flushes after each frame. futures-rustls seals every write into TLS records and
//! hands them to the socket at once, so over TLS a bulk transfer cost two `writev` syscalls per
//! 16 KiB (12,800 per 100 MiB), and those syscalls were a fifth of a Bitswap sender's CPU.
//! [`Coalesced`] keeps writes in a buffer and passes them down on flush (yamux: after every
//! frame) or when the buffer is full, so a frame reaches the socket in one syscall. Reads pass
//! straight through.

use futures::io::{AsyncRead, AsyncWrite};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Most bytes held back before they are passed down without waiting for a flush.
pub const CAPACITY: usize = 64 << 10;

/// A stream whose writes are buffered until flush (or until [`CAPACITY`] bytes are waiting).
#[derive(Debug)]
pub struct Coalesced<S> {
    inner: S,
    buf: Vec<u8>,
    /// Bytes at the front of `buf` the inner stream has already taken.
    written: usize,
}

impl<S> Coalesced<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Coalesced {
            inner,
            buf: Vec::new(),
            written: 0,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncWrite + Unpin> Coalesced<S> {
    /// Hands everything buffered to the inner stream.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buf.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buf[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.buf.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Coalesced<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [io::IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_read_vectored(cx, bufs)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Coalesced<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.buf.len() + data.len() > CAPACITY && !this.buf.is_empty() {
            ready!(this.poll_drain(cx))?;
        }
        if data.len() >= CAPACITY {
            // nothing is buffered now: a large write goes down as it is
            return Pin::new(&mut this.inner).poll_write(cx, data);
        }
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::AsyncWriteExt;

    /// Records every write it receives; accepts at most `limit` bytes per write and returns
    /// `Pending` (once) on every other call when `stall` is set.
    #[derive(Default)]
    struct Recorder {
        writes: Vec<Vec<u8>>,
        flushes: usize,
        limit: Option<usize>,
        stall: bool,
        stalled: bool,
    }

    impl AsyncWrite for Recorder {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            data: &[u8],
        ) -> Poll<io::Result<usize>> {
            if self.stall && !std::mem::replace(&mut self.stalled, true) {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.stalled = false;
            let n = data.len().min(self.limit.unwrap_or(usize::MAX));
            self.writes.push(data[..n].to_vec());
            Poll::Ready(Ok(n))
        }

        fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.flushes += 1;
            Poll::Ready(Ok(()))
        }

        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn frame(i: u8, body: usize) -> (Vec<u8>, Vec<u8>) {
        (vec![i; 12], vec![i.wrapping_add(100); body])
    }

    #[test]
    fn a_frame_header_and_body_reach_the_stream_as_one_write_per_flush() {
        futures::executor::block_on(async {
            let mut s = Coalesced::new(Recorder::default());
            let mut expected = Vec::new();
            for i in 0..3 {
                let (header, body) = frame(i, 16 << 10);
                s.write_all(&header).await.unwrap();
                s.write_all(&body).await.unwrap();
                s.flush().await.unwrap();
                expected.push([header, body].concat());
            }
            let rec = s.get_ref();
            assert_eq!(rec.writes, expected);
            assert_eq!(rec.flushes, 3);
        });
    }

    #[test]
    fn a_full_buffer_goes_down_without_a_flush_and_nothing_is_lost_or_reordered() {
        futures::executor::block_on(async {
            // the inner stream takes 5000 bytes per write and stalls every other call
            let rec = Recorder {
                limit: Some(5000),
                stall: true,
                ..Recorder::default()
            };
            let mut s = Coalesced::new(rec);
            let mut sent = Vec::new();
            for i in 0..20u8 {
                let (header, body) = frame(i, 16 << 10);
                s.write_all(&header).await.unwrap();
                s.write_all(&body).await.unwrap();
                sent.extend_from_slice(&header);
                sent.extend_from_slice(&body);
            }
            // more than CAPACITY was written without a flush: some of it already went down
            assert!(!s.get_ref().writes.is_empty());
            assert!(s.get_ref().writes.concat().len() < sent.len());
            s.flush().await.unwrap();
            assert_eq!(s.get_ref().writes.concat(), sent);
            assert!(s.get_ref().writes.iter().all(|w| w.len() <= 5000));
        });
    }

    #[test]
    fn writes_of_at_least_the_capacity_pass_through_after_what_was_buffered() {
        futures::executor::block_on(async {
            let mut s = Coalesced::new(Recorder::default());
            s.write_all(b"head").await.unwrap();
            let big = vec![9u8; CAPACITY + 1];
            s.write_all(&big).await.unwrap();
            s.close().await.unwrap();
            assert_eq!(s.get_ref().writes, vec![b"head".to_vec(), big]);
        });
    }
}
