//! redb table definitions of the datastore.

use redb::TableDefinition;

/// Block pieces: (multihash bytes, piece index) → piece bytes.
pub const BLOCK_PIECES: TableDefinition<(&[u8], u32), &[u8]> = TableDefinition::new("block_pieces");

/// Block index: multihash bytes → block size in bytes. A block exists iff it has a row here.
pub const BLOCK_INDEX: TableDefinition<&[u8], u64> = TableDefinition::new("block_index");

/// Pins: CID bytes → JSON [`super::PinRecord`].
pub const PINS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("pins");
