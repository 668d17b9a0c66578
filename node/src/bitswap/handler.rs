//! Per-connection handler: reads messages from every inbound Bitswap stream until EOF, and
//! writes queued outbound messages on one (re)opened outbound stream.
//!
//! Reading is bounded: a stream idle for `stream_idle_timeout` is closed, a frame must arrive
//! by its deadline, the frames being read on one connection share a byte budget, and messages
//! are decoded under the server's caps (entries per message, CID length) on this connection's
//! task, so a flood costs the swarm task nothing but a refusal.

use super::inbound::InboundMessage;
use super::inbound_streams::{Admitted, InboundStreams};
use super::limits::{BitswapLimits, EntryBucket};
use super::message::{DecodeCaps, EntryScan, Message, Skipped};
use super::protocol::{BitswapUpgrade, FrameError, Version, read_frame_within, write_frame_parts};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use libp2p::Stream;
use libp2p::swarm::handler::{
    ConnectionEvent, ConnectionHandler, ConnectionHandlerEvent, DialUpgradeError,
    FullyNegotiatedInbound, FullyNegotiatedOutbound, StreamUpgradeError, SubstreamProtocol,
};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Outbound messages queued on one connection before the oldest are dropped.
const MAX_QUEUED_MESSAGES: usize = 256;

/// Command from the behaviour.
#[derive(Debug)]
pub enum HandlerIn {
    /// Send this message; `block_bytes` is echoed back in `Sent`/`Dropped` for flow control.
    Send {
        /// The message.
        msg: Message,
        /// Block bytes it carries.
        block_bytes: usize,
    },
}

/// Report to the behaviour.
#[derive(Debug)]
pub enum HandlerOut {
    /// A message arrived on an inbound stream (its blocks hashed on this connection's task).
    Message(InboundMessage),
    /// A stream was negotiated (inbound or outbound): the remote speaks Bitswap.
    Supported(Version),
    /// The remote refused every Bitswap protocol; queued messages were dropped.
    Unsupported,
    /// A message carrying `block_bytes` bytes of blocks was written.
    Sent {
        /// Block bytes written.
        block_bytes: usize,
    },
    /// Messages carrying `block_bytes` bytes of blocks could not be written.
    Dropped {
        /// Block bytes dropped.
        block_bytes: usize,
    },
    /// An inbound frame was malformed or too large; the stream was closed.
    BadFrame(String),
    /// An inbound frame missed its deadline; the stream was closed.
    FrameTimedOut(String),
}

/// What reading an inbound stream yields.
enum Inbound {
    Message(InboundMessage),
    Bad(String),
    TimedOut(String),
}

type WriteResult = Result<(Stream, Version, usize), (bool, Vec<(Message, usize)>)>;

enum Outbound {
    /// No stream, or an idle one ready for reuse (and since when it is idle).
    Idle(Option<(Stream, Version, Instant)>),
    /// A stream was requested from the swarm.
    Opening,
    /// Writing a batch of messages.
    Writing(BoxFuture<'static, WriteResult>),
}

/// The connection handler of [`super::Behaviour`].
pub struct Handler {
    queue: VecDeque<(Message, usize)>,
    outbound: Outbound,
    inbound: InboundStreams<Stream, Inbound>,
    events: VecDeque<HandlerOut>,
    announced: bool,
    retried: bool,
    /// An idle outbound stream older than this is not reused: the remote may be closing it.
    reuse_for: Duration,
}

impl Handler {
    /// A handler with nothing queued, reading under `limits`.
    pub fn new(limits: Arc<BitswapLimits>) -> Self {
        let reader = Reader {
            budget_bytes: limits.read_budget(),
            budget: Arc::new(Semaphore::new(limits.read_budget())),
            bucket: Arc::new(Mutex::new(EntryBucket::new(
                limits.max_entries_per_second,
                limits.max_entries_per_message,
                Instant::now(),
            ))),
            limits,
        };
        let reuse_for = reader.limits.stream_idle_timeout / 2;
        Handler {
            queue: VecDeque::new(),
            outbound: Outbound::Idle(None),
            inbound: InboundStreams::new(move |stream| read_messages(stream, reader.clone())),
            events: VecDeque::new(),
            announced: false,
            retried: false,
            reuse_for,
        }
    }

    fn supported(&mut self, version: Version) {
        if !self.announced {
            self.announced = true;
            self.events.push_back(HandlerOut::Supported(version));
        }
    }

    fn drop_queue(&mut self) {
        let block_bytes = self.queue.drain(..).map(|(_, b)| b).sum();
        self.events.push_back(HandlerOut::Dropped { block_bytes });
    }

    fn start_write(&mut self, stream: Stream, version: Version, reused: bool) {
        let batch: Vec<_> = self.queue.drain(..).collect();
        self.outbound = Outbound::Writing(write_batch(stream, version, batch, reused).boxed());
    }
}

async fn write_batch(
    mut stream: Stream,
    version: Version,
    batch: Vec<(Message, usize)>,
    reused: bool,
) -> WriteResult {
    let mut bytes = 0;
    for (i, (msg, b)) in batch.iter().enumerate() {
        if let Err(e) = write_frame_parts(&mut stream, msg.encode_frame_parts(version)).await {
            tracing::debug!("bitswap write failed: {e}");
            // A stale reused stream fails on its first write: retry everything on a new one.
            return Err((reused && i == 0, batch));
        }
        bytes += b;
    }
    Ok((stream, version, bytes))
}

/// What the inbound streams of one connection share.
#[derive(Clone)]
struct Reader {
    limits: Arc<BitswapLimits>,
    /// Bytes of frames being read (see [`read_frame_within`]).
    budget: Arc<Semaphore>,
    budget_bytes: usize,
    /// Entries per second.
    bucket: Arc<Mutex<EntryBucket>>,
}

impl Reader {
    /// Reads, checks and decodes the next message of `stream`; `None` ends the stream.
    async fn next(&self, stream: &mut Stream) -> Option<(Inbound, bool)> {
        let cap = self.limits.max_entries_per_message;
        let mut scan = EntryScan::default();
        let read = read_frame_within(stream, &self.limits, &self.budget, self.budget_bytes, |b| {
            scan.advance(b);
            scan.wants <= cap && scan.presences <= cap
        })
        .await;
        match read {
            Ok(None) | Err(FrameError::Idle(_)) => None,
            Ok(Some(frame)) => {
                let caps = DecodeCaps {
                    max_entries: cap,
                    max_cid_len: self.limits.max_cid_len,
                };
                let bytes = bytes::Bytes::from(frame.bytes);
                match Message::decode_frame_capped(&bytes, caps) {
                    Ok((msg, skipped)) => {
                        let entries = msg.wantlist.as_ref().map_or(0, |w| w.entries.len())
                            + msg.presences.len()
                            + skipped.long_cids;
                        self.pace(entries).await;
                        let mut msg = InboundMessage::hash(msg);
                        msg.skipped = skipped;
                        Some((Inbound::Message(msg), true))
                    }
                    Err(e) => Some((Inbound::Bad(e.to_string()), false)),
                }
            }
            Err(FrameError::Refused { .. }) => {
                // the rest of the frame is unread: the stream cannot go on
                let refused = InboundMessage {
                    wantlist: None,
                    blocks: Vec::new(),
                    presences: Vec::new(),
                    skipped: Skipped {
                        wants_over_cap: scan.wants,
                        presences_over_cap: scan.presences.saturating_sub(cap),
                        long_cids: 0,
                    },
                };
                Some((Inbound::Message(refused), false))
            }
            Err(e @ FrameError::TimedOut { .. }) => Some((Inbound::TimedOut(e.to_string()), false)),
            // a length over the limit or malformed: an offence
            Err(FrameError::Bad(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                Some((Inbound::Bad(e.to_string()), false))
            }
            // the stream broke (reset, closed mid-frame): no offence, it just ends
            Err(FrameError::Bad(e)) => {
                tracing::debug!("bitswap: inbound stream ended mid-frame: {e}");
                None
            }
        }
    }

    /// Takes `entries` from the connection's bucket; in debt, waits until it is not.
    async fn pace(&self, entries: usize) {
        let until = self
            .bucket
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take(entries, Instant::now());
        if let Some(until) = until {
            tokio::time::sleep_until(until.into()).await;
        }
    }
}

fn read_messages(stream: Stream, reader: Reader) -> BoxStream<'static, Inbound> {
    futures::stream::unfold(Some(stream), move |state| {
        let reader = reader.clone();
        async move {
            let mut stream = state?;
            let (item, go_on) = reader.next(&mut stream).await?;
            Some((item, go_on.then_some(stream)))
        }
    })
    .boxed()
}

impl ConnectionHandler for Handler {
    type FromBehaviour = HandlerIn;
    type ToBehaviour = HandlerOut;
    type InboundProtocol = BitswapUpgrade;
    type OutboundProtocol = BitswapUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = ();

    fn listen_protocol(&self) -> SubstreamProtocol<BitswapUpgrade, ()> {
        SubstreamProtocol::new(BitswapUpgrade, ())
    }

    fn connection_keep_alive(&self) -> bool {
        !self.queue.is_empty()
            || !matches!(self.outbound, Outbound::Idle(_))
            || !self.inbound.is_empty()
    }

    fn on_behaviour_event(&mut self, event: HandlerIn) {
        let HandlerIn::Send { msg, block_bytes } = event;
        if self.queue.len() >= MAX_QUEUED_MESSAGES
            && let Some((_, b)) = self.queue.pop_front()
        {
            tracing::warn!("bitswap outbound queue full; dropping oldest message");
            self.events
                .push_back(HandlerOut::Dropped { block_bytes: b });
        }
        self.queue.push_back((msg, block_bytes));
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<'_, BitswapUpgrade, BitswapUpgrade, (), ()>,
    ) {
        match event {
            ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
                protocol: (stream, version),
                ..
            }) => {
                self.supported(version);
                if self.inbound.push(stream) == Admitted::Dropped {
                    tracing::warn!(
                        "bitswap: a peer has {} streams open on one connection; dropping a new one",
                        super::inbound_streams::MAX_READ + super::inbound_streams::MAX_WAITING
                    );
                }
            }
            ConnectionEvent::FullyNegotiatedOutbound(FullyNegotiatedOutbound {
                protocol: (stream, version),
                ..
            }) => {
                self.supported(version);
                self.outbound = Outbound::Idle(Some((stream, version, Instant::now())));
            }
            ConnectionEvent::DialUpgradeError(DialUpgradeError { error, .. }) => {
                self.outbound = Outbound::Idle(None);
                if matches!(error, StreamUpgradeError::NegotiationFailed) {
                    self.events.push_back(HandlerOut::Unsupported);
                } else {
                    tracing::debug!("bitswap outbound stream failed: {error}");
                }
                self.drop_queue();
            }
            _ => {}
        }
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<BitswapUpgrade, (), HandlerOut>> {
        loop {
            if let Some(ev) = self.events.pop_front() {
                return Poll::Ready(ConnectionHandlerEvent::NotifyBehaviour(ev));
            }
            match self.inbound.poll_next(cx) {
                Poll::Ready(Inbound::Message(msg)) => {
                    self.events.push_back(HandlerOut::Message(msg));
                    continue;
                }
                Poll::Ready(Inbound::Bad(e)) => {
                    self.events.push_back(HandlerOut::BadFrame(e));
                    continue;
                }
                Poll::Ready(Inbound::TimedOut(e)) => {
                    self.events.push_back(HandlerOut::FrameTimedOut(e));
                    continue;
                }
                Poll::Pending => {}
            }
            match &mut self.outbound {
                Outbound::Writing(fut) => match fut.poll_unpin(cx) {
                    Poll::Ready(Ok((stream, version, block_bytes))) => {
                        self.retried = false;
                        self.outbound = Outbound::Idle(Some((stream, version, Instant::now())));
                        self.events.push_back(HandlerOut::Sent { block_bytes });
                        continue;
                    }
                    Poll::Ready(Err((retry, batch))) => {
                        self.outbound = Outbound::Idle(None);
                        for item in batch.into_iter().rev() {
                            self.queue.push_front(item);
                        }
                        if !retry || std::mem::replace(&mut self.retried, true) {
                            self.retried = false;
                            self.drop_queue();
                        }
                        continue;
                    }
                    Poll::Pending => return Poll::Pending,
                },
                Outbound::Idle(slot) if !self.queue.is_empty() => match slot.take() {
                    // not one idle so long that the remote may be closing it as idle
                    Some((stream, version, since)) if since.elapsed() < self.reuse_for => {
                        self.start_write(stream, version, true);
                        continue;
                    }
                    Some(_) | None => {
                        self.outbound = Outbound::Opening;
                        let protocol = SubstreamProtocol::new(BitswapUpgrade, ())
                            .with_timeout(Duration::from_secs(15));
                        return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                            protocol,
                        });
                    }
                },
                _ => return Poll::Pending,
            }
        }
    }
}
