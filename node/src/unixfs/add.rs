//! `add`: streaming import of files, stdin and directory trees.

use super::balanced::BalancedBuilder;
use super::leaves::{LeafSpec, import_leaves};
use super::options::AddOptions;
use super::sink::BlockSink;
use super::trickle::TrickleBuilder;
use crate::error::Result;
use cid::Cid;
use multihash_codetable::Code;
use std::io::Read;

/// What an import reports as it goes.
#[derive(Debug)]
pub enum AddEvent<'a> {
    /// `n` more input bytes were processed (for progress bars).
    Bytes(u64),
    /// An entry is complete (Kubo prints `added <cid> <path>`).
    Added {
        /// Display path (Kubo's naming: base name, `dir/sub/file`, empty for a wrapper).
        path: &'a str,
        /// Its CID.
        cid: &'a Cid,
        /// Cumulative DAG size.
        size: u64,
    },
}

/// Result of importing one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportedFile {
    /// Root CID.
    pub cid: Cid,
    /// Cumulative size of all blocks (dag-pb link Tsize).
    pub dag_size: u64,
    /// Content bytes.
    pub file_size: u64,
}

/// Runs imports with fixed options into a block sink.
pub struct Importer<'a> {
    pub(super) opts: AddOptions,
    pub(super) sink: &'a mut dyn BlockSink,
    pub(super) on_event: &'a mut dyn FnMut(AddEvent<'_>),
}

impl<'a> Importer<'a> {
    /// Creates an importer. Fails on invalid options.
    pub fn new(
        opts: AddOptions,
        sink: &'a mut dyn BlockSink,
        on_event: &'a mut dyn FnMut(AddEvent<'_>),
    ) -> Result<Self> {
        opts.validate()?;
        Ok(Importer {
            opts,
            sink,
            on_event,
        })
    }

    /// The options in use.
    pub fn options(&self) -> &AddOptions {
        &self.opts
    }

    /// Imports one byte stream as a UnixFS file. Memory use does not depend on its length.
    ///
    /// Leaves are read on this thread and hashed on worker threads (`leaves.rs`); the tree is
    /// built here from their links in input order, so the CIDs are those of a sequential import.
    pub fn import_stream(&mut self, mut reader: impl Read) -> Result<ImportedFile> {
        let spec = LeafSpec::new(&self.opts);
        let on_event = &mut *self.on_event;
        if self.opts.trickle {
            let mut builder = TrickleBuilder::new(&self.opts);
            import_leaves(&mut reader, spec, &mut *self.sink, &mut |leaf, sink| {
                on_event(AddEvent::Bytes(leaf.blocksize));
                builder.push_leaf(leaf, sink)
            })?;
            return builder.finish(self.sink);
        }
        let mut builder = BalancedBuilder::new(self.opts.version());
        import_leaves(&mut reader, spec, &mut *self.sink, &mut |leaf, sink| {
            on_event(AddEvent::Bytes(leaf.blocksize));
            builder.push_leaf(leaf, sink)
        })?;
        builder.finish(&spec, self.sink)
    }

    /// Imports a symlink node pointing at `target`.
    pub fn import_symlink(&mut self, target: &str) -> Result<ImportedFile> {
        let (cid, block) = rust_unixfs::symlink::symlink_block(
            target,
            &Default::default(),
            self.opts.version(),
            Code::Sha2_256,
        );
        let size = block.len() as u64;
        self.sink.put(&cid, block)?;
        Ok(ImportedFile {
            cid,
            dag_size: size,
            file_size: 0,
        })
    }

    /// Reports a finished entry.
    pub(super) fn added(&mut self, path: &str, cid: &Cid, size: u64) {
        (self.on_event)(AddEvent::Added { path, cid, size });
    }
}
