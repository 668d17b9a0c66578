//! Per-connection handler: reads messages from every inbound Bitswap stream until EOF, and
//! writes queued outbound messages on one (re)opened outbound stream.

use super::inbound::InboundMessage;
use super::inbound_streams::{Admitted, InboundStreams};
use super::message::Message;
use super::protocol::{BitswapUpgrade, Version, read_frame, write_frame_parts};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use libp2p::Stream;
use libp2p::swarm::handler::{
    ConnectionEvent, ConnectionHandler, ConnectionHandlerEvent, DialUpgradeError,
    FullyNegotiatedInbound, FullyNegotiatedOutbound, StreamUpgradeError, SubstreamProtocol,
};
use std::collections::VecDeque;
use std::task::{Context, Poll};
use std::time::Duration;

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
}

type WriteResult = Result<(Stream, Version, usize), (bool, Vec<(Message, usize)>)>;

enum Outbound {
    /// No stream, or an idle one ready for reuse.
    Idle(Option<(Stream, Version)>),
    /// A stream was requested from the swarm.
    Opening,
    /// Writing a batch of messages.
    Writing(BoxFuture<'static, WriteResult>),
}

/// The connection handler of [`super::Behaviour`].
pub struct Handler {
    queue: VecDeque<(Message, usize)>,
    outbound: Outbound,
    inbound: InboundStreams<Stream, Result<InboundMessage, String>>,
    events: VecDeque<HandlerOut>,
    announced: bool,
    retried: bool,
}

impl Handler {
    /// A handler with nothing queued.
    pub fn new() -> Self {
        Handler {
            queue: VecDeque::new(),
            outbound: Outbound::Idle(None),
            inbound: InboundStreams::new(read_messages),
            events: VecDeque::new(),
            announced: false,
            retried: false,
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

impl Default for Handler {
    fn default() -> Self {
        Self::new()
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

fn read_messages(stream: Stream) -> BoxStream<'static, Result<InboundMessage, String>> {
    futures::stream::unfold(Some(stream), |state| async move {
        let mut stream = state?;
        match read_frame(&mut stream).await {
            Ok(None) => None,
            Ok(Some(frame)) => match Message::decode_frame(&frame.into()) {
                Ok(msg) => Some((Ok(InboundMessage::hash(msg)), Some(stream))),
                Err(e) => Some((Err(e.to_string()), None)),
            },
            Err(e) => Some((Err(e.to_string()), None)),
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
                self.outbound = Outbound::Idle(Some((stream, version)));
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
                Poll::Ready(Ok(msg)) => {
                    self.events.push_back(HandlerOut::Message(msg));
                    continue;
                }
                Poll::Ready(Err(e)) => {
                    self.events.push_back(HandlerOut::BadFrame(e));
                    continue;
                }
                Poll::Pending => {}
            }
            match &mut self.outbound {
                Outbound::Writing(fut) => match fut.poll_unpin(cx) {
                    Poll::Ready(Ok((stream, version, block_bytes))) => {
                        self.retried = false;
                        self.outbound = Outbound::Idle(Some((stream, version)));
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
                    Some((stream, version)) => {
                        self.start_write(stream, version, true);
                        continue;
                    }
                    None => {
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
