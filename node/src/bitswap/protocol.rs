//! Stream protocols and framing: every message is a uvarint length followed by that many bytes
//! of protobuf, at most [`MAX_MESSAGE_SIZE`]; inbound streams are read until EOF.

use futures::future::{Ready, ready};
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::core::upgrade::{InboundUpgrade, OutboundUpgrade, UpgradeInfo};
use libp2p::{Stream, StreamProtocol};
use std::convert::Infallible;
use std::io;

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

/// Reads one frame. `Ok(None)` is a clean EOF before any byte of a new frame.
/// Frames larger than [`MAX_MESSAGE_SIZE`] are an `InvalidData` error.
pub async fn read_frame<S: AsyncRead + Unpin>(stream: &mut S) -> io::Result<Option<Vec<u8>>> {
    let mut len = 0u64;
    for i in 0..10 {
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await? == 0 {
            return if i == 0 {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        len |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            if len > MAX_MESSAGE_SIZE as u64 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bitswap frame of {len} bytes exceeds {MAX_MESSAGE_SIZE}"),
                ));
            }
            let mut buf = vec![0; len as usize];
            stream.read_exact(&mut buf).await?;
            return Ok(Some(buf));
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
}
