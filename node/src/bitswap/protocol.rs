//! Stream protocols and framing: every message is a uvarint length followed by that many bytes
//! of protobuf, at most [`MAX_MESSAGE_SIZE`]; inbound streams are read until EOF, each frame
//! under deadlines and the connection's read budget ([`read_frame_within`]).

use super::limits::BitswapLimits;
use futures::future::{Ready, ready};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::core::upgrade::{InboundUpgrade, OutboundUpgrade, UpgradeInfo};
use libp2p::{Stream, StreamProtocol};
use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::timeout;

/// Largest accepted frame (4 MiB, like boxo's `network.maxMessageSize`).
pub const MAX_MESSAGE_SIZE: usize = 4 << 20;

/// `/ipfs/bitswap/1.2.0`.
pub const PROTOCOL_1_2_0: StreamProtocol = StreamProtocol::new("/ipfs/bitswap/1.2.0");
/// `/ipfs/bitswap/1.1.0`.
pub const PROTOCOL_1_1_0: StreamProtocol = StreamProtocol::new("/ipfs/bitswap/1.1.0");
/// `/ipfs/bitswap/1.0.0`.
pub const PROTOCOL_1_0_0: StreamProtocol = StreamProtocol::new("/ipfs/bitswap/1.0.0");

/// A Bitswap protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// Raw `blocks`, CIDv0 only.
    V1_0_0,
    /// `payload` blocks with CID prefixes.
    V1_1_0,
    /// Adds want-have, HAVE/DONT_HAVE and `pendingBytes`.
    V1_2_0,
}

impl Version {
    /// The stream protocol for this version.
    pub fn protocol(self) -> StreamProtocol {
        match self {
            Version::V1_0_0 => PROTOCOL_1_0_0,
            Version::V1_1_0 => PROTOCOL_1_1_0,
            Version::V1_2_0 => PROTOCOL_1_2_0,
        }
    }

    fn from_protocol(p: &StreamProtocol) -> Self {
        if *p == PROTOCOL_1_0_0 {
            Version::V1_0_0
        } else if *p == PROTOCOL_1_1_0 {
            Version::V1_1_0
        } else {
            Version::V1_2_0
        }
    }
}

/// Negotiates any Bitswap version, newest first; yields the stream and the agreed version.
#[derive(Debug, Clone, Copy, Default)]
pub struct BitswapUpgrade;

impl UpgradeInfo for BitswapUpgrade {
    type Info = StreamProtocol;
    type InfoIter = [StreamProtocol; 3];

    fn protocol_info(&self) -> Self::InfoIter {
        [PROTOCOL_1_2_0, PROTOCOL_1_1_0, PROTOCOL_1_0_0]
    }
}

impl InboundUpgrade<Stream> for BitswapUpgrade {
    type Output = (Stream, Version);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_inbound(self, stream: Stream, info: StreamProtocol) -> Self::Future {
        ready(Ok((stream, Version::from_protocol(&info))))
    }
}

impl OutboundUpgrade<Stream> for BitswapUpgrade {
    type Output = (Stream, Version);
    type Error = Infallible;
    type Future = Ready<Result<Self::Output, Infallible>>;

    fn upgrade_outbound(self, stream: Stream, info: StreamProtocol) -> Self::Future {
        ready(Ok((stream, Version::from_protocol(&info))))
    }
}

/// Reads one frame, with no deadline and no budget (see [`read_frame_within`] for received
/// streams). `Ok(None)` is a clean EOF before any byte of a new frame. Frames larger than
/// [`MAX_MESSAGE_SIZE`] are an `InvalidData` error.
pub async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Option<Vec<u8>>> {
    let mut byte = [0u8; 1];
    if stream.read(&mut byte).await? == 0 {
        return Ok(None);
    }
    let len = read_length(stream, byte[0]).await?;
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).await?;
    Ok(Some(buf))
}

/// Why [`read_frame_within`] returned no frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// No frame started within the idle timeout (not an offence: the stream is just closed).
    #[error("no frame for {0:?}")]
    Idle(Duration),
    /// A frame started but did not arrive in time.
    #[error("frame of {len:?} bytes not received within {after:?}")]
    TimedOut {
        /// Its length, once known.
        len: Option<usize>,
        /// The deadline missed.
        after: Duration,
    },
    /// The frame's `watch` refused it part-way (the rest of it was not read).
    #[error("frame refused after {read} of its {len} bytes")]
    Refused {
        /// Bytes read.
        read: usize,
        /// Its length.
        len: usize,
    },
    /// The length prefix is malformed or over [`MAX_MESSAGE_SIZE`], or the stream failed.
    #[error(transparent)]
    Bad(#[from] io::Error),
}

/// A frame read by [`read_frame_within`], holding its share of the connection's read budget
/// until dropped.
#[derive(Debug)]
pub struct Frame {
    /// The frame's bytes.
    pub bytes: Vec<u8>,
    _budget: Option<OwnedSemaphorePermit>,
}

/// Reads one frame under `limits`: its first byte must come within the stream idle timeout,
/// the rest of its length within the frame timeout, and its body within
/// [`BitswapLimits::frame_deadline`] once it has room in `budget` (the connection's read
/// budget, `budget_bytes` in all: the frame's buffer is allocated only then, and the room is
/// held until the returned [`Frame`] is dropped). `watch` sees the frame's bytes as they arrive
/// (all of them so far, each time more came) and may refuse it by returning false. `Ok(None)`
/// is a clean EOF between frames. Must run inside a tokio runtime (timers).
pub async fn read_frame_within<S: AsyncRead + Unpin>(
    stream: &mut S,
    limits: &BitswapLimits,
    budget: &Arc<Semaphore>,
    budget_bytes: usize,
    mut watch: impl FnMut(&[u8]) -> bool,
) -> Result<Option<Frame>, FrameError> {
    let mut byte = [0u8; 1];
    let idle = limits.stream_idle_timeout;
    match timeout(idle, stream.read(&mut byte)).await {
        Err(_) => return Err(FrameError::Idle(idle)),
        Ok(Ok(0)) => return Ok(None),
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(e.into()),
    }
    let after = limits.frame_timeout;
    let len = timeout(after, read_length(stream, byte[0]))
        .await
        .map_err(|_| FrameError::TimedOut { len: None, after })??;
    let permit = if len == 0 {
        None
    } else {
        let room = len.min(budget_bytes) as u32;
        let permit = budget.clone().acquire_many_owned(room).await;
        Some(permit.map_err(|_| io::Error::other("read budget closed"))?)
    };
    let mut bytes = vec![0; len];
    let after = limits.frame_deadline(len);
    let body = async {
        let mut read = 0;
        while read < len {
            match stream.read(&mut bytes[read..]).await? {
                0 => return Err(FrameError::Bad(io::ErrorKind::UnexpectedEof.into())),
                n => read += n,
            }
            if !watch(&bytes[..read]) {
                return Err(FrameError::Refused { read, len });
            }
        }
        Ok(())
    };
    timeout(after, body)
        .await
        .map_err(|_| FrameError::TimedOut {
            len: Some(len),
            after,
        })??;
    Ok(Some(Frame {
        bytes,
        _budget: permit,
    }))
}

/// The rest of a frame's length varint after its `first` byte; over [`MAX_MESSAGE_SIZE`] is
/// an `InvalidData` error.
async fn read_length<S: AsyncRead + Unpin>(stream: &mut S, first: u8) -> io::Result<usize> {
    let mut byte = first;
    let mut len = 0u64;
    for i in 0..10 {
        if i > 0 && stream.read(std::slice::from_mut(&mut byte)).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            if len > MAX_MESSAGE_SIZE as u64 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bitswap frame of {len} bytes exceeds {MAX_MESSAGE_SIZE}"),
                ));
            }
            return Ok(len as usize);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "frame length varint too long",
    ))
}

/// Writes one frame given as parts (from [`super::message::Message::encode_frame_parts`]:
/// the length prefix, then the message, block bytes uncopied) and flushes.
pub async fn write_frame_parts<S: AsyncWrite + Unpin>(
    stream: &mut S,
    parts: Vec<bytes::Bytes>,
) -> io::Result<()> {
    for part in parts {
        stream.write_all(&part).await?;
    }
    stream.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::io::Cursor;

    #[test]
    fn frames_round_trip_and_oversize_is_rejected() {
        futures::executor::block_on(async {
            let mut buf = Cursor::new(Vec::new());
            let frame = |body: &'static [u8]| {
                let mut head = Vec::new();
                super::super::pb::put_varint(&mut head, body.len() as u64);
                vec![bytes::Bytes::from(head), bytes::Bytes::from_static(body)]
            };
            write_frame_parts(&mut buf, frame(b"abc")).await.unwrap();
            write_frame_parts(&mut buf, frame(b"")).await.unwrap();
            let mut r = Cursor::new(buf.into_inner());
            assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), b"abc");
            assert_eq!(read_frame(&mut r).await.unwrap().unwrap(), b"");
            assert!(read_frame(&mut r).await.unwrap().is_none());

            let mut big = Vec::new();
            super::super::pb::put_varint(&mut big, MAX_MESSAGE_SIZE as u64 + 1);
            let err = read_frame(&mut Cursor::new(big)).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData);
            let err = read_frame(&mut Cursor::new(vec![0x85])).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            let err = read_frame(&mut Cursor::new(vec![3, 1])).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        });
    }

    /// Limits with every deadline `ms` long (no allowance per byte).
    fn short(ms: u64) -> BitswapLimits {
        BitswapLimits {
            stream_idle_timeout: Duration::from_millis(ms),
            frame_timeout: Duration::from_millis(ms),
            min_frame_rate: usize::MAX,
            ..BitswapLimits::default()
        }
    }

    fn pipe() -> (
        tokio::io::DuplexStream,
        tokio_util::compat::Compat<tokio::io::DuplexStream>,
    ) {
        use tokio_util::compat::TokioAsyncReadCompatExt;
        let (w, r) = tokio::io::duplex(16 << 20);
        (w, r.compat())
    }

    fn head(len: usize) -> Vec<u8> {
        let mut h = Vec::new();
        super::super::pb::put_varint(&mut h, len as u64);
        h
    }

    const BUDGET: usize = MAX_MESSAGE_SIZE;

    fn budget() -> Arc<Semaphore> {
        Arc::new(Semaphore::new(BUDGET))
    }

    #[tokio::test]
    async fn idle_streams_end_and_frames_must_arrive_by_their_deadline() {
        use tokio::io::AsyncWriteExt;
        let l = short(400);
        let b = budget();
        // nothing at all: idle
        let (_w, mut r) = pipe();
        let t0 = std::time::Instant::now();
        let err = read_frame_within(&mut r, &l, &b, BUDGET, |_| true)
            .await
            .unwrap_err();
        assert!(matches!(err, FrameError::Idle(_)), "{err}");
        assert!(t0.elapsed() >= Duration::from_millis(400));

        // the body comes well within the deadline: read
        let (mut w, mut r) = pipe();
        w.write_all(&head(10)).await.unwrap();
        let writer = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            w.write_all(&[7; 10]).await.unwrap();
            w
        });
        let frame = read_frame_within(&mut r, &l, &b, BUDGET, |_| true)
            .await
            .unwrap();
        assert_eq!(frame.unwrap().bytes, [7; 10]);
        // a clean end between frames
        drop(writer.await.unwrap());
        assert!(
            read_frame_within(&mut r, &l, &b, BUDGET, |_| true)
                .await
                .unwrap()
                .is_none()
        );

        // the body comes after the deadline: timed out, its room in the budget given back
        let (mut w, mut r) = pipe();
        w.write_all(&head(10)).await.unwrap();
        w.write_all(&[7; 9]).await.unwrap();
        let t0 = std::time::Instant::now();
        let err = read_frame_within(&mut r, &l, &b, BUDGET, |_| true)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FrameError::TimedOut { len: Some(10), .. }),
            "{err}"
        );
        assert!(t0.elapsed() >= Duration::from_millis(400));
        assert_eq!(b.available_permits(), BUDGET);

        // half a length: timed out too
        let (mut w, mut r) = pipe();
        w.write_all(&[0x85]).await.unwrap();
        let err = read_frame_within(&mut r, &l, &b, BUDGET, |_| true)
            .await
            .unwrap_err();
        assert!(
            matches!(err, FrameError::TimedOut { len: None, .. }),
            "{err}"
        );

        // a length over the limit is a bad frame, its body never read
        let (mut w, mut r) = pipe();
        w.write_all(&head(MAX_MESSAGE_SIZE + 1)).await.unwrap();
        let err = read_frame_within(&mut r, &l, &b, BUDGET, |_| true)
            .await
            .unwrap_err();
        assert!(matches!(err, FrameError::Bad(_)), "{err}");
    }

    #[tokio::test]
    async fn frames_of_one_connection_share_its_read_budget() {
        use tokio::io::AsyncWriteExt;
        let l = short(300);
        let b = budget();
        let (mut w1, mut r1) = pipe();
        let (mut w2, mut r2) = pipe();
        let (mut w3, mut r3) = pipe();
        // exactly the budget: two frames read at once
        let half = BUDGET / 2;
        for w in [&mut w1, &mut w2] {
            w.write_all(&head(half)).await.unwrap();
            w.write_all(&vec![1; half]).await.unwrap();
        }
        let a = read_frame_within(&mut r1, &l, &b, BUDGET, |_| true)
            .await
            .unwrap()
            .unwrap();
        let c = read_frame_within(&mut r2, &l, &b, BUDGET, |_| true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(b.available_permits(), 0);
        // one byte more waits for room, however long (the wait is not part of its deadline)
        w3.write_all(&head(1)).await.unwrap();
        w3.write_all(&[9]).await.unwrap();
        let l3 = l.clone();
        let b3 = b.clone();
        let third =
            tokio::spawn(
                async move { read_frame_within(&mut r3, &l3, &b3, BUDGET, |_| true).await },
            );
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert!(!third.is_finished(), "read past the budget");
        drop(a);
        let got = third.await.unwrap().unwrap().unwrap();
        assert_eq!(got.bytes, [9]);
        drop((c, got));
        assert_eq!(b.available_permits(), BUDGET);
    }
}
