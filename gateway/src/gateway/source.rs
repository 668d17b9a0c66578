//! The block source of one gateway request: the local store, then (unless the request is
//! `only-if-cached` or no node runs) Bitswap, optionally recording every block it hands out.

use bytes::Bytes;
use cid::Cid;
use std::any::Any;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;
use wanda_node::blocks::BlockSource;
use wanda_node::net::NodeHandle;
use wanda_node::store::Blockstore;

/// Bytes of recently served blocks kept in memory (all stores of the process together).
const HOT_BYTES: usize = 16 << 20;
/// Larger blocks are never kept.
const HOT_MAX_BLOCK: usize = 1 << 20;

/// A block's key: its store (by address; the `Weak` in the entry keeps that address from being
/// reused while the entry lives) and its multihash.
type HotKey = (usize, Vec<u8>);

/// Recently served file blocks as shared buffers, first in first out: a popular image is read
/// from the store once, then every response sends slices of the same buffers (no store read, no
/// copy). Blocks are immutable, so an entry is never stale; whether the block is still in the
/// store is checked on each hit (GC and `block rm` are honoured).
#[derive(Default)]
struct HotBlocks {
    map: HashMap<HotKey, (Weak<dyn Any + Send + Sync>, Bytes)>,
    order: VecDeque<HotKey>,
    bytes: usize,
}

impl HotBlocks {
    fn get<T>(&self, key: &HotKey, db: &Arc<T>) -> Option<Bytes> {
        let (owner, bytes) = self.map.get(key)?;
        (owner.as_ptr() as *const () == Arc::as_ptr(db) as *const ()).then(|| bytes.clone())
    }

    fn insert<T: Send + Sync + 'static>(&mut self, key: HotKey, db: &Arc<T>, bytes: Bytes) {
        if bytes.len() > HOT_MAX_BLOCK || self.map.contains_key(&key) {
            return;
        }
        while self.bytes + bytes.len() > HOT_BYTES {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            if let Some((_, b)) = self.map.remove(&old) {
                self.bytes -= b.len();
            }
        }
        self.bytes += bytes.len();
        self.order.push_back(key.clone());
        let owner: Arc<dyn Any + Send + Sync> = db.clone();
        self.map.insert(key, (Arc::downgrade(&owner), bytes));
    }
}

fn hot() -> &'static Mutex<HotBlocks> {
    static HOT: OnceLock<Mutex<HotBlocks>> = OnceLock::new();
    HOT.get_or_init(Mutex::default)
}
use wanda_node::{Error, Result};

/// Local blocks, else fetched from peers (Bitswap verifies and stores them, unpinned).
///
/// `get_block` blocks the calling thread while fetching: use it from `spawn_blocking`.
pub struct GatewayBlocks {
    store: Blockstore,
    node: Option<NodeHandle>,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
    local_only: bool,
    log: RefCell<Option<Vec<Cid>>>,
}

impl GatewayBlocks {
    /// A source over `store` and, unless `local_only`, `node` (waiting at most `timeout` for
    /// each block).
    pub fn new(
        store: Blockstore,
        node: Option<NodeHandle>,
        runtime: tokio::runtime::Handle,
        timeout: Duration,
        local_only: bool,
    ) -> Self {
        GatewayBlocks {
            store,
            node,
            runtime,
            timeout,
            local_only,
            log: RefCell::new(None),
        }
    }

    /// Starts recording the CIDs of blocks handed out (in order, repeats included).
    pub fn start_recording(&self) {
        *self.log.borrow_mut() = Some(Vec::new());
    }

    /// Whether a response of `len` bytes should keep its blocks in memory: small files (images)
    /// are; large streams are not, so they do not churn the buffers for nothing.
    pub fn worth_keeping(len: u64) -> bool {
        len <= (HOT_BYTES / 2) as u64
    }

    /// A block as a shared buffer: from the recently-served blocks when it is there (and still
    /// in the store), else through [`BlockSource::get_block`] (and then kept if `keep`).
    pub fn get_bytes(&self, cid: &Cid, keep: bool) -> Result<Bytes> {
        let db = self.store.db();
        let key = (Arc::as_ptr(db) as *const () as usize, cid.hash().to_bytes());
        let hit = hot()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key, db);
        if let Some(bytes) = hit
            && self.store.has(cid)?
        {
            if let Some(log) = self.log.borrow_mut().as_mut() {
                log.push(*cid);
            }
            return Ok(bytes);
        }
        let bytes = Bytes::from(self.get_block(cid)?);
        if !keep {
            return Ok(bytes);
        }
        hot()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, db, bytes.clone());
        Ok(bytes)
    }

    /// Stops recording and returns what was recorded.
    pub fn take_recording(&self) -> Vec<Cid> {
        self.log.borrow_mut().take().unwrap_or_default()
    }
}

impl BlockSource for GatewayBlocks {
    fn get_block(&self, cid: &Cid) -> Result<Vec<u8>> {
        let block = match self.store.get(cid)? {
            Some(b) => b,
            None => match (&self.node, self.local_only) {
                (Some(node), false) => self
                    .runtime
                    .block_on(node.fetch_block(*cid, self.timeout))?,
                _ => return Err(Error::BlockNotFound(*cid)),
            },
        };
        if let Some(log) = self.log.borrow_mut().as_mut() {
            log.push(*cid);
        }
        Ok(block)
    }
}
