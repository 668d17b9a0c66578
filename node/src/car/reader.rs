//! Streaming CAR reader that verifies every block against its CID.

use std::io::{self, BufReader, Read, Take};

use cid::Cid;

use super::header::{self, V2_HEADER_LEN, V2_PRAGMA};
use super::varint::read_uvarint;
use super::{CarError, MAX_HEADER_LEN, MAX_SECTION_LEN};
use crate::ipld::verify_block;

/// Reads a CARv1 (or the CARv1 payload inside a CARv2) one verified block at a time.
///
/// Input is buffered internally, so passing a raw `File` is fine. Memory use is bounded
/// by [`MAX_SECTION_LEN`] per block and [`MAX_HEADER_LEN`] for the header; buffers
/// grow only as bytes actually arrive, never to a size merely declared by the input.
pub struct CarReader<R: Read> {
    inner: Take<BufReader<R>>,
    roots: Vec<Cid>,
    /// True when reading a CARv2 payload, whose exact length is known.
    bounded: bool,
}

impl<R: Read> CarReader<R> {
    /// Reads and validates the header (CARv1, or CARv2 pragma + header + inner CARv1 header).
    pub fn new(reader: R) -> Result<Self, CarError> {
        let mut inner = BufReader::new(reader).take(u64::MAX);
        let first = read_header(&mut inner)?;
        if first.version == 1 {
            return Ok(Self {
                inner,
                roots: first.roots,
                bounded: false,
            });
        }
        let mut fixed = [0u8; V2_HEADER_LEN];
        let got = read_up_to(&mut inner, V2_HEADER_LEN as u64)?;
        fixed[..got.len()].copy_from_slice(&got);
        if got.len() < V2_HEADER_LEN {
            return Err(CarError::Truncated(
                "stream ends inside the CARv2 header".into(),
            ));
        }
        let v2 = header::decode_v2(&fixed);
        let consumed = (V2_PRAGMA.len() + V2_HEADER_LEN) as u64;
        let skip = v2.data_offset.checked_sub(consumed).ok_or_else(|| {
            CarError::BadV2(format!("data offset {} inside the header", v2.data_offset))
        })?;
        if io::copy(&mut (&mut inner).take(skip), &mut io::sink())? < skip {
            return Err(CarError::Truncated(
                "stream ends before the CARv2 payload".into(),
            ));
        }
        inner.set_limit(v2.data_size);
        let payload = read_header(&mut inner)?;
        if payload.version != 1 {
            return Err(CarError::BadV2("payload is not a CARv1".into()));
        }
        Ok(Self {
            inner,
            roots: payload.roots,
            bounded: true,
        })
    }

    /// The root CIDs declared in the (inner CARv1) header.
    pub fn roots(&self) -> &[Cid] {
        &self.roots
    }

    /// Reads the next section, verifying the block's hash against its CID.
    ///
    /// Returns `Ok(None)` at the clean end of the CAR. Blocks are returned in file
    /// order, duplicates included.
    pub fn next_block(&mut self) -> Result<Option<(Cid, Vec<u8>)>, CarError> {
        let Some(len) = read_uvarint(&mut self.inner, "a section length")? else {
            if self.bounded && self.inner.limit() > 0 {
                let missing = self.inner.limit();
                return Err(CarError::Truncated(format!(
                    "CARv2 payload ends {missing} bytes early"
                )));
            }
            return Ok(None);
        };
        if len == 0 {
            return Err(CarError::BadSection("zero-length section".into()));
        }
        if len > MAX_SECTION_LEN {
            return Err(CarError::SectionTooLarge {
                len,
                max: MAX_SECTION_LEN,
            });
        }
        let mut section = read_up_to(&mut self.inner, len)?;
        if (section.len() as u64) < len {
            return Err(CarError::Truncated(format!(
                "section declares {len} bytes but only {} remain",
                section.len()
            )));
        }
        let mut rest = &section[..];
        let cid = Cid::read_bytes(&mut rest)
            .map_err(|e| CarError::BadSection(format!("bad CID at section start: {e}")))?;
        let cid_len = section.len() - rest.len();
        if cid.encoded_len() != cid_len {
            return Err(CarError::BadSection(format!(
                "non-canonical encoding of {cid}"
            )));
        }
        section.drain(..cid_len);
        verify_block(&cid, &section)?;
        Ok(Some((cid, section)))
    }
}

/// Reads the length-prefixed header block and decodes it.
fn read_header<R: Read>(r: &mut R) -> Result<header::Header, CarError> {
    let len = read_uvarint(r, "the header length")?
        .ok_or_else(|| CarError::Truncated("empty stream, no header".into()))?;
    if len == 0 {
        return Err(CarError::BadHeader("zero-length header".into()));
    }
    if len > MAX_HEADER_LEN {
        return Err(CarError::HeaderTooLarge {
            len,
            max: MAX_HEADER_LEN,
        });
    }
    let bytes = read_up_to(r, len)?;
    if (bytes.len() as u64) < len {
        return Err(CarError::Truncated(format!(
            "header declares {len} bytes but only {} remain",
            bytes.len()
        )));
    }
    header::decode(&bytes)
}

/// Reads at most `len` bytes (fewer only at end of stream), growing the buffer as data
/// arrives rather than trusting `len` up front.
fn read_up_to<R: Read>(r: &mut R, len: u64) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(len.min(64 * 1024) as usize);
    r.take(len).read_to_end(&mut buf)?;
    Ok(buf)
}
