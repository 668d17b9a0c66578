//! IPLD block-level helpers: multicodec constants, hash verification and link extraction.
//!
//! These are the primitives the blockstore, CAR import/export and the gateway share:
//! [`verify_block`] checks that bytes really are the block a CID names, and [`links`]
//! lists a block's child CIDs in the order Kubo's traversals visit them.

mod cbor_links;
mod json_links;
mod links;
mod verify;

pub use links::{LinksError, links};
pub use verify::{BlockError, verify_block};

/// Multicodec code of DAG-PB (UnixFS nodes).
pub const DAG_PB: u64 = 0x70;
/// Multicodec code of raw bytes (leaf blocks, no links).
pub const RAW: u64 = 0x55;
/// Multicodec code of DAG-CBOR (CBOR with tag-42 links).
pub const DAG_CBOR: u64 = 0x71;
/// Multicodec code of DAG-JSON (JSON with `{"/": "<cid>"}` links).
pub const DAG_JSON: u64 = 0x0129;
/// Multicodec code of a libp2p public key (IPNS keys as CIDs; no links).
pub const LIBP2P_KEY: u64 = 0x72;
/// Multicodec code of plain CBOR (tags are not links, so never any links).
pub const CBOR: u64 = 0x51;
/// Multicodec code of plain JSON (`{"/": …}` is not a link, so never any links).
pub const JSON: u64 = 0x0200;

/// Multihash code of the identity "hash" (the digest is the data itself).
pub const IDENTITY: u64 = 0x00;
/// Multihash code of SHA2-256.
pub const SHA2_256: u64 = 0x12;
/// Multihash code of SHA2-512.
pub const SHA2_512: u64 = 0x13;
/// Multihash code of BLAKE3 (variable-length output; 32 bytes by default).
pub const BLAKE3: u64 = 0x1e;
