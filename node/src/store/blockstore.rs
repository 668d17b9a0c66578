//! Reading, writing and listing blocks in the datastore (redb plus segment files).

use super::segments::{Recovery, Segments};
use super::tables::{BLOCK_FILES, BLOCK_INDEX, BLOCK_PIECES, SEGMENTS};
use super::{BlockWriter, ImportTracker};
use crate::error::{Error, Result};
use cid::Cid;
use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Identity multihash code: the "digest" is the data itself and is never stored.
const IDENTITY: u64 = 0x00;

/// The block store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Blockstore {
    db: Arc<Database>,
    segments: Arc<Segments>,
    recovery: Recovery,
    imports: ImportTracker,
    path: PathBuf,
}

/// Counts reported by `repo stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct StoreStats {
    /// Number of blocks stored.
    pub num_blocks: u64,
    /// Sum of the sizes of the stored blocks.
    pub block_bytes: u64,
    /// Apparent length of the datastore file and the segment files (redb grows its file ahead
    /// of use; the tail is sparse, like the holes of removed blocks in segments).
    pub file_bytes: u64,
    /// Space the datastore file and the segment files really occupy on disk (allocated blocks).
    pub disk_bytes: u64,
}

impl Blockstore {
    /// Opens (creating if missing) the datastore file at `path` and its segment directory
    /// (`path` with the extension `segments`), repairing what a crash left behind.
    pub fn open(path: &Path) -> Result<Self> {
        let db = Database::builder()
            .set_cache_size(32 << 20)
            .create(path)
            .map_err(|e| match e {
                redb::DatabaseError::DatabaseAlreadyOpen => Error::Store(format!(
                    "{} is already open in another process",
                    path.display()
                )),
                other => Error::Store(format!("{}: {other}", path.display())),
            })?;
        ensure_tables(&db)?;
        let db = Arc::new(db);
        let (segments, recovery) = Segments::open(path, db.clone())?;
        if recovery != Recovery::default() {
            tracing::warn!(
                truncated_bytes = recovery.truncated_bytes,
                orphan_files = recovery.orphan_files,
                lost_blocks = recovery.lost_blocks,
                "datastore: repaired what an interrupted run left in the segment files"
            );
        }
        Ok(Blockstore {
            db,
            segments: Arc::new(segments),
            recovery,
            imports: ImportTracker::default(),
            path: path.to_path_buf(),
        })
    }

    /// The shared database, for reading (pins and IPNS records live in the same file). Write
    /// through [`Blockstore::begin_durable_write`], which keeps the segment files in step.
    pub fn db(&self) -> &Arc<Database> {
        &self.db
    }

    /// Begins a write transaction whose commit is durable: segment bytes written by earlier,
    /// not yet durable commits (the cache writer's) are synced first, so the commit never makes
    /// durable an index row whose bytes could be lost. Use it for every write to this database.
    pub fn begin_durable_write(&self) -> Result<WriteTransaction> {
        let txn = self.db.begin_write()?;
        self.segments.sync()?;
        Ok(txn)
    }

    /// What opening repaired (all zero after a clean stop).
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The directory of segment files.
    pub fn segment_dir(&self) -> &Path {
        self.segments.dir()
    }

    /// The tracker GC uses to exclude running imports.
    pub fn imports(&self) -> &ImportTracker {
        &self.imports
    }

    /// Path of the datastore file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a batched write (one transaction per [`super::BATCH_BYTES`], durable at `finish`).
    pub fn writer(&self) -> Result<BlockWriter> {
        BlockWriter::new(
            self.db.clone(),
            self.segments.clone(),
            self.imports.begin_import(),
            Durability::Immediate,
        )
    }

    /// Makes every earlier commit durable, including [`Blockstore::cache_writer`]'s (one empty
    /// durable commit: redb persists the whole tree with it). The daemon calls it when it stops.
    pub fn persist(&self) -> Result<()> {
        self.begin_durable_write()?.commit()?;
        Ok(())
    }

    /// A writer for blocks fetched from peers and not (yet) pinned: its commits are atomic and
    /// visible at once but not fsync'd. They become durable with the next durable commit of
    /// this store — in particular the one that pins them — and a crash before that loses only
    /// these cached blocks, never part of one (redb rolls back to the last durable commit).
    pub fn cache_writer(&self) -> Result<BlockWriter> {
        BlockWriter::new(
            self.db.clone(),
            self.segments.clone(),
            self.imports.begin_import(),
            Durability::None,
        )
    }

    /// Returns the block's bytes, or `None` when it is not stored.
    pub fn get(&self, cid: &Cid) -> Result<Option<Vec<u8>>> {
        if cid.hash().code() == IDENTITY {
            return Ok(Some(cid.hash().digest().to_vec()));
        }
        let mh = cid.hash().to_bytes();
        loop {
            // A removal that commits after our snapshot punches holes in (or deletes) segments
            // while we read: then read again from a fresh snapshot (see `Segments::removals`).
            let removals = self.segments.removals();
            let result = self.get_in_snapshot(cid, &mh);
            if self.segments.removals() == removals {
                return result;
            }
        }
    }

    fn get_in_snapshot(&self, cid: &Cid, mh: &[u8]) -> Result<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(BLOCK_INDEX)?;
        let Some(size) = index.get(mh)?.map(|g| g.value()) else {
            return Ok(None);
        };
        if let Some(location) = txn.open_table(BLOCK_FILES)?.get(mh)? {
            return self.segments.read(location.value(), size).map(Some);
        }
        let pieces = txn.open_table(BLOCK_PIECES)?;
        let mut out = Vec::with_capacity(size as usize);
        for row in pieces.range((mh, 0u32)..=(mh, u32::MAX))? {
            let (_, value) = row?;
            out.extend_from_slice(value.value());
        }
        if out.len() as u64 != size {
            return Err(Error::Store(format!(
                "block {cid} is damaged: index says {size} bytes, pieces hold {}",
                out.len()
            )));
        }
        Ok(Some(out))
    }

    /// Returns the block's bytes or [`Error::BlockNotFound`].
    pub fn get_required(&self, cid: &Cid) -> Result<Vec<u8>> {
        self.get(cid)?.ok_or(Error::BlockNotFound(*cid))
    }

    /// Size of the stored block, or `None` when absent.
    pub fn size(&self, cid: &Cid) -> Result<Option<u64>> {
        if cid.hash().code() == IDENTITY {
            return Ok(Some(cid.hash().digest().len() as u64));
        }
        let txn = self.db.begin_read()?;
        let index = txn.open_table(BLOCK_INDEX)?;
        Ok(index
            .get(cid.hash().to_bytes().as_slice())?
            .map(|g| g.value()))
    }

    /// Whether the block is stored.
    pub fn has(&self, cid: &Cid) -> Result<bool> {
        Ok(self.size(cid)?.is_some())
    }

    /// Verifies `data` against `cid` and stores it durably. Returns whether it was new.
    pub fn put(&self, cid: &Cid, data: &[u8]) -> Result<bool> {
        let mut writer = self.writer()?;
        let new = writer.put_verified(cid, data)?;
        writer.finish()?;
        Ok(new)
    }

    /// Removes a block. Returns whether it was present.
    pub fn remove(&self, cid: &Cid) -> Result<bool> {
        Ok(self.remove_multihashes(&[cid.hash().to_bytes()])? == 1)
    }

    /// Removes the blocks with these multihashes in one durable transaction; returns how many
    /// were present.
    ///
    /// Space of blocks in segment files is given back at once (punch-hole); a segment left
    /// with no blocks is deleted.
    pub fn remove_multihashes(&self, multihashes: &[Vec<u8>]) -> Result<u64> {
        let txn = self.begin_durable_write()?;
        let mut removed = 0;
        let mut holes = Vec::new();
        let mut emptied = Vec::new();
        let mut keep = std::collections::BTreeSet::new();
        {
            let mut index = txn.open_table(BLOCK_INDEX)?;
            let mut files = txn.open_table(BLOCK_FILES)?;
            let mut pieces = txn.open_table(BLOCK_PIECES)?;
            let mut segments = txn.open_table(SEGMENTS)?;
            for mh in multihashes {
                let Some(size) = index.remove(mh.as_slice())?.map(|g| g.value()) else {
                    continue;
                };
                removed += 1;
                let location = files.remove(mh.as_slice())?.map(|g| g.value());
                match location {
                    Some((id, offset)) => {
                        holes.push((id, offset, size));
                        let row = segments.get(id)?.map(|g| g.value());
                        match row {
                            Some((len, live)) if live >= size => {
                                segments.insert(id, (len, live - size))?;
                            }
                            _ => {
                                // Accounting broken: never let it delete a segment in use.
                                tracing::error!(
                                    segment = id,
                                    "datastore: segment's referenced bytes are less than a \
                                     removed block's size; the segment will not be deleted"
                                );
                                keep.insert(id);
                            }
                        }
                    }
                    None => {
                        pieces.retain_in(
                            (mh.as_slice(), 0u32)..=(mh.as_slice(), u32::MAX),
                            |_, _| false,
                        )?;
                    }
                }
            }
            let active = self.segments.active_id();
            let touched: std::collections::BTreeSet<u32> =
                holes.iter().map(|&(id, _, _)| id).collect();
            for id in touched {
                let row = segments.get(id)?.map(|g| g.value());
                if matches!(row, Some((_, 0))) && id != active && !keep.contains(&id) {
                    segments.remove(id)?;
                    emptied.push(id);
                }
            }
        }
        txn.commit()?;
        holes.retain(|(id, _, _)| !emptied.contains(id));
        self.segments.punch(&holes);
        if let Err(e) = self.segments.delete(&emptied) {
            // the removal is committed; a file left behind is deleted at the next open
            tracing::warn!("datastore: {e}");
        }
        Ok(removed)
    }

    /// Multihashes (bytes) of every stored block, in key order.
    pub fn all_multihashes(&self) -> Result<Vec<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(BLOCK_INDEX)?;
        let mut out = Vec::with_capacity(index.len()? as usize);
        for row in index.iter()? {
            out.push(row?.0.value().to_vec());
        }
        Ok(out)
    }

    /// Every stored block as a CIDv1 with the raw codec (how Kubo lists local blocks).
    pub fn all_cids(&self) -> Result<Vec<Cid>> {
        self.all_multihashes()?
            .into_iter()
            .map(|mh| {
                let mh = cid::multihash::Multihash::<64>::from_bytes(&mh)
                    .map_err(|e| Error::Store(format!("bad multihash key: {e}")))?;
                Ok(Cid::new_v1(crate::ipld::RAW, mh))
            })
            .collect()
    }

    /// Number of blocks, their total size and the size of the file on disk.
    pub fn stats(&self) -> Result<StoreStats> {
        let txn = self.db.begin_read()?;
        let index = txn.open_table(BLOCK_INDEX)?;
        let mut block_bytes = 0;
        for row in index.iter()? {
            block_bytes += row?.1.value();
        }
        let meta = std::fs::metadata(&self.path).map_err(|e| Error::io(&self.path, e))?;
        let disk_bytes = super::segments::allocated_bytes(&meta);
        let (segment_len, segment_disk) = self.segments.sizes()?;
        Ok(StoreStats {
            num_blocks: index.len()?,
            block_bytes,
            file_bytes: meta.len() + segment_len,
            disk_bytes: disk_bytes + segment_disk,
        })
    }
}

/// Creates the datastore's tables if missing.
pub(super) fn ensure_tables(db: &Database) -> Result<()> {
    let txn = db.begin_write()?;
    txn.open_table(BLOCK_PIECES)?;
    txn.open_table(BLOCK_INDEX)?;
    txn.open_table(BLOCK_FILES)?;
    txn.open_table(SEGMENTS)?;
    txn.open_table(super::tables::PINS)?;
    txn.commit()?;
    Ok(())
}
