//! Bodies of large blocks in append-only segment files beside the redb datastore.
//!
//! A block larger than [`super::PIECE_SIZE`] is written with one `pwrite` at the end of the
//! active segment (`<datastore>.segments/NNNNNNNN.seg`); redb keeps only its location
//! ([`super::tables::BLOCK_FILES`]) and, per segment, the length covered by committed
//! transactions and the bytes still referenced ([`super::tables::SEGMENTS`]). Reading is one
//! `pread`. This replaces copying each block into 32 KiB B-tree pieces and reading it back
//! piece by piece, which cost about a quarter of a receiving daemon's CPU.
//!
//! Invariants (the crash tests in `node/tests/segment_crash.rs` check them):
//! - Appends happen only inside a redb write transaction (one at a time), so the append position
//!   needs no coordination beyond that; an aborted transaction rewinds it.
//! - Every byte a durable redb commit refers to is on disk first: segments written since the last
//!   sync are `fdatasync`ed before any durable commit ([`super::Blockstore::begin_durable_write`],
//!   the writer's durable batches). A crash rolls redb back to its last durable commit; on open,
//!   segment bytes past the committed length are cut off and segment files redb does not know
//!   are deleted, so nothing half-written is ever visible.
//! - Removed blocks' ranges are given back to the file system at once (`fallocate` punch-hole);
//!   a segment with no referenced bytes left is deleted (never the active one).

use super::tables::{BLOCK_FILES, BLOCK_INDEX, SEGMENTS};
use crate::error::{Error, Result};
use redb::{Database, ReadableDatabase, ReadableTable, WriteTransaction};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::{File, OpenOptions};
use std::mem::ManuallyDrop;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// A new segment is started once the active one would grow past this many bytes.
pub const SEGMENT_BYTES: u64 = 256 << 20;

const SUFFIX: &str = ".seg";

/// At most this many segment files are kept open (a big repo has thousands of segments; the
/// daemon's sockets need descriptors too). Others are opened when read.
const MAX_OPEN: usize = 64;

/// `fdatasync`s of segment files done by this process (all stores).
static SYNCS: AtomicU64 = AtomicU64::new(0);

/// How many times this process has `fdatasync`ed a segment file (for tests and diagnostics).
pub fn segment_syncs() -> u64 {
    SYNCS.load(Ordering::SeqCst)
}

/// Where a large block's bytes are: segment number and offset.
pub type Location = (u32, u64);

/// The segment files of one datastore. Shared by all clones of the [`super::Blockstore`].
pub(super) struct Segments {
    dir: PathBuf,
    /// Open handles, by segment number (at most [`MAX_OPEN`]).
    files: Mutex<HashMap<u32, Arc<File>>>,
    active: Mutex<Active>,
    /// `Active::id`, readable without the lock (which a commit holds across its `fsync`).
    active_id: AtomicU32,
    /// Bumped before removed blocks' bytes are punched out or their segment deleted.
    removals: AtomicU64,
    /// [`SEGMENT_BYTES`] (smaller in unit tests).
    segment_bytes: u64,
    /// Segments deleted by this process (never cached again; numbers are not reused).
    deleted: Mutex<BTreeSet<u32>>,
    /// Keeps the database open until the segments are synced (see `Drop`): closing redb makes
    /// its non-durable commits durable.
    db: ManuallyDrop<Arc<Database>>,
}

struct Active {
    /// Segment new blocks go to (its file is created on the first append).
    id: u32,
    /// Append position: end of the bytes written so far.
    end: u64,
    /// End of the bytes the last successful commit covers.
    committed: u64,
    /// What the open transaction added, per segment: new end, bytes appended.
    pending: BTreeMap<u32, (u64, u64)>,
    /// Written since the last `fdatasync`.
    unsynced: BTreeMap<u32, Arc<File>>,
    /// Set when an `fdatasync` failed: the kernel may have dropped the dirty pages, so no
    /// durable commit is allowed any more in this process.
    sync_failed: Option<String>,
}

/// What opening found and repaired.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes cut off segment ends (written by transactions that never committed durably).
    pub truncated_bytes: u64,
    /// Segment files deleted because no committed transaction refers to them.
    pub orphan_files: u64,
    /// Blocks dropped because their bytes were missing from a segment (damaged outside WANDA).
    pub lost_blocks: u64,
}

impl Segments {
    /// Opens the segment directory of the datastore at `db_path`, repairing what a crash left
    /// (see the module docs). Runs one durable redb transaction when something was dropped.
    pub fn open(db_path: &Path, db: Arc<Database>) -> Result<(Self, Recovery)> {
        let dir = db_path.with_extension("segments");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut recovery = Recovery::default();
        let rows: BTreeMap<u32, (u64, u64)> = {
            let txn = db.begin_read()?;
            let table = txn.open_table(SEGMENTS)?;
            table
                .iter()?
                .map(|r| r.map(|(k, v)| (k.value(), v.value())))
                .collect::<std::result::Result<_, _>>()?
        };
        let mut present = BTreeSet::new();
        // Segments whose file is shorter than committed: the index may point past the end.
        let mut short: BTreeMap<u32, u64> = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let Some(id) = segment_number(&path) else {
                continue;
            };
            let Some(&(committed, _)) = rows.get(&id) else {
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                recovery.orphan_files += 1;
                continue;
            };
            let len = entry.metadata().map_err(|e| Error::io(&path, e))?.len();
            if len > committed {
                let file = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                file.set_len(committed).map_err(|e| Error::io(&path, e))?;
                file.sync_data().map_err(|e| Error::io(&path, e))?;
                recovery.truncated_bytes += len - committed;
            } else if len < committed {
                short.insert(id, len);
            }
            present.insert(id);
        }
        for &id in rows.keys() {
            if !present.contains(&id) {
                short.insert(id, 0);
            }
        }
        if !short.is_empty() {
            recovery.lost_blocks = drop_damaged(&db, &short)?;
        }
        let (id, end) = match rows.iter().next_back() {
            Some((&id, &(len, _))) if len < SEGMENT_BYTES => {
                (id, short.get(&id).copied().unwrap_or(len))
            }
            Some((&id, _)) => (id + 1, 0),
            None => (1, 0),
        };
        if recovery.orphan_files > 0 {
            sync_dir(&dir)?;
        }
        let segments = Segments {
            dir,
            files: Mutex::new(HashMap::new()),
            active: Mutex::new(Active {
                id,
                end,
                committed: end,
                pending: BTreeMap::new(),
                unsynced: BTreeMap::new(),
                sync_failed: None,
            }),
            active_id: AtomicU32::new(id),
            removals: AtomicU64::new(0),
            segment_bytes: SEGMENT_BYTES,
            deleted: Mutex::new(BTreeSet::new()),
            db: ManuallyDrop::new(db),
        };
        Ok((segments, recovery))
    }

    /// The segment directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn active(&self) -> MutexGuard<'_, Active> {
        self.active.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handles(&self) -> MutexGuard<'_, HashMap<u32, Arc<File>>> {
        self.files.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn path_of(&self, id: u32) -> PathBuf {
        self.dir.join(format!("{id:08}{SUFFIX}"))
    }

    /// Appends `data` to the active segment; call only inside a redb write transaction and end
    /// that transaction with [`Segments::commit`] or [`Segments::abort`].
    pub fn append(&self, data: &[u8]) -> Result<Location> {
        let mut active = self.active();
        if active.end > 0 && active.end + data.len() as u64 > self.segment_bytes {
            active.id += 1;
            active.end = 0;
            active.committed = 0;
            self.active_id.store(active.id, Ordering::SeqCst);
        }
        let id = active.id;
        let file = self.handle(id, true)?;
        let offset = active.end;
        file.write_all_at(data, offset)
            .map_err(|e| Error::io(self.path_of(id), e))?;
        active.end += data.len() as u64;
        let end = active.end;
        let entry = active.pending.entry(id).or_insert((0, 0));
        entry.0 = end;
        entry.1 += data.len() as u64;
        active.unsynced.insert(id, file);
        Ok((id, offset))
    }

    /// The open handle of segment `id`, opening it (creating it when `create`) if needed.
    fn handle(&self, id: u32, create: bool) -> Result<Arc<File>> {
        if let Some(file) = self.handles().get(&id) {
            return Ok(file.clone());
        }
        let path = self.path_of(id);
        let open = |create_new: bool| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(create_new)
                .open(&path)
        };
        let (file, created) = match open(create) {
            Ok(file) => (file, create),
            // the active segment's file exists already (its handle was closed to stay under
            // the cap)
            Err(e) if create && e.kind() == std::io::ErrorKind::AlreadyExists => {
                (open(false).map_err(|e| Error::io(&path, e))?, false)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::Store(format!(
                    "segment {} is missing",
                    path.display()
                )));
            }
            Err(e) => return Err(Error::io(&path, e)),
        };
        if created {
            sync_dir(&self.dir)?;
        }
        let file = Arc::new(file);
        let deleted = self.deleted.lock().unwrap_or_else(|e| e.into_inner());
        if deleted.contains(&id) {
            // opened just before a removal deleted it: serve this read, keep no descriptor
            return Ok(file);
        }
        let mut handles = self.handles();
        if handles.len() >= MAX_OPEN {
            // Close any one other than the active segment (whoever still holds it keeps it).
            let active = self.active_id.load(Ordering::SeqCst);
            if let Some(&other) = handles.keys().find(|&&k| k != id && k != active) {
                handles.remove(&other);
            }
        }
        handles.insert(id, file.clone());
        Ok(file)
    }

    /// Commits `txn`: writes the new segment lengths and referenced bytes into it, syncs the
    /// segments first when `durable`, commits, and marks the appends committed (or rewinds them
    /// when anything fails). Holds the segment state locked throughout, because redb lets the
    /// next writer in as soon as `commit` drops the transaction — before this returns.
    pub fn commit(&self, txn: WriteTransaction, durable: bool) -> Result<()> {
        let mut active = self.active();
        let result = (|| {
            if !active.pending.is_empty() {
                let mut table = txn.open_table(SEGMENTS)?;
                for (&id, &(end, added)) in &active.pending {
                    let live = table.get(id)?.map(|g| g.value().1).unwrap_or(0);
                    table.insert(id, (end, live + added))?;
                }
            }
            if durable {
                self.sync_locked(&mut active)?;
            }
            txn.commit()?;
            Ok(())
        })();
        match result {
            Ok(()) => active.committed = active.end,
            Err(_) => active.end = active.committed,
        }
        active.pending.clear();
        result
    }

    /// `fdatasync`s every segment written since the last sync. Call inside a write transaction,
    /// before a durable commit.
    pub fn sync(&self) -> Result<()> {
        self.sync_locked(&mut self.active())
    }

    fn sync_locked(&self, active: &mut Active) -> Result<()> {
        if let Some(failed) = &active.sync_failed {
            return Err(Error::Store(format!(
                "datastore: an earlier fdatasync failed ({failed}); restart WANDA \
                 (blocks not yet durable may be lost, nothing durable is)"
            )));
        }
        while let Some((id, file)) = active.unsynced.pop_first() {
            if let Err(e) = file.sync_data() {
                let e = Error::io(self.path_of(id), e);
                active.sync_failed = Some(e.to_string());
                return Err(e);
            }
            SYNCS.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }

    /// The open transaction is being dropped without commit (call before it is dropped, while
    /// it still holds redb's write lock): later appends overwrite what it wrote.
    pub fn abort(&self) {
        let mut active = self.active();
        active.end = active.committed;
        active.pending.clear();
    }

    /// How many times removed blocks' bytes were given back so far. A reader that saw the same
    /// count before taking its redb snapshot and after reading the bytes read them intact: a
    /// removal bumps it after its commit and before touching the files, so a removal the
    /// snapshot did not see cannot have changed them unnoticed.
    pub fn removals(&self) -> u64 {
        self.removals.load(Ordering::SeqCst)
    }

    /// Number of the segment new blocks go to.
    pub fn active_id(&self) -> u32 {
        self.active_id.load(Ordering::SeqCst)
    }

    /// Reads `len` bytes at `location`.
    pub fn read(&self, (id, offset): Location, len: u64) -> Result<Vec<u8>> {
        let file = self.handle(id, false)?;
        let mut out = vec![0; len as usize];
        file.read_exact_at(&mut out, offset).map_err(|e| {
            Error::Store(format!(
                "{}: cannot read {len} bytes at {offset}: {e}",
                self.path_of(id).display()
            ))
        })?;
        Ok(out)
    }

    /// Gives the space of removed blocks back to the file system (best effort: a file system
    /// without punch-hole frees it when the whole segment goes).
    pub fn punch(&self, ranges: &[(u32, u64, u64)]) {
        self.removals.fetch_add(1, Ordering::SeqCst);
        for &(id, offset, len) in ranges {
            match self.handle(id, false) {
                Ok(file) => punch_hole(&file, offset, len),
                Err(e) => tracing::warn!("datastore: cannot free removed blocks' space: {e}"),
            }
        }
    }

    /// Deletes the files of segments no block refers to any more (their rows are already gone).
    pub fn delete(&self, ids: &[u32]) -> Result<()> {
        self.removals.fetch_add(1, Ordering::SeqCst);
        for &id in ids {
            self.deleted
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id);
            self.handles().remove(&id);
            self.active().unsynced.remove(&id);
            let path = self.path_of(id);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(&path, e)),
            }
        }
        if !ids.is_empty() {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Apparent length and allocated bytes of all segment files.
    pub fn sizes(&self) -> Result<(u64, u64)> {
        let (mut len, mut disk) = (0, 0);
        for entry in std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            if segment_number(&entry.path()).is_none() {
                continue;
            }
            let meta = match entry.metadata() {
                Ok(meta) => meta,
                // deleted by a removal meanwhile
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io(entry.path(), e)),
            };
            len += meta.len();
            disk += allocated_bytes(&meta);
        }
        Ok((len, disk))
    }
}

impl Drop for Segments {
    /// Syncs the segments before the database can close (closing makes redb's non-durable
    /// commits durable). If that fails the database is left unclosed, so the next open rolls
    /// back to the last durable commit instead of keeping rows whose bytes may be lost.
    fn drop(&mut self) {
        match self.sync() {
            // SAFETY: dropped exactly once, here; the field is not used afterwards.
            Ok(()) => unsafe { ManuallyDrop::drop(&mut self.db) },
            Err(e) => tracing::error!("datastore: {e}; not closing the database cleanly"),
        }
    }
}

/// Removes the index rows of blocks whose bytes lie past the end of a short segment (`short`:
/// segment → real length); returns how many. One durable transaction.
fn drop_damaged(db: &Database, short: &BTreeMap<u32, u64>) -> Result<u64> {
    let txn = db.begin_write()?;
    let mut lost = 0;
    {
        let mut files = txn.open_table(BLOCK_FILES)?;
        let mut index = txn.open_table(BLOCK_INDEX)?;
        let mut segments = txn.open_table(SEGMENTS)?;
        let mut damaged = Vec::new();
        for row in files.iter()? {
            let (mh, location) = row?;
            let (mh, (id, offset)) = (mh.value().to_vec(), location.value());
            let Some(&real_len) = short.get(&id) else {
                continue;
            };
            let size = index.get(mh.as_slice())?.map(|g| g.value()).unwrap_or(0);
            if offset + size > real_len {
                damaged.push((mh, id, size));
            }
        }
        for (mh, id, size) in damaged {
            files.remove(mh.as_slice())?;
            index.remove(mh.as_slice())?;
            lost += 1;
            tracing::error!(
                segment = id,
                "datastore: a block's bytes are missing from its segment; dropped it"
            );
            let row = segments.get(id)?.map(|g| g.value());
            if let Some((len, live)) = row {
                segments.insert(id, (len, live.saturating_sub(size)))?;
            }
        }
        for (&id, &real_len) in short {
            let row = segments.get(id)?.map(|g| g.value());
            if let Some((_, live)) = row {
                segments.insert(id, (real_len, live))?;
            }
        }
    }
    txn.commit()?;
    Ok(lost)
}

/// Space a file really occupies on disk (allocated blocks; holes and sparse tails excluded).
pub(super) fn allocated_bytes(meta: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::blocks(meta) * 512
}

fn segment_number(path: &Path) -> Option<u32> {
    let name = path.file_name()?.to_str()?;
    name.strip_suffix(SUFFIX)?.parse().ok()
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))
}

#[cfg(target_os = "linux")]
fn punch_hole(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: plain syscall on a valid descriptor; no memory is passed.
    let rc = unsafe {
        libc::fallocate(
            file.as_raw_fd(),
            libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE,
            offset as libc::off_t,
            len as libc::off_t,
        )
    };
    if rc != 0 {
        tracing::debug!(
            error = %std::io::Error::last_os_error(),
            "punch-hole not supported; space returns when the segment is deleted"
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn punch_hole(_file: &File, _offset: u64, _len: u64) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_segments_are_read_back_with_a_bounded_number_of_open_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ds.redb");
        let db = Arc::new(Database::create(&path).unwrap());
        super::super::blockstore::ensure_tables(&db).unwrap();
        let (mut segments, _) = Segments::open(&path, db.clone()).unwrap();
        segments.segment_bytes = 1000;
        let mut written = Vec::new();
        for i in 0..(3 * MAX_OPEN as u32) {
            let txn = db.begin_write().unwrap();
            let data = vec![i as u8; 600];
            written.push((segments.append(&data).unwrap(), data));
            segments.commit(txn, false).unwrap();
        }
        assert_eq!(
            written.last().unwrap().0.0,
            3 * MAX_OPEN as u32,
            "one block per segment"
        );
        assert!(segments.handles().len() <= MAX_OPEN);
        for (location, data) in written.iter().rev() {
            assert_eq!(&segments.read(*location, 600).unwrap(), data);
            assert!(segments.handles().len() <= MAX_OPEN);
        }
        segments.sync().unwrap();
        let (len, _) = segments.sizes().unwrap();
        assert_eq!(len, 3 * MAX_OPEN as u64 * 600);
    }
}
