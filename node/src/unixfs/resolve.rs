//! Resolving `CID/a/b/c` paths through UnixFS directories (flat and HAMT-sharded).

use crate::blocks::BlockSource;
use crate::error::{Error, Result, parse_cid};
use crate::ipld::{DAG_PB, RAW};
use cid::Cid;
use rust_unixfs::MaybeResolved;
use rust_unixfs::dir::NodeDescription;

/// What a block is, as far as UnixFS cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A UnixFS file (dag-pb) of this many content bytes.
    File(u64),
    /// A raw block (a file of its own bytes).
    Raw(u64),
    /// A flat UnixFS directory.
    Directory,
    /// A HAMT-sharded UnixFS directory.
    HamtShard,
    /// A UnixFS symlink.
    Symlink,
    /// Not UnixFS (other codec, or dag-pb without UnixFS data).
    Other,
}

impl NodeKind {
    /// Whether this is a directory (flat or sharded).
    pub fn is_dir(&self) -> bool {
        matches!(self, NodeKind::Directory | NodeKind::HamtShard)
    }

    /// Short name for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            NodeKind::File(_) | NodeKind::Raw(_) => "a file",
            NodeKind::Directory | NodeKind::HamtShard => "a directory",
            NodeKind::Symlink => "a symlink",
            NodeKind::Other => "not a UnixFS node",
        }
    }
}

/// Classifies a block.
pub fn node_kind(cid: &Cid, block: &[u8]) -> NodeKind {
    match cid.codec() {
        RAW => NodeKind::Raw(block.len() as u64),
        DAG_PB => match rust_unixfs::dir::describe(block) {
            NodeDescription::File { size } => NodeKind::File(size),
            NodeDescription::Directory { .. } => NodeKind::Directory,
            NodeDescription::HamtShard { .. } => NodeKind::HamtShard,
            NodeDescription::Symlink => NodeKind::Symlink,
            NodeDescription::Other => NodeKind::Other,
        },
        _ => NodeKind::Other,
    }
}

/// A resolved path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPath {
    /// The root CID the path started from.
    pub root: Cid,
    /// The CID the path points at.
    pub cid: Cid,
    /// The path segments that were followed.
    pub segments: Vec<String>,
}

/// Splits `CID`, `CID/a/b`, `/ipfs/CID/a/b` into the root and its segments.
pub fn split_path(input: &str) -> Result<(Cid, Vec<String>)> {
    let trimmed = input.trim();
    let rest = trimmed.strip_prefix("/ipfs/").unwrap_or(trimmed);
    let mut parts = rest.split('/');
    let root = parse_cid(parts.next().unwrap_or_default())?;
    let segments: Vec<String> = parts
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    if segments.iter().any(|s| s == "." || s == "..") {
        return Err(Error::InvalidInput(format!(
            "invalid path `{input}`: `.` and `..` segments are not allowed"
        )));
    }
    Ok((root, segments))
}

/// Resolves `CID[/path]` to the CID it names.
pub fn resolve_path(src: &dyn BlockSource, input: &str) -> Result<ResolvedPath> {
    let (root, segments) = split_path(input)?;
    let mut cur = root;
    for segment in &segments {
        cur = resolve_segment(src, &cur, segment)?;
    }
    Ok(ResolvedPath {
        root,
        cid: cur,
        segments,
    })
}

/// Looks up one entry `name` of the UnixFS directory `dir` (flat or HAMT-sharded, fetching
/// only the shard buckets on the way). Not a directory, or no such entry, is
/// [`Error::NoSuchLink`].
pub fn resolve_segment(src: &dyn BlockSource, dir: &Cid, name: &str) -> Result<Cid> {
    if dir.codec() != DAG_PB {
        return Err(Error::NoSuchLink {
            cid: dir.to_string(),
            name: name.into(),
        });
    }
    let block = src.get_block(dir)?;
    if !node_kind(dir, &block).is_dir() {
        // like Kubo: a path through a file (or other node) names a link that does not exist
        return Err(Error::NoSuchLink {
            cid: dir.to_string(),
            name: name.into(),
        });
    }
    let mut cache = None;
    let lookup_err = |e: String| Error::Decode {
        cid: dir.to_string(),
        reason: e,
    };
    let mut step =
        rust_unixfs::resolve(&block, name, &mut cache).map_err(|e| lookup_err(e.to_string()))?;
    loop {
        match step {
            MaybeResolved::Found(cid) => return Ok(cid),
            MaybeResolved::NotFound => {
                return Err(Error::NoSuchLink {
                    cid: dir.to_string(),
                    name: name.into(),
                });
            }
            MaybeResolved::NeedToLoadMore(lookup) => {
                let next = *lookup.pending_links().0;
                let bucket = src.get_block(&next)?;
                step = lookup
                    .continue_walk(&bucket, &mut cache)
                    .map_err(|e| lookup_err(e.to_string()))?;
            }
        }
    }
}
