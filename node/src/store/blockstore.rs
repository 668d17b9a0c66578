//! Reading, writing and listing blocks in the redb datastore.

use super::tables::{BLOCK_INDEX, BLOCK_PIECES};
use super::{BlockWriter, ImportTracker};
use crate::error::{Error, Result};
use cid::Cid;
use redb::{Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Identity multihash code: the "digest" is the data itself and is never stored.
const IDENTITY: u64 = 0x00;

/// The block store. Cheap to clone; all clones share one database.
#[derive(Clone)]
pub struct Blockstore {
    db: Arc<Database>,
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
    /// Apparent length of the datastore file (redb grows it ahead of use; the tail is sparse).
    pub file_bytes: u64,
    /// Space the datastore file really occupies on disk (allocated blocks).
    pub disk_bytes: u64,
}

impl Blockstore {
    /// Opens (creating if missing) the datastore file at `path`.
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
        let store = Blockstore {
            db: Arc::new(db),
            imports: ImportTracker::default(),
            path: path.to_path_buf(),
        };
        store.ensure_tables()?;
        Ok(store)
    }

    fn ensure_tables(&self) -> Result<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(BLOCK_PIECES)?;
        txn.open_table(BLOCK_INDEX)?;
        txn.open_table(super::tables::PINS)?;
        txn.commit()?;
        Ok(())
    }

    /// The shared database (used by pins and GC, which live in the same file).
    pub fn db(&self) -> &Arc<Database> {
        &self.db
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
            self.imports.begin_import(),
            Durability::Immediate,
        )
    }

    /// Makes every earlier commit durable, including [`Blockstore::cache_writer`]'s (one empty
    /// durable commit: redb persists the whole tree with it). The daemon calls it when it stops.
    pub fn persist(&self) -> Result<()> {
        self.db.begin_write()?.commit()?;
        Ok(())
    }

    /// A writer for blocks fetched from peers and not (yet) pinned: its commits are atomic and
    /// visible at once but not fsync'd. They become durable with the next durable commit of
    /// this store — in particular the one that pins them — and a crash before that loses only
    /// these cached blocks, never part of one (redb rolls back to the last durable commit).
    pub fn cache_writer(&self) -> Result<BlockWriter> {
        BlockWriter::new(
            self.db.clone(),
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
        let txn = self.db.begin_read()?;
        let index = txn.open_table(BLOCK_INDEX)?;
        let Some(size) = index.get(mh.as_slice())?.map(|g| g.value()) else {
            return Ok(None);
        };
        let pieces = txn.open_table(BLOCK_PIECES)?;
        let mut out = Vec::with_capacity(size as usize);
        for row in pieces.range((mh.as_slice(), 0u32)..=(mh.as_slice(), u32::MAX))? {
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
    pub fn remove_multihashes(&self, multihashes: &[Vec<u8>]) -> Result<u64> {
        let txn = self.db.begin_write()?;
        let mut removed = 0;
        {
            let mut index = txn.open_table(BLOCK_INDEX)?;
            let mut pieces = txn.open_table(BLOCK_PIECES)?;
            for mh in multihashes {
                if index.remove(mh.as_slice())?.is_some() {
                    removed += 1;
                    pieces
                        .retain_in((mh.as_slice(), 0u32)..=(mh.as_slice(), u32::MAX), |_, _| {
                            false
                        })?;
                }
            }
        }
        txn.commit()?;
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
        #[cfg(unix)]
        let disk_bytes = std::os::unix::fs::MetadataExt::blocks(&meta) * 512;
        #[cfg(not(unix))]
        let disk_bytes = meta.len();
        Ok(StoreStats {
            num_blocks: index.len()?,
            block_bytes,
            file_bytes: meta.len(),
            disk_bytes,
        })
    }
}
