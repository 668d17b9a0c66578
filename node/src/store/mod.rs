//! The datastore: one redb file holding the block index, small blocks and pins, and segment
//! files holding the bytes of large blocks.
//!
//! Invariants (see docs/ARCHITECTURE.md):
//! - A block is present iff its row in [`tables::BLOCK_INDEX`] exists. Its bytes are at the
//!   location in [`tables::BLOCK_FILES`] when it has a row there (blocks over [`PIECE_SIZE`]),
//!   else the concatenation of its pieces in [`tables::BLOCK_PIECES`]. Index, location and pieces
//!   are written in one transaction, after the segment bytes, so a crash leaves only whole blocks
//!   (`segments.rs` explains how segment files follow redb's rollback).
//! - Blocks are keyed by multihash (like Kubo), so CIDv0 and CIDv1 of the same bytes share storage.
//! - Pieces are at most [`PIECE_SIZE`] bytes: redb stores a value in a power-of-two page, so
//!   whole 256 KiB blocks would take 512 KiB on disk. Repos written before segment files hold
//!   large blocks as several pieces; they are read as before.

mod blockstore;
mod import_guard;
mod pins;
mod segments;
pub mod tables;
mod writer;

pub use blockstore::{Blockstore, StoreStats};
pub use import_guard::{GcPause, ImportGuard, ImportTracker};
pub use pins::{PinMode, PinRecord};
pub use segments::{Recovery, SEGMENT_BYTES, segment_syncs};
pub use writer::BlockWriter;

/// Largest block kept in redb (one row); larger blocks go to segment files. Chosen so that key
/// + value + page header fit in a 32 KiB page.
pub const PIECE_SIZE: usize = 32 * 1024 - 256;

/// How many bytes an import writes before committing (durably) an intermediate transaction;
/// bounds the memory redb holds for uncommitted pages and what a crash can lose.
pub const BATCH_BYTES: u64 = 32 << 20;
