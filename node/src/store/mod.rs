//! The datastore: one redb file holding blocks, the block index and pins.
//!
//! Invariants (see docs/ARCHITECTURE.md):
//! - A block is present iff its row in [`tables::BLOCK_INDEX`] exists; its bytes are the
//!   concatenation of its pieces in [`tables::BLOCK_PIECES`]. Both are written in one
//!   transaction, so a crash leaves only whole blocks.
//! - Blocks are keyed by multihash (like Kubo), so CIDv0 and CIDv1 of the same bytes share storage.
//! - Pieces are at most [`PIECE_SIZE`] bytes: redb stores a value in a power-of-two page, so
//!   whole 256 KiB blocks would take 512 KiB on disk; 32 KiB pieces keep overhead near 6 %.

mod blockstore;
mod import_guard;
mod pins;
pub mod tables;
mod writer;

pub use blockstore::{Blockstore, StoreStats};
pub use import_guard::{GcPause, ImportGuard, ImportTracker};
pub use pins::{PinMode, PinRecord};
pub use writer::BlockWriter;

/// Largest value stored in one redb row (bytes). Chosen so that key + value + page header fit in
/// a 32 KiB page: measured ratio of file size to block bytes ≈ 1.06 (docs/PERFORMANCE.md).
pub const PIECE_SIZE: usize = 32 * 1024 - 256;

/// How many bytes an import writes before committing (durably) an intermediate transaction;
/// bounds the memory redb holds for uncommitted pages and what a crash can lose.
pub const BATCH_BYTES: u64 = 32 << 20;
