//! A [`BlockSource`] that falls back to the network: local store first, then Bitswap, with a
//! read-ahead window over UnixFS file chunks.

use super::NodeHandle;
use crate::blocks::BlockSource;
use crate::error::Result;
use crate::store::Blockstore;
use crate::unixfs::{NodeKind, node_kind};
use cid::Cid;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many chunks of a file are requested ahead of the one being read.
const READ_AHEAD: usize = 32;

/// Which children of a file node are known, and how far they were requested.
#[derive(Default)]
struct ReadAhead {
    /// Child → (its siblings in order, its index).
    position: HashMap<Cid, (Arc<Vec<Cid>>, usize)>,
    /// Children already requested.
    requested: HashSet<Cid>,
}

/// Local blocks, else fetched from peers (and then cached in the store, unpinned).
///
/// Reading a UnixFS file node requests its first chunks in the background, and each chunk read
/// requests the next ones ([`READ_AHEAD`] in flight), so a sequential read is pipelined rather
/// than one round trip per block.
///
/// `get_block` blocks the calling thread: use it from `spawn_blocking` or a plain thread, never
/// from inside an async task.
pub struct NetworkBlocks {
    store: Blockstore,
    node: NodeHandle,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
    ahead: Mutex<ReadAhead>,
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
            ahead: Mutex::default(),
        }
    }

    /// Requests the chunks after `cid` (or the first ones, if `cid` is a file node).
    fn read_ahead(&self, cid: &Cid, data: &[u8]) {
        let mut ahead = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        let next: Vec<Cid> = match ahead.position.get(cid).cloned() {
            Some((siblings, i)) => siblings
                .iter()
                .skip(i + 1)
                .take(READ_AHEAD)
                .copied()
                .collect(),
            None => Vec::new(),
        };
        let mut wanted = next;
        if matches!(node_kind(cid, data), NodeKind::File(_))
            && let Ok(children) = crate::ipld::links(cid, data)
            && !children.is_empty()
        {
            let children = Arc::new(children);
            for (i, c) in children.iter().enumerate() {
                ahead.position.insert(*c, (children.clone(), i));
            }
            wanted.extend(children.iter().take(READ_AHEAD));
        }
        for c in wanted {
            if !ahead.requested.insert(c) || self.store.has(&c).unwrap_or(false) {
                continue;
            }
            let (node, timeout) = (self.node.clone(), self.timeout);
            self.runtime.spawn(async move {
                let _ = node.prefetch_block(c, timeout).await;
            });
        }
    }
}

impl BlockSource for NetworkBlocks {
    fn get_block(&self, cid: &Cid) -> Result<Vec<u8>> {
        let data = match self.store.get(cid)? {
            Some(block) => block,
            None => self
                .runtime
                .block_on(self.node.fetch_block(*cid, self.timeout))?,
        };
        self.read_ahead(cid, &data);
        Ok(data)
    }
}
