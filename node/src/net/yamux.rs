//! The stream multiplexer every connection uses: yamux (`/yamux/1.0.0`), with bounds a hostile
//! peer cannot push past.
//!
//! libp2p-yamux 0.48 exposes only the stream count of yamux's configuration, and buffers up to
//! 256 inbound streams a connection has not accepted yet. Each open stream may hold up to its
//! receive window (256 KiB at first) of data we have not read, so a peer opening thousands of
//! streams could make us hold about 1 GiB per connection. This muxer is libp2p-yamux's, with:
//! - at most `max_streams` streams per connection, and a connection receive window of
//!   `max_streams` × 256 KiB + 768 KiB, so no stream's window grows past 1 MiB (rust-yamux
//!   refuses frames over 1 MiB, and js-yamux sends frames as large as the window it was given:
//!   see docs/DECISIONS.md) and the whole connection can never buffer more;
//! - at most [`MAX_BUFFERED_INBOUND`] inbound streams waiting to be accepted; more are reset.

use futures::{AsyncRead, AsyncWrite, ready};
use libp2p::core::muxing::{StreamMuxer, StreamMuxerEvent};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};
use std::collections::VecDeque;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// Inbound streams buffered while the swarm is not asking for them; more are reset.
pub const MAX_BUFFERED_INBOUND: usize = 32;
/// Headroom above the streams' initial windows: keeps every stream window at or below 1 MiB.
const WINDOW_HEADROOM: usize = 768 * 1024;
/// yamux's initial stream window.
const STREAM_WINDOW: usize = 256 * 1024;

/// The multiplexer upgrade.
#[derive(Debug, Clone)]
pub struct Yamux {
    max_streams: usize,
}

impl Yamux {
    /// At most `max_streams` streams per connection.
    pub fn new(max_streams: usize) -> Self {
        Yamux {
            max_streams: max_streams.max(1),
        }
    }

    /// Bytes one connection may hold unread, at most.
    pub fn connection_window(&self) -> usize {
        self.max_streams * STREAM_WINDOW + WINDOW_HEADROOM
    }

    fn config(&self) -> yamux::Config {
        let mut c = yamux::Config::default();
        // the stream count first (the default window is unlimited), then the window, which
        // yamux checks against the count
        c.set_max_num_streams(self.max_streams);
        c.set_max_connection_receive_window(Some(self.connection_window()));
        c
    }
}

impl UpgradeInfo for Yamux {
    type Info = &'static str;
    type InfoIter = std::iter::Once<Self::Info>;

    fn protocol_info(&self) -> Self::InfoIter {
        std::iter::once("/yamux/1.0.0")
    }
}

impl<C> InboundConnectionUpgrade<C> for Yamux
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = Muxer<C>;
    type Error = io::Error;
    type Future = futures::future::Ready<Result<Self::Output, Self::Error>>;

    fn upgrade_inbound(self, io: C, _: Self::Info) -> Self::Future {
        let conn = yamux::Connection::new(io, self.config(), yamux::Mode::Server);
        futures::future::ready(Ok(Muxer::new(conn)))
    }
}

impl<C> OutboundConnectionUpgrade<C> for Yamux
where
    C: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    type Output = Muxer<C>;
    type Error = io::Error;
    type Future = futures::future::Ready<Result<Self::Output, Self::Error>>;

    fn upgrade_outbound(self, io: C, _: Self::Info) -> Self::Future {
        let conn = yamux::Connection::new(io, self.config(), yamux::Mode::Client);
        futures::future::ready(Ok(Muxer::new(conn)))
    }
}

/// A yamux connection.
pub struct Muxer<C> {
    connection: yamux::Connection<C>,
    inbound: VecDeque<Stream>,
    inbound_waker: Option<Waker>,
}

impl<C> Muxer<C> {
    fn new(connection: yamux::Connection<C>) -> Self {
        Muxer {
            connection,
            inbound: VecDeque::new(),
            inbound_waker: None,
        }
    }
}

impl<C> Muxer<C>
where
    C: AsyncRead + AsyncWrite + Unpin + 'static,
{
    fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Result<Stream, Error>> {
        let stream = ready!(self.connection.poll_next_inbound(cx))
            .ok_or(Error(yamux::ConnectionError::Closed))?
            .map_err(Error)?;
        Poll::Ready(Ok(Stream(stream)))
    }
}

impl<C> StreamMuxer for Muxer<C>
where
    C: AsyncRead + AsyncWrite + Unpin + 'static,
{
    type Substream = Stream;
    type Error = Error;

    fn poll_inbound(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        if let Some(s) = self.inbound.pop_front() {
            return Poll::Ready(Ok(s));
        }
        if let Poll::Ready(r) = self.poll_next(cx) {
            return Poll::Ready(r);
        }
        self.inbound_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    fn poll_outbound(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::Substream, Self::Error>> {
        let s = ready!(self.connection.poll_new_outbound(cx)).map_err(Error)?;
        Poll::Ready(Ok(Stream(s)))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.connection.poll_close(cx).map_err(Error)
    }

    fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        let this = self.get_mut();
        let stream = ready!(this.poll_next(cx))?;
        if this.inbound.len() >= MAX_BUFFERED_INBOUND {
            // the peer opens streams faster than we take them: reset this one
            drop(stream);
        } else {
            this.inbound.push_back(stream);
            if let Some(w) = this.inbound_waker.take() {
                w.wake();
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A yamux stream.
#[derive(Debug)]
pub struct Stream(yamux::Stream);

impl AsyncRead for Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }

    fn poll_read_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read_vectored(cx, bufs)
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// A yamux connection error.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(yamux::ConnectionError);

impl From<Error> for io::Error {
    fn from(e: Error) -> Self {
        match e.0 {
            yamux::ConnectionError::Io(e) => e,
            e => io::Error::other(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_stay_at_or_below_one_mebibyte_per_stream() {
        let y = Yamux::new(256);
        assert_eq!(y.connection_window(), 256 * 256 * 1024 + 768 * 1024);
        // the window left for growth over the initial windows is 768 KiB: one stream may
        // reach 256 KiB + 768 KiB = 1 MiB, never more
        assert_eq!(
            y.connection_window() - 256 * STREAM_WINDOW + STREAM_WINDOW,
            1 << 20
        );
        // yamux accepts the configuration (it asserts the window covers every stream)
        let _ = y.config();
        let _ = Yamux::new(4093).config();
    }
}
