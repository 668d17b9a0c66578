//! The block source of one gateway request: the local store, then (unless the request is
//! `only-if-cached` or no node runs) Bitswap, optionally recording every block it hands out.

use cid::Cid;
use std::cell::RefCell;
use std::time::Duration;
use wanda_node::blocks::BlockSource;
use wanda_node::net::NodeHandle;
use wanda_node::store::Blockstore;
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
