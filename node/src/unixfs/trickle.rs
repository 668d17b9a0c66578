//! Kubo's trickle layout (`ipfs add --trickle`), which rust-unixfs does not provide.
//!
//! Same shape as boxo's `importer/trickle`: a node first takes up to 174 leaves directly, then
//! `LAYER_REPEAT` subtrees of depth 1, then of depth 2, …; the root has no depth limit. Leaves are
//! made by `leaves.rs` (one chunk each) and branch nodes by its `rebuild_file_branch`, so the bytes
//! match Kubo's. The tree is built from a stream: only the open path of nodes is kept in memory.

use super::add::ImportedFile;
use super::options::AddOptions;
use super::sink::BlockSink;
use crate::error::Result;
use multihash_codetable::Code;
use rust_unixfs::file::adder::{FileBranchLink, rebuild_file_branch};

/// Children taken directly by a node before its subtrees (boxo's `DefaultLinksPerBlock`).
const MAX_LINKS: usize = 174;
/// Subtrees of each depth (boxo's `layerRepeat`).
const LAYER_REPEAT: usize = 4;

/// One node on the open path: its links so far and where it is in the trickle pattern.
struct Frame {
    links: Vec<FileBranchLink>,
    /// Depth limit (`None` for the root).
    max_depth: Option<usize>,
    /// Depth of the subtrees being added now (0 = still taking direct leaves).
    depth: usize,
    /// Subtrees of `depth` added so far.
    repeat: usize,
}

impl Frame {
    fn new(max_depth: Option<usize>) -> Self {
        Frame {
            links: Vec::new(),
            max_depth,
            depth: 0,
            repeat: 0,
        }
    }
}

/// Streaming trickle builder.
pub struct TrickleBuilder {
    opts: AddOptions,
    stack: Vec<Frame>,
    dag_size: u64,
    file_size: u64,
}

impl TrickleBuilder {
    /// Starts a file.
    pub fn new(opts: &AddOptions) -> Self {
        TrickleBuilder {
            opts: opts.clone(),
            stack: vec![Frame::new(None)],
            dag_size: 0,
            file_size: 0,
        }
    }

    /// Takes the next leaf (its block is already in the sink). Kubo's trickle importer makes
    /// UnixFS `Raw`-typed dag-pb leaves (not `File` like the balanced one), or raw blocks with
    /// `--raw-leaves`: see [`super::leaves::LeafFormat`].
    pub fn push_leaf(&mut self, link: FileBranchLink, sink: &mut dyn BlockSink) -> Result<()> {
        self.dag_size += link.tsize;
        self.file_size += link.blocksize;
        self.place_leaf(link, sink)
    }

    /// Finds the node that takes the next leaf, opening and closing subtrees as the pattern says.
    fn place_leaf(&mut self, link: FileBranchLink, sink: &mut dyn BlockSink) -> Result<()> {
        loop {
            let top = self.stack.last_mut().expect("root frame");
            if top.depth == 0 {
                if top.links.len() < MAX_LINKS {
                    top.links.push(link);
                    return Ok(());
                }
                top.depth = 1;
                top.repeat = 0;
            }
            if top.repeat == LAYER_REPEAT {
                top.depth += 1;
                top.repeat = 0;
            }
            if top.max_depth.is_some_and(|max| top.depth >= max) {
                // this subtree is full: close it and continue in its parent
                self.close_top(sink)?;
                continue;
            }
            let depth = top.depth;
            top.repeat += 1;
            self.stack.push(Frame::new(Some(depth)));
        }
    }

    fn close_top(&mut self, sink: &mut dyn BlockSink) -> Result<()> {
        let frame = self.stack.pop().expect("frame to close");
        let (cid, block, filesize) = self.render(&frame.links);
        let tsize = block.len() as u64 + frame.links.iter().map(|l| l.tsize).sum::<u64>();
        self.dag_size += block.len() as u64;
        sink.put(&cid, block)?;
        let parent = self.stack.last_mut().expect("closed frame has a parent");
        parent.links.push(FileBranchLink {
            cid,
            blocksize: filesize,
            tsize,
        });
        Ok(())
    }

    fn render(&self, links: &[FileBranchLink]) -> (cid::Cid, Vec<u8>, u64) {
        let filesize = links.iter().map(|l| l.blocksize).sum();
        let (cid, block) =
            rebuild_file_branch(filesize, links, self.opts.version(), Code::Sha2_256);
        (cid, block, filesize)
    }

    /// Closes every open node and returns the root.
    pub fn finish(mut self, sink: &mut dyn BlockSink) -> Result<ImportedFile> {
        while self.stack.len() > 1 {
            self.close_top(sink)?;
        }
        let root = self.stack.pop().expect("root frame");
        if root.links.is_empty() {
            // empty input: the root is a file node without links, as in boxo
            let (cid, block, _) = self.render(&[]);
            self.dag_size += block.len() as u64;
            sink.put(&cid, block)?;
            return Ok(ImportedFile {
                cid,
                dag_size: self.dag_size,
                file_size: 0,
            });
        }
        let (cid, block, _) = self.render(&root.links);
        self.dag_size += block.len() as u64;
        sink.put(&cid, block)?;
        Ok(ImportedFile {
            cid,
            dag_size: self.dag_size,
            file_size: self.file_size,
        })
    }
}
