//! Reading UnixFS: file content (`cat`, with offset/length) and directory listings (`ls`).

use super::resolve::{NodeKind, node_kind};
use crate::blocks::BlockSource;
use crate::error::{Error, Result};
use cid::Cid;
use rust_unixfs::dir::NodeDescription;
use rust_unixfs::file::visit::IdleFileVisit;
use std::io::Write;

/// Streams a UnixFS file (or raw block) out of a block source.
pub struct FileReader<'a> {
    src: &'a dyn BlockSource,
    cid: Cid,
    root: Vec<u8>,
    size: u64,
}

impl<'a> FileReader<'a> {
    /// Opens the file at `cid`; fails when it is not a file.
    pub fn open(src: &'a dyn BlockSource, cid: Cid) -> Result<Self> {
        let root = src.get_block(&cid)?;
        let size = match node_kind(&cid, &root) {
            NodeKind::File(size) | NodeKind::Raw(size) => size,
            other => {
                return Err(Error::WrongNodeType {
                    cid: cid.to_string(),
                    found: other.describe().into(),
                    expected: "a file",
                });
            }
        };
        Ok(FileReader {
            src,
            cid,
            root,
            size,
        })
    }

    /// Content size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Writes bytes `offset..offset+length` (to the end when `length` is `None`) to `out`,
    /// fetching only the blocks that cover that range. Returns the bytes written.
    pub fn copy_range(&self, offset: u64, length: Option<u64>, out: &mut dyn Write) -> Result<u64> {
        let end = match length {
            Some(len) => offset.saturating_add(len).min(self.size),
            None => self.size,
        };
        if offset >= end {
            return Ok(0);
        }
        let visit = IdleFileVisit::default().with_target_range(offset..end);
        let decode = |e: rust_unixfs::file::FileReadFailed, cid: &Cid| Error::Decode {
            cid: cid.to_string(),
            reason: e.to_string(),
        };
        let mut written = 0u64;
        let mut step = if self.cid.codec() == crate::ipld::RAW {
            let (content, _, _, step) = visit.start_from_raw(&self.root);
            out.write_all(content)?;
            written += content.len() as u64;
            step
        } else {
            let (content, _, _, step) =
                visit.start(&self.root).map_err(|e| decode(e, &self.cid))?;
            out.write_all(content)?;
            written += content.len() as u64;
            step
        };
        let mut cache = None;
        while let Some(visit) = step {
            let next = *visit.pending_links().0;
            let block = self.src.get_block(&next)?;
            let (content, more) = visit
                .continue_walk(&block, &mut cache)
                .map_err(|e| decode(e, &next))?;
            out.write_all(content)?;
            written += content.len() as u64;
            step = more;
        }
        Ok(written)
    }
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ListEntry {
    /// Entry name.
    pub name: String,
    /// Target CID.
    pub cid: Cid,
    /// Cumulative DAG size recorded on the link.
    pub tsize: u64,
}

/// Lists a directory (flat or HAMT-sharded) in link order; shards are walked bucket by bucket.
pub fn list_directory(src: &dyn BlockSource, cid: &Cid) -> Result<Vec<ListEntry>> {
    let block = src.get_block(cid)?;
    match rust_unixfs::dir::describe(&block) {
        NodeDescription::Directory { links } => Ok(links
            .into_iter()
            .map(|l| ListEntry {
                name: l.name,
                cid: l.target,
                tsize: l.tsize,
            })
            .collect()),
        NodeDescription::HamtShard { .. } => {
            let mut out = Vec::new();
            list_shard(src, &block, &mut out)?;
            Ok(out)
        }
        _ => Err(Error::WrongNodeType {
            cid: cid.to_string(),
            found: node_kind(cid, &block).describe().into(),
            expected: "a directory",
        }),
    }
}

/// Walks a HAMT shard: a link named by its 2-hex-digit bucket alone is a sub-shard; any longer
/// name is the bucket prefix followed by the entry name.
fn list_shard(src: &dyn BlockSource, block: &[u8], out: &mut Vec<ListEntry>) -> Result<()> {
    let NodeDescription::HamtShard { links } = rust_unixfs::dir::describe(block) else {
        return Err(Error::InvalidInput(
            "HAMT bucket is not a shard node".into(),
        ));
    };
    for link in links {
        if link.name.len() == 2 {
            let child = src.get_block(&link.target)?;
            list_shard(src, &child, out)?;
        } else if link.name.len() > 2 {
            out.push(ListEntry {
                name: link.name[2..].to_string(),
                cid: link.target,
                tsize: link.tsize,
            });
        }
    }
    Ok(())
}
