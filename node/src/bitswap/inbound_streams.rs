//! The inbound Bitswap streams of one connection: a few read at once, the rest waiting.
//!
//! boxo (Kubo) sends every message that carries blocks on a stream of its own, from up to 8
//! workers at once, next to the stream of its wantlist messages. Dropping a stream drops the
//! blocks in it, and the sender never sends them again, so a fetch stalls. Streams beyond
//! [`MAX_READ`] therefore wait, unread — their yamux window holds the sender back — and are read
//! as earlier ones end. Only past [`MAX_WAITING`] more (a peer opening streams without end) are
//! new streams dropped.

use futures::StreamExt;
use futures::stream::{BoxStream, SelectAll};
use std::collections::VecDeque;
use std::task::{Context, Poll};

/// Streams of one connection read at the same time.
pub const MAX_READ: usize = 8;
/// Streams of one connection waiting to be read; more are dropped.
pub const MAX_WAITING: usize = 64;

/// Streams being read (through `read`, which turns one into a stream of items) and waiting.
pub struct InboundStreams<S, T> {
    reading: SelectAll<BoxStream<'static, T>>,
    waiting: VecDeque<S>,
    read: Box<dyn FnMut(S) -> BoxStream<'static, T> + Send>,
}

/// What [`InboundStreams::push`] did with a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admitted {
    /// It is being read.
    Reading,
    /// It waits for an earlier stream to end.
    Waiting,
    /// Too many streams: it was dropped.
    Dropped,
}

impl<S, T: 'static> InboundStreams<S, T> {
    /// No streams; `read` turns an admitted stream into the items it yields.
    pub fn new(read: impl FnMut(S) -> BoxStream<'static, T> + Send + 'static) -> Self {
        InboundStreams {
            reading: SelectAll::new(),
            waiting: VecDeque::new(),
            read: Box::new(read),
        }
    }

    /// Admits a new stream.
    pub fn push(&mut self, stream: S) -> Admitted {
        if self.reading.len() < MAX_READ {
            self.reading.push((self.read)(stream));
            Admitted::Reading
        } else if self.waiting.len() < MAX_WAITING {
            self.waiting.push_back(stream);
            Admitted::Waiting
        } else {
            Admitted::Dropped
        }
    }

    /// Whether no stream is being read or waiting.
    pub fn is_empty(&self) -> bool {
        self.reading.is_empty() && self.waiting.is_empty()
    }

    /// The next item of any stream being read; waiting streams start as others end.
    /// `Pending` (never `Ready(None)`) when nothing is ready.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<T> {
        loop {
            while self.reading.len() < MAX_READ
                && let Some(s) = self.waiting.pop_front()
            {
                self.reading.push((self.read)(s));
            }
            match self.reading.poll_next_unpin(cx) {
                Poll::Ready(Some(item)) => return Poll::Ready(item),
                // every stream ended: start waiting ones (polled in the next round so they
                // register the waker), or wait for a new stream
                Poll::Ready(None) if !self.waiting.is_empty() => continue,
                Poll::Ready(None) => return Poll::Pending,
                // streams that ended in this poll made room: start waiting ones and poll them
                Poll::Pending if self.reading.len() < MAX_READ && !self.waiting.is_empty() => {
                    continue;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Number of streams being read.
    pub fn reading(&self) -> usize {
        self.reading.len()
    }

    /// Number of streams waiting.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

impl<S, T> std::fmt::Debug for InboundStreams<S, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InboundStreams")
            .field("reading", &self.reading.len())
            .field("waiting", &self.waiting.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::channel::mpsc;
    use futures::task::noop_waker_ref;

    type Sender = mpsc::UnboundedSender<u32>;

    fn read(rx: mpsc::UnboundedReceiver<u32>) -> BoxStream<'static, u32> {
        rx.boxed()
    }

    fn drain(streams: &mut InboundStreams<mpsc::UnboundedReceiver<u32>, u32>) -> Vec<u32> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Vec::new();
        while let Poll::Ready(v) = streams.poll_next(&mut cx) {
            out.push(v);
        }
        out
    }

    #[test]
    fn streams_beyond_the_reading_limit_wait_and_are_read_later_none_lost() {
        let mut streams = InboundStreams::new(read);
        let mut senders: Vec<Sender> = Vec::new();
        // like boxo: every message on a stream of its own, all opened before any is read
        for i in 0..(MAX_READ as u32 + 5) {
            let (tx, rx) = mpsc::unbounded();
            tx.unbounded_send(i).unwrap();
            let admitted = streams.push(rx);
            let expected = if (i as usize) < MAX_READ {
                Admitted::Reading
            } else {
                Admitted::Waiting
            };
            assert_eq!(admitted, expected, "stream {i}");
            senders.push(tx);
        }
        assert_eq!((streams.reading(), streams.waiting()), (MAX_READ, 5));
        // the first 8 deliver; the waiting ones cannot start while those stay open
        let mut got = drain(&mut streams);
        assert_eq!(got.len(), MAX_READ);
        // the senders close their streams (as boxo does after one message)
        senders.clear();
        got.extend(drain(&mut streams));
        got.sort();
        assert_eq!(got, (0..MAX_READ as u32 + 5).collect::<Vec<_>>());
        assert!(streams.is_empty());
    }

    #[test]
    fn only_streams_past_the_waiting_limit_are_dropped() {
        let mut streams = InboundStreams::new(read);
        let mut keep = Vec::new();
        for _ in 0..MAX_READ + MAX_WAITING {
            let (tx, rx) = mpsc::unbounded();
            assert_ne!(streams.push(rx), Admitted::Dropped);
            keep.push(tx);
        }
        let (_tx, rx) = mpsc::unbounded();
        assert_eq!(streams.push(rx), Admitted::Dropped);
        assert!(!streams.is_empty());
    }
}
