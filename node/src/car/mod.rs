//! CAR (Content Addressable aRchive) v1 reading and writing, plus Kubo-compatible DAG export.
//!
//! Format (<https://ipld.io/specs/transport/car/carv1/>): a uvarint-length-prefixed
//! DAG-CBOR header `{roots: [CID…], version: 1}`, then sections of
//! `uvarint(len) ‖ CID bytes ‖ block bytes`. [`CarReader`] also accepts CARv2 files by
//! skipping to the CARv1 payload they wrap; the CARv2 index is ignored.

mod error;
mod export;
mod header;
mod reader;
mod varint;
mod writer;

pub use error::CarError;
pub use export::{ExportError, export_dfs};
pub use reader::CarReader;
pub use writer::CarWriter;

/// Largest CARv1 header accepted, in bytes (the header is only roots; 1 MiB is generous).
pub const MAX_HEADER_LEN: u64 = 1024 * 1024;
/// Largest section (CID + block) accepted, in bytes: Kubo/go-car's default limit.
pub const MAX_SECTION_LEN: u64 = 8 * 1024 * 1024;
