//! Kubo's balanced layout (the default), built from a stream of precomputed leaf links.
//!
//! The same algorithm as rust-unixfs's `BalancedCollector` (which only takes leaves it hashed
//! itself): pending links per depth; a depth that grows past 174 links is rendered into one branch
//! node (by rust-unixfs's `rebuild_file_branch`, so the bytes are its own) whose link moves up a
//! depth; at the end the lowest non-empty depth is rendered until one link is left, the root. A
//! single leaf is its own root. Memory: at most 174 links per depth.

use super::add::ImportedFile;
use super::leaves::LeafSpec;
use super::sink::BlockSink;
use crate::error::Result;
use cid::Version;
use multihash_codetable::Code;
use rust_unixfs::file::adder::{FileBranchLink, rebuild_file_branch};

/// Links per branch node (boxo's `DefaultLinksPerBlock`).
const MAX_LINKS: usize = 174;

/// Streaming balanced builder.
pub(super) struct BalancedBuilder {
    version: Version,
    layers: Vec<Vec<FileBranchLink>>,
    dag_size: u64,
    file_size: u64,
}

impl BalancedBuilder {
    /// Starts a file whose branch nodes get CIDs of `version`.
    pub(super) fn new(version: Version) -> Self {
        BalancedBuilder {
            version,
            layers: Vec::new(),
            dag_size: 0,
            file_size: 0,
        }
    }

    /// Takes the next leaf (its block is already in the sink).
    pub(super) fn push_leaf(
        &mut self,
        leaf: FileBranchLink,
        sink: &mut dyn BlockSink,
    ) -> Result<()> {
        self.dag_size += leaf.tsize;
        self.file_size += leaf.blocksize;
        if self.layers.is_empty() {
            self.layers.push(Vec::new());
        }
        self.layers[0].push(leaf);
        let mut depth = 0;
        while self.layers[depth].len() > MAX_LINKS {
            self.render(depth, MAX_LINKS, sink)?;
            depth += 1;
        }
        Ok(())
    }

    /// Renders the first `count` links of `depth` into a branch node and moves its link up.
    fn render(&mut self, depth: usize, count: usize, sink: &mut dyn BlockSink) -> Result<()> {
        let links = &self.layers[depth][..count];
        let filesize = links.iter().map(|l| l.blocksize).sum::<u64>();
        let nested = links.iter().map(|l| l.tsize).sum::<u64>();
        let (cid, block) = rebuild_file_branch(filesize, links, self.version, Code::Sha2_256);
        self.layers[depth].drain(..count);
        let link = FileBranchLink {
            cid,
            blocksize: filesize,
            tsize: nested + block.len() as u64,
        };
        self.dag_size += block.len() as u64;
        sink.put(&cid, block)?;
        if depth + 1 == self.layers.len() {
            self.layers.push(Vec::new());
        }
        self.layers[depth + 1].push(link);
        Ok(())
    }

    /// Renders what is pending and returns the root. No leaf at all (empty input) makes the
    /// empty leaf of `spec` the root, as Kubo does.
    pub(super) fn finish(
        mut self,
        spec: &LeafSpec,
        sink: &mut dyn BlockSink,
    ) -> Result<ImportedFile> {
        if self.layers.iter().all(|l| l.is_empty()) {
            let block = spec.encode(&[]);
            let leaf = spec.link(&block, 0);
            sink.put(&leaf.cid, block)?;
            self.push_leaf(leaf, sink)?;
        }
        loop {
            let total: usize = self.layers.iter().map(Vec::len).sum();
            if total <= 1 {
                break;
            }
            let depth = self
                .layers
                .iter()
                .position(|l| !l.is_empty())
                .expect("total > 1 so some depth has links");
            let count = self.layers[depth].len().min(MAX_LINKS);
            self.render(depth, count, sink)?;
        }
        let root = self
            .layers
            .iter()
            .find_map(|l| l.first())
            .expect("one link is left");
        Ok(ImportedFile {
            cid: root.cid,
            dag_size: self.dag_size,
            file_size: self.file_size,
        })
    }
}
