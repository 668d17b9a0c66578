//! Import options, with Kubo's `ipfs add` defaults and flag semantics.

use super::dir_import::HAMT_THRESHOLD;
use crate::error::{Error, Result};
use cid::Version;

/// Kubo's largest accepted chunk size (boxo's `ChunkSizeLimit`).
pub const MAX_CHUNK_SIZE: usize = 1 << 20;

/// Options of an import; [`Default`] equals `ipfs add` with no flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddOptions {
    /// CID version (0 or 1). Version 1 implies raw leaves unless `raw_leaves` says otherwise.
    pub cid_version: u8,
    /// Raw leaves; `None` = Kubo's default for the CID version.
    pub raw_leaves: Option<bool>,
    /// Fixed chunk size in bytes (`--chunker size-N`).
    pub chunk_size: usize,
    /// Trickle layout instead of balanced.
    pub trickle: bool,
    /// Wrap the added entries in a directory (`-w`).
    pub wrap: bool,
    /// Include hidden (dot) files when adding directories (`-H`).
    pub hidden: bool,
    /// Compute CIDs without storing anything (`-n`).
    pub only_hash: bool,
    /// Pin the root recursively when done (`--pin`, default true).
    pub pin: bool,
    /// A directory whose links (name + CID bytes) add up to strictly more than this many bytes
    /// is HAMT-sharded. Default [`HAMT_THRESHOLD`], which matches Kubo 0.22; `ipfs add` has no
    /// flag for it (Kubo's `Internal.UnixFSShardingSizeThreshold` setting). Lower values shard
    /// small directories, as the gateway test fixtures do.
    pub shard_threshold: u64,
}

impl Default for AddOptions {
    fn default() -> Self {
        AddOptions {
            cid_version: 0,
            raw_leaves: None,
            chunk_size: 262_144,
            trickle: false,
            wrap: false,
            hidden: false,
            only_hash: false,
            pin: true,
            shard_threshold: HAMT_THRESHOLD,
        }
    }
}

impl AddOptions {
    /// The CID version as the `cid` crate's enum.
    pub fn version(&self) -> Version {
        if self.cid_version == 0 {
            Version::V0
        } else {
            Version::V1
        }
    }

    /// Whether leaves are raw blocks (explicit flag, else implied by CIDv1).
    pub fn raw_leaves(&self) -> bool {
        self.raw_leaves.unwrap_or(self.cid_version == 1)
    }

    /// Checks the options like Kubo does; errors name the flag.
    pub fn validate(&self) -> Result<()> {
        if self.cid_version > 1 {
            return Err(Error::InvalidInput(format!(
                "--cid-version: unknown CID version {} (0 or 1)",
                self.cid_version
            )));
        }
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK_SIZE {
            return Err(Error::InvalidInput(format!(
                "--chunker: chunk size {} out of range (1 to {MAX_CHUNK_SIZE} bytes)",
                self.chunk_size
            )));
        }
        Ok(())
    }

    /// Parses Kubo's `--chunker` value (`size-N`; `size` alone is the default 262144).
    pub fn parse_chunker(spec: &str) -> Result<usize> {
        let bad = || {
            Error::InvalidInput(format!(
                "--chunker: unsupported chunker `{spec}` (only size-N is supported)"
            ))
        };
        match spec {
            "size" | "default" => Ok(262_144),
            s => s
                .strip_prefix("size-")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(bad),
        }
    }
}
