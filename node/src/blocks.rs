//! Where readers get blocks from: the local store now, the network later.

use crate::error::Result;
use crate::store::Blockstore;
use cid::Cid;

/// A source of blocks by CID. Absent blocks are [`crate::Error::BlockNotFound`].
pub trait BlockSource {
    /// Returns the block's bytes.
    fn get_block(&self, cid: &Cid) -> Result<Vec<u8>>;
}

impl BlockSource for Blockstore {
    fn get_block(&self, cid: &Cid) -> Result<Vec<u8>> {
        self.get_required(cid)
    }
}

impl<T: BlockSource + ?Sized> BlockSource for &T {
    fn get_block(&self, cid: &Cid) -> Result<Vec<u8>> {
        (**self).get_block(cid)
    }
}
