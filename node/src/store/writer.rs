//! Batched block writes: many blocks per transaction, durable once at the end.

use super::pins::{PinRecord, put_pin};
use super::segments::Segments;
use super::tables::{BLOCK_FILES, BLOCK_INDEX, BLOCK_PIECES};
use super::{BATCH_BYTES, ImportGuard, PIECE_SIZE};
use crate::error::Result;
use cid::Cid;
use redb::{Database, Durability, ReadableTable, WriteTransaction};
use std::sync::Arc;

/// Writes blocks in large transactions: one durable commit (one fsync) per
/// [`super::BATCH_BYTES`] and one at [`BlockWriter::finish`], never one per block. A crash keeps
/// the committed batches as whole, unpinned blocks (GC removes them); dropping the writer without
/// `finish` aborts the open batch.
///
/// A [cache writer](super::Blockstore::cache_writer) commits the same way but without the
/// fsync: for blocks fetched from peers that nothing pins yet. A crash rolls its batches back to
/// the last durable commit of the store (whole blocks or nothing); a later durable commit — a
/// pin, [`super::Blockstore::persist`] at daemon shutdown — makes them durable.
///
/// Blocks over [`PIECE_SIZE`] are appended to the active segment file as they come; a durable
/// commit `fdatasync`s the segments first (see `segments.rs`).
pub struct BlockWriter {
    db: Arc<Database>,
    segments: Arc<Segments>,
    txn: Option<WriteTransaction>,
    durability: Durability,
    pending_bytes: u64,
    new_blocks: u64,
    new_bytes: u64,
    /// A put or commit failed: the open batch was discarded and the writer refuses more work.
    failed: bool,
    _guard: ImportGuard,
}

impl BlockWriter {
    pub(super) fn new(
        db: Arc<Database>,
        segments: Arc<Segments>,
        guard: ImportGuard,
        durability: Durability,
    ) -> Result<Self> {
        let txn = Self::begin(&db, durability)?;
        Ok(BlockWriter {
            db,
            segments,
            txn: Some(txn),
            durability,
            pending_bytes: 0,
            new_blocks: 0,
            new_bytes: 0,
            failed: false,
            _guard: guard,
        })
    }

    fn begin(db: &Database, durability: Durability) -> Result<WriteTransaction> {
        let mut txn = db.begin_write()?;
        txn.set_durability(durability)?;
        Ok(txn)
    }

    fn txn(&self) -> Result<&WriteTransaction> {
        match &self.txn {
            Some(txn) if !self.failed => Ok(txn),
            _ => Err(crate::Error::Store(
                "this block writer failed earlier; its open batch was discarded".into(),
            )),
        }
    }

    /// Stores a block this process produced itself (its CID was computed from `data`).
    /// Returns whether the block was new. After an error the open batch is discarded and the
    /// writer refuses further puts (earlier batches stay committed).
    pub fn put(&mut self, cid: &Cid, data: &[u8]) -> Result<bool> {
        if cid.hash().code() == 0x00 {
            return Ok(false);
        }
        let result = self.put_inner(cid, data);
        if result.is_err() {
            self.discard();
        }
        result
    }

    fn put_inner(&mut self, cid: &Cid, data: &[u8]) -> Result<bool> {
        let mh = cid.hash().to_bytes();
        {
            let txn = self.txn()?;
            let mut index = txn.open_table(BLOCK_INDEX)?;
            if index.get(mh.as_slice())?.is_some() {
                return Ok(false);
            }
            // bytes first, then the rows that make the block exist
            if data.len() > PIECE_SIZE {
                let location = self.segments.append(data)?;
                txn.open_table(BLOCK_FILES)?
                    .insert(mh.as_slice(), location)?;
            } else {
                txn.open_table(BLOCK_PIECES)?
                    .insert((mh.as_slice(), 0u32), data)?;
            }
            index.insert(mh.as_slice(), data.len() as u64)?;
        }
        self.new_blocks += 1;
        self.new_bytes += data.len() as u64;
        self.pending_bytes += data.len() as u64;
        if self.pending_bytes >= BATCH_BYTES {
            self.commit_batch()?;
        }
        Ok(true)
    }

    /// Drops the open batch (rewinding its segment appends while redb's lock is still held).
    fn discard(&mut self) {
        self.failed = true;
        if let Some(txn) = self.txn.take() {
            self.segments.abort();
            drop(txn);
        }
    }

    /// Verifies that `data` hashes to `cid`, then stores it. Use for bytes from outside.
    pub fn put_verified(&mut self, cid: &Cid, data: &[u8]) -> Result<bool> {
        crate::ipld::verify_block(cid, data).map_err(|e| crate::Error::HashMismatch {
            cid: cid.to_string(),
            reason: e.to_string(),
        })?;
        self.put(cid, data)
    }

    /// Records a pin in the same transaction as the blocks (pinned atomically with the import).
    pub fn pin(&mut self, cid: &Cid, record: &PinRecord) -> Result<()> {
        let result = put_pin(self.txn()?, cid, record);
        if result.is_err() {
            self.discard();
        }
        result
    }

    fn commit_batch(&mut self) -> Result<()> {
        self.commit()?;
        self.txn = Some(Self::begin(&self.db, self.durability)?);
        self.pending_bytes = 0;
        Ok(())
    }

    /// Records the segment lengths, syncs the segments when the commit is durable, commits.
    fn commit(&mut self) -> Result<()> {
        self.txn()?;
        let txn = self.txn.take().expect("checked by txn() just above");
        let durable = !matches!(self.durability, Durability::None);
        let result = self.segments.commit(txn, durable);
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    /// Blocks this writer added that were not stored before.
    pub fn new_blocks(&self) -> u64 {
        self.new_blocks
    }

    /// Bytes of the blocks this writer added.
    pub fn new_bytes(&self) -> u64 {
        self.new_bytes
    }

    /// Commits everything (durably, with one fsync, unless this is a cache writer).
    pub fn finish(mut self) -> Result<()> {
        self.commit()
    }
}

impl Drop for BlockWriter {
    /// Dropped without `finish`: redb aborts the open batch; segment bytes it appended are
    /// overwritten by the next writer (and cut off at the next open).
    fn drop(&mut self) {
        if self.txn.is_some() {
            self.segments.abort();
        }
    }
}
