//! redb table definitions of the datastore.

use redb::TableDefinition;

/// Small blocks' bytes: (multihash bytes, piece index) → piece bytes (one piece since segment
/// files took over large blocks; repos from before that hold several per block).
pub const BLOCK_PIECES: TableDefinition<(&[u8], u32), &[u8]> = TableDefinition::new("block_pieces");

/// Block index: multihash bytes → block size in bytes. A block exists iff it has a row here.
pub const BLOCK_INDEX: TableDefinition<&[u8], u64> = TableDefinition::new("block_index");

/// Large blocks' locations: multihash bytes → (segment number, offset). A block with a row here
/// lives in that segment file; one without lives in [`BLOCK_PIECES`].
pub const BLOCK_FILES: TableDefinition<&[u8], (u32, u64)> = TableDefinition::new("block_files");

/// Segment files: number → (committed length, bytes of blocks still referenced).
pub const SEGMENTS: TableDefinition<u32, (u64, u64)> = TableDefinition::new("segments");

/// Pins: CID bytes → JSON [`super::PinRecord`].
pub const PINS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("pins");
