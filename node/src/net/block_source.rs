//! A [`BlockSource`] that falls back to the network: local store first, then Bitswap.

use super::NodeHandle;
use crate::blocks::BlockSource;
use crate::error::Result;
use crate::store::Blockstore;
use cid::Cid;
use std::time::Duration;

/// Local blocks, else fetched from peers (and then cached in the store, unpinned).
///
/// `get_block` blocks the calling thread: use it from `spawn_blocking` or a plain thread, never
/// from inside an async task.
pub struct NetworkBlocks {
    store: Blockstore,
    node: NodeHandle,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
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
        }
    }
}

impl BlockSource for NetworkBlocks {
    fn get_block(&self, cid: &Cid) -> Result<Vec<u8>> {
        if let Some(block) = self.store.get(cid)? {
            return Ok(block);
        }
        self.runtime
            .block_on(self.node.fetch_block(*cid, self.timeout))
    }
}
