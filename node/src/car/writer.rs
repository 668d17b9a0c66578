//! CARv1 writer producing the same bytes as go-car (Kubo) and @ipld/car.

use std::io::Write;

use cid::Cid;

use super::header::encode_v1;
use super::varint::write_uvarint;
use super::{CarError, MAX_SECTION_LEN};

/// Writes a CARv1 stream: the header on construction, then one section per block.
///
/// Blocks are written as given: the writer neither verifies hashes nor removes
/// duplicates (callers decide; see [`super::export_dfs`]).
pub struct CarWriter<W: Write> {
    out: W,
}

impl<W: Write> CarWriter<W> {
    /// Writes the header `{roots, version: 1}` for `roots` (which may be empty).
    pub fn new(mut out: W, roots: &[Cid]) -> Result<Self, CarError> {
        let header = encode_v1(roots);
        write_uvarint(&mut out, header.len() as u64)?;
        out.write_all(&header)?;
        Ok(Self { out })
    }

    /// Appends the section `uvarint(len) ‖ cid ‖ data`.
    ///
    /// Refuses sections larger than [`MAX_SECTION_LEN`], which no reader of ours would accept.
    pub fn write_block(&mut self, cid: &Cid, data: &[u8]) -> Result<(), CarError> {
        let cid_bytes = cid.to_bytes();
        let len = (cid_bytes.len() + data.len()) as u64;
        if len > MAX_SECTION_LEN {
            return Err(CarError::BlockTooLarge {
                cid: cid.to_string(),
                len,
                max: MAX_SECTION_LEN,
            });
        }
        write_uvarint(&mut self.out, len)?;
        self.out.write_all(&cid_bytes)?;
        self.out.write_all(data)?;
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, CarError> {
        self.out.flush()?;
        Ok(self.out)
    }
}
