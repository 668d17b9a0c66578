//! `add`: streaming import of files, stdin and directory trees.

use super::options::AddOptions;
use super::sink::BlockSink;
use super::trickle::TrickleBuilder;
use crate::error::{Error, Result};
use cid::Cid;
use multihash_codetable::Code;
use rust_unixfs::file::adder::{Chunker, FileAdder};
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

const READ_BUFFER: usize = 1 << 20;

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
    pub fn import_stream(&mut self, mut reader: impl Read) -> Result<ImportedFile> {
        if self.opts.trickle {
            let mut builder = TrickleBuilder::new(&self.opts);
            let mut chunk = vec![0u8; self.opts.chunk_size];
            loop {
                let n = read_full(&mut reader, &mut chunk)?;
                if n == 0 {
                    break;
                }
                (self.on_event)(AddEvent::Bytes(n as u64));
                builder.push_chunk(&chunk[..n], self.sink)?;
                if n < chunk.len() {
                    break;
                }
            }
            return builder.finish(self.sink);
        }
        let mut adder = FileAdder::builder()
            .with_chunker(Chunker::Size(self.opts.chunk_size))
            .with_cid_version(self.opts.version())
            .with_raw_leaves(self.opts.raw_leaves())
            .build();
        let mut buf = vec![0u8; READ_BUFFER.max(self.opts.chunk_size)];
        let mut dag_size = 0u64;
        let mut file_size = 0u64;
        let mut last: Option<Cid> = None;
        loop {
            let n = read_some(&mut reader, &mut buf)?;
            if n == 0 {
                break;
            }
            file_size += n as u64;
            let mut input = &buf[..n];
            while !input.is_empty() {
                let (blocks, consumed) = adder.push(input);
                for (cid, block) in blocks {
                    dag_size += block.len() as u64;
                    last = Some(cid);
                    self.sink.put(&cid, block)?;
                }
                input = &input[consumed..];
            }
            (self.on_event)(AddEvent::Bytes(n as u64));
        }
        for (cid, block) in adder.finish() {
            dag_size += block.len() as u64;
            last = Some(cid);
            self.sink.put(&cid, block)?;
        }
        let cid = last.ok_or_else(|| Error::Store("importer produced no block".into()))?;
        Ok(ImportedFile {
            cid,
            dag_size,
            file_size,
        })
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

fn read_some(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    loop {
        match reader.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::IoBare(e)),
        }
    }
}

/// Fills `buf` unless the stream ends first; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = read_some(reader, &mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}
