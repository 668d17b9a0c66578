//! A [`BlockSource`] that falls back to the network: local store first, then Bitswap, with a
//! read-ahead window over UnixFS file chunks.

use super::NodeHandle;
use crate::blocks::BlockSource;
use crate::error::Result;
use crate::store::Blockstore;
use crate::unixfs::{NodeKind, node_kind};
use bytes::Bytes;
use cid::Cid;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many chunks of a file are requested ahead of the one being read.
const READ_AHEAD: usize = 32;

/// Most bytes of fetched-ahead blocks held for the reader; blocks beyond it are read back from
/// the store. [`READ_AHEAD`] default-size chunks fit: 256 KiB of data plus the few bytes of a
/// dag-pb leaf's framing.
const READY_BYTES: usize = READ_AHEAD * ((256 << 10) + (1 << 10));

// a CIDv0 leaf of a 256 KiB chunk (Kubo's default) is 262,144 data bytes in 14 bytes of dag-pb
const _: () = assert!(READ_AHEAD * 262_158 <= READY_BYTES);

/// Which children of a file node are known, how far they were requested, and the fetched
/// blocks the reader has not taken yet.
#[derive(Default)]
struct ReadAhead {
    /// Child → (its siblings in order, its index).
    position: HashMap<Cid, (Arc<Vec<Cid>>, usize)>,
    /// Children already requested.
    requested: HashSet<Cid>,
    /// Requested ahead and not asked for by the reader yet.
    unread: HashSet<Cid>,
    /// Fetched ahead, not read yet: handed to the reader as received, so it does not read
    /// back from the store what was just written there. Copies, not the received buffers
    /// (those may be slices of larger frames), so [`READY_BYTES`] bounds the memory held.
    ready: HashMap<Cid, Vec<u8>>,
    /// Sum of the lengths in `ready` (at most [`READY_BYTES`]).
    ready_bytes: usize,
}

impl ReadAhead {
    /// Notes that `cid` is being fetched ahead of the reader.
    fn expect(&mut self, cid: Cid) {
        self.unread.insert(cid);
    }

    /// Keeps a copy of a fetched-ahead block for the reader, if the reader has not asked for
    /// it yet (it then waits for the fetch itself) and there is room.
    fn keep(&mut self, cid: Cid, data: &Bytes) {
        if self.unread.contains(&cid)
            && self.ready_bytes + data.len() <= READY_BYTES
            && !self.ready.contains_key(&cid)
        {
            self.ready_bytes += data.len();
            self.ready.insert(cid, data.to_vec());
        }
    }

    /// The reader asks for `cid`: hands out the block if it was fetched ahead, and never keeps
    /// it afterwards.
    fn take(&mut self, cid: &Cid) -> Option<Vec<u8>> {
        self.unread.remove(cid);
        let data = self.ready.remove(cid)?;
        self.ready_bytes -= data.len();
        Some(data)
    }
}

/// Local blocks, else fetched from peers (and then cached in the store, unpinned).
///
/// Reading a UnixFS file node requests its first chunks in the background, and each chunk read
/// requests the next ones ([`READ_AHEAD`] in flight), so a sequential read is pipelined rather
/// than one round trip per block. Chunks fetched ahead are handed to the reader as they arrived
/// (up to [`READY_BYTES`] held), not read back from the store.
///
/// `get_block` blocks the calling thread: use it from `spawn_blocking` or a plain thread, never
/// from inside an async task.
pub struct NetworkBlocks {
    store: Blockstore,
    node: NodeHandle,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
    ahead: Arc<Mutex<ReadAhead>>,
    /// Chunks requested ahead at most ([`READ_AHEAD`] by default).
    max_ahead: usize,
}

impl NetworkBlocks {
    /// A source over `store` and `node`, waiting at most `timeout` per block.
    pub fn new(
        store: Blockstore,
        node: NodeHandle,
        runtime: tokio::runtime::Handle,
        timeout: Duration,
    ) -> Self {
        NetworkBlocks {
            store,
            node,
            runtime,
            timeout,
            ahead: Arc::default(),
            max_ahead: READ_AHEAD,
        }
    }

    /// Requests at most `chunks` chunks ahead (`0`: none). A fetch under a byte budget
    /// (replication) must not read ahead past it.
    pub fn with_read_ahead(mut self, chunks: usize) -> Self {
        self.max_ahead = chunks.min(READ_AHEAD);
        self
    }

    /// Requests the chunks after `cid` (or the first ones, if `cid` is a file node).
    fn read_ahead(&self, cid: &Cid, data: &[u8]) {
        if self.max_ahead == 0 {
            return;
        }
        let mut ahead = lock(&self.ahead);
        let next: Vec<Cid> = match ahead.position.get(cid).cloned() {
            Some((siblings, i)) => siblings
                .iter()
                .skip(i + 1)
                .take(self.max_ahead)
                .copied()
                .collect(),
            None => Vec::new(),
        };
        let mut wanted = next;
        if may_have_children(cid, data)
            && matches!(node_kind(cid, data), NodeKind::File(_))
            && let Ok(children) = crate::ipld::links(cid, data)
            && !children.is_empty()
        {
            let children = Arc::new(children);
            for (i, c) in children.iter().enumerate() {
                ahead.position.insert(*c, (children.clone(), i));
            }
            wanted.extend(children.iter().take(self.max_ahead));
        }
        let new: Vec<Cid> = wanted
            .into_iter()
            .filter(|c| ahead.requested.insert(*c))
            .collect();
        drop(ahead);
        // the store is asked without the lock held: fetches finishing meanwhile take it
        for c in new {
            if self.store.has(&c).unwrap_or(false) {
                continue;
            }
            lock(&self.ahead).expect(c);
            // weak: a fetch still running when the read ends must not keep the blocks alive
            let ahead = Arc::downgrade(&self.ahead);
            let (node, timeout) = (self.node.clone(), self.timeout);
            self.runtime.spawn(async move {
                if let Ok(data) = node.fetch_shared(c, timeout).await
                    && let Some(ahead) = ahead.upgrade()
                {
                    lock(&ahead).keep(c, &data);
                }
            });
        }
    }
}

impl BlockSource for NetworkBlocks {
    fn get_block(&self, cid: &Cid) -> Result<Vec<u8>> {
        let ready = lock(&self.ahead).take(cid);
        let data = match ready {
            Some(block) => block,
            None => match self.store.get(cid)? {
                Some(block) => block,
                None => self
                    .runtime
                    .block_on(self.node.fetch_block(*cid, self.timeout))?,
            },
        };
        self.read_ahead(cid, &data);
        Ok(data)
    }
}

/// Whether a block may list children, for read-ahead only. Canonical dag-pb encodes a node's
/// links before its data (field 2, tag byte 0x12, first), so a canonical dag-pb block that does
/// not start with that tag is a leaf: this spares decoding — and copying the data of — every
/// leaf chunk of a file being read. A non-canonical node with its data first (which the decoder
/// accepts) is still read correctly, just not read ahead.
fn may_have_children(cid: &Cid, data: &[u8]) -> bool {
    cid.codec() != crate::ipld::DAG_PB || data.first() == Some(&0x12)
}

fn lock(ahead: &Mutex<ReadAhead>) -> std::sync::MutexGuard<'_, ReadAhead> {
    ahead.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use multihash_codetable::{Code, MultihashDigest};

    fn cid(i: u32) -> Cid {
        Cid::new_v1(crate::ipld::RAW, Code::Sha2_256.digest(&i.to_be_bytes()))
    }

    #[test]
    fn dag_pb_leaves_have_no_children_and_file_roots_may() {
        use crate::unixfs::{AddEvent, AddOptions, Importer, StoreSink};
        let dir = tempfile::tempdir().unwrap();
        let store = Blockstore::open(&dir.path().join("blocks.redb")).unwrap();
        // CIDv0 (Kubo's default): dag-pb leaves with UnixFS data, under a dag-pb root
        let data = vec![7u8; 600 << 10];
        let mut sink = StoreSink::new(&store).unwrap();
        let mut ev = |_: AddEvent<'_>| {};
        let root = Importer::new(AddOptions::default(), &mut sink, &mut ev)
            .unwrap()
            .add_stream(&data[..], None)
            .unwrap();
        sink.finish(None).unwrap();
        let root_block = store.get_required(&root).unwrap();
        assert!(may_have_children(&root, &root_block));
        let children = crate::ipld::links(&root, &root_block).unwrap();
        assert_eq!(children.len(), 3);
        for c in children {
            let leaf = store.get_required(&c).unwrap();
            assert!(crate::ipld::links(&c, &leaf).unwrap().is_empty());
            assert!(!may_have_children(&c, &leaf), "{c} is a leaf");
        }
    }

    #[test]
    fn ready_blocks_are_taken_once_and_bounded_in_bytes() {
        let mut ahead = ReadAhead::default();
        let chunk = READY_BYTES / 4;
        for i in 0..7 {
            ahead.expect(cid(i));
        }
        for i in 0..6 {
            ahead.keep(cid(i), &Bytes::from(vec![i as u8; chunk]));
        }
        // the first four fit; the fifth and sixth are left for the store
        assert_eq!(ahead.ready_bytes, READY_BYTES);
        assert!(ahead.take(&cid(4)).is_none());
        assert_eq!(ahead.take(&cid(1)).unwrap(), vec![1u8; chunk]);
        assert!(ahead.take(&cid(1)).is_none(), "a block is handed out once");
        assert_eq!(ahead.ready_bytes, 3 * chunk);
        // room again: a later block is kept, and a duplicate does not count twice
        ahead.keep(cid(5), &Bytes::from(vec![5u8; chunk]));
        ahead.keep(cid(5), &Bytes::from(vec![5u8; chunk]));
        assert_eq!(ahead.ready_bytes, READY_BYTES);
        assert_eq!(ahead.take(&cid(5)).unwrap(), vec![5u8; chunk]);
    }

    #[test]
    fn blocks_the_reader_already_asked_for_or_never_expected_are_not_kept() {
        let mut ahead = ReadAhead::default();
        ahead.expect(cid(1));
        // the reader got there first (and waits for the fetch itself)...
        assert!(ahead.take(&cid(1)).is_none());
        // ...so the read-ahead's copy, arriving later, would never be taken: not kept
        ahead.keep(cid(1), &Bytes::from_static(b"late"));
        ahead.keep(cid(2), &Bytes::from_static(b"not expected"));
        assert_eq!(ahead.ready_bytes, 0);
        assert!(ahead.ready.is_empty());
    }
}
