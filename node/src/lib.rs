//! WANDA's embedded IPFS node.
//!
//! Knows nothing of HTTP or hardware. See `docs/ARCHITECTURE.md` for the module map.

pub mod bitswap;
pub mod blocks;
pub mod car;
pub mod dag;
pub mod dag_walk;
mod error;
pub mod gc;
pub mod ipld;
pub mod ipns;
pub mod net;
pub mod pinning;
pub mod repo;
pub mod store;
#[cfg(feature = "test-fixtures")]
pub mod test_fixtures;
pub mod unixfs;
pub mod verify;

pub use error::{Error, Result, parse_cid};
