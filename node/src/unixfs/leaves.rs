//! The leaf pipeline of a file import.
//!
//! The calling thread reads each chunk straight into its leaf block (the dag-pb framing is written
//! around the data in place, so the bytes are copied once), and a few worker threads SHA-256 the
//! leaves. Results come back in input order, so the tree builders ([`super::balanced`],
//! [`super::trickle`]) see exactly the leaves, in exactly the order, of a single-threaded import.
//! At most [`WINDOW_PER_WORKER`] leaves per worker are in flight, so memory does not depend on the
//! input length. Inputs of one chunk or less are hashed on the calling thread (no threads started).

use super::options::AddOptions;
use super::sink::BlockSink;
use crate::error::{Error, Result};
use cid::{Cid, Version};
use multihash_codetable::{Code, MultihashDigest};
use rust_unixfs::file::adder::FileBranchLink;
use std::io::Read;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

/// Hashing threads at most (more do not help: the reader and the sink are one thread each).
const MAX_WORKERS: usize = 4;
/// Leaves queued or being hashed per worker.
const WINDOW_PER_WORKER: usize = 3;
/// Longest trailer (`filesize` field: tag + 10-byte varint).
const MAX_TRAILER: usize = 11;

type Multihash = multihash_codetable::Multihash;

/// How leaves are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LeafFormat {
    /// Raw blocks, CIDv1 `raw` (`--raw-leaves`).
    Raw,
    /// dag-pb nodes with UnixFS type `File` (the balanced importer's leaves).
    PbFile,
    /// dag-pb nodes with UnixFS type `Raw` (the trickle importer's leaves).
    PbRaw,
}

/// Leaf encoding and chunking of one import.
#[derive(Debug, Clone, Copy)]
pub(super) struct LeafSpec {
    format: LeafFormat,
    version: Version,
    chunk_size: usize,
}

impl LeafSpec {
    /// The leaves `opts` asks for.
    pub(super) fn new(opts: &AddOptions) -> Self {
        let format = if opts.raw_leaves() {
            LeafFormat::Raw
        } else if opts.trickle {
            LeafFormat::PbRaw
        } else {
            LeafFormat::PbFile
        };
        LeafSpec {
            format,
            version: opts.version(),
            chunk_size: opts.chunk_size,
        }
    }

    /// Bytes before the content in a leaf of `n` content bytes.
    fn header_len(&self, n: usize) -> usize {
        match self.format {
            LeafFormat::Raw => 0,
            LeafFormat::PbFile | LeafFormat::PbRaw => {
                let unixfs = unixfs_len(n);
                1 + varint_len(unixfs as u64) + 2 + if n > 0 { 1 + varint_len(n as u64) } else { 0 }
            }
        }
    }

    /// Writes the header of a leaf of `n` content bytes at the start of `out`.
    fn write_header(&self, n: usize, out: &mut Vec<u8>) {
        let ty = match self.format {
            LeafFormat::Raw => return,
            LeafFormat::PbFile => 0x02, // UnixFS File
            LeafFormat::PbRaw => 0x00,  // UnixFS Raw
        };
        out.push(0x0a); // PBNode.Data
        put_varint(out, unixfs_len(n) as u64);
        out.extend_from_slice(&[0x08, ty]); // Type
        if n > 0 {
            out.push(0x12); // Data
            put_varint(out, n as u64);
        }
    }

    /// Appends the trailer of a leaf of `n` content bytes.
    fn write_trailer(&self, n: usize, out: &mut Vec<u8>) {
        if self.format != LeafFormat::Raw {
            out.push(0x18); // filesize
            put_varint(out, n as u64);
        }
    }

    /// Encodes one leaf (used for empty files and in tests; the pipeline encodes in place).
    pub(super) fn encode(&self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.header_len(chunk.len()) + chunk.len() + MAX_TRAILER);
        self.write_header(chunk.len(), &mut out);
        out.extend_from_slice(chunk);
        self.write_trailer(chunk.len(), &mut out);
        out
    }

    /// The CID of a leaf whose block hashes to `mh`.
    pub(super) fn cid(&self, mh: Multihash) -> Cid {
        match (self.format, self.version) {
            (LeafFormat::Raw, _) => Cid::new_v1(crate::ipld::RAW, mh),
            (_, Version::V0) => Cid::new_v0(mh).expect("sha2-256 makes a valid CIDv0"),
            (_, Version::V1) => Cid::new_v1(crate::ipld::DAG_PB, mh),
        }
    }

    /// The link to a leaf block holding `n` content bytes.
    pub(super) fn link(&self, block: &[u8], n: usize) -> FileBranchLink {
        FileBranchLink {
            cid: self.cid(Code::Sha2_256.digest(block)),
            blocksize: n as u64,
            tsize: block.len() as u64,
        }
    }

    /// Length of a buffer that holds a full leaf.
    fn buffer_len(&self) -> usize {
        self.header_len(self.chunk_size) + self.chunk_size + MAX_TRAILER
    }
}

/// UnixFS message length of a leaf of `n` content bytes (Type, Data when non-empty, filesize).
fn unixfs_len(n: usize) -> usize {
    let data = if n > 0 {
        1 + varint_len(n as u64) + n
    } else {
        0
    };
    2 + data + 1 + varint_len(n as u64)
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn put_varint(out: &mut Vec<u8>, v: u64) {
    let mut buf = unsigned_varint::encode::u64_buffer();
    out.extend_from_slice(unsigned_varint::encode::u64(v, &mut buf));
}

/// Reads the next chunk into a leaf block. Returns the block and its content length (0 at the end
/// of the input; every chunk but the last is full).
struct ChunkReader<'r, R> {
    reader: &'r mut R,
    spec: LeafSpec,
    /// Buffers of leaves the sink did not keep, for reuse (full length).
    free: Vec<Vec<u8>>,
}

impl<R: Read> ChunkReader<'_, R> {
    fn next(&mut self) -> Result<(Vec<u8>, usize)> {
        let spec = self.spec;
        let full = spec.buffer_len();
        let mut buf = self.free.pop().unwrap_or_else(|| vec![0u8; full]);
        buf.resize(full, 0);
        let start = spec.header_len(spec.chunk_size);
        let n = read_full(self.reader, &mut buf[start..start + spec.chunk_size])?;
        // frame the content in place: the header only shrinks for a shorter (last) chunk
        let h = spec.header_len(n);
        if h != start {
            buf.copy_within(start..start + n, h);
        }
        let mut header = Vec::with_capacity(h);
        spec.write_header(n, &mut header);
        debug_assert_eq!(header.len(), h);
        buf[..h].copy_from_slice(&header);
        buf.truncate(h + n);
        spec.write_trailer(n, &mut buf);
        Ok((buf, n))
    }
}

/// A hashed leaf on its way back to the calling thread: block, content length, multihash.
type Hashed = (Vec<u8>, usize, Multihash);

/// Reads `reader` to its end as leaves of `spec`: each leaf block goes to `sink` (unless it keeps
/// no blocks), then its link to `on_leaf`, in input order. Empty input makes no leaf.
pub(super) fn import_leaves(
    reader: &mut impl Read,
    spec: LeafSpec,
    sink: &mut dyn BlockSink,
    on_leaf: &mut dyn FnMut(FileBranchLink, &mut dyn BlockSink) -> Result<()>,
) -> Result<()> {
    let mut chunks = ChunkReader {
        reader,
        spec,
        free: Vec::new(),
    };
    let keep = sink.keeps_blocks();
    let mut deliver = |chunks: &mut ChunkReader<'_, _>,
                       sink: &mut dyn BlockSink,
                       (block, n, mh): Hashed|
     -> Result<()> {
        let link = FileBranchLink {
            cid: spec.cid(mh),
            blocksize: n as u64,
            tsize: block.len() as u64,
        };
        if keep {
            sink.put(&link.cid, block)?;
        } else {
            chunks.free.push(block);
        }
        on_leaf(link, sink)
    };

    let (first, n) = chunks.next()?;
    if n == 0 {
        return Ok(());
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, |p| p.get())
        .min(MAX_WORKERS);
    if n < spec.chunk_size || workers < 2 {
        // one chunk, or one CPU: hash here
        let mut next = Some((first, n));
        while let Some((block, n)) = next.take() {
            let mh = Code::Sha2_256.digest(&block);
            deliver(&mut chunks, sink, (block, n, mh))?;
            if n == spec.chunk_size {
                let (block, n) = chunks.next()?;
                if n > 0 {
                    next = Some((block, n));
                }
            }
        }
        return Ok(());
    }

    std::thread::scope(|s| {
        let mut jobs: Vec<SyncSender<(Vec<u8>, usize)>> = Vec::with_capacity(workers);
        let mut results: Vec<Receiver<Hashed>> = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (job_tx, job_rx) = sync_channel::<(Vec<u8>, usize)>(WINDOW_PER_WORKER);
            let (res_tx, res_rx) = channel::<Hashed>();
            std::thread::Builder::new()
                .name("wanda-leaf-hash".into())
                .spawn_scoped(s, move || {
                    for (block, n) in job_rx {
                        let mh = Code::Sha2_256.digest(&block);
                        if res_tx.send((block, n, mh)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(Error::IoBare)?;
            jobs.push(job_tx);
            results.push(res_rx);
        }
        let window = workers * WINDOW_PER_WORKER;
        let (mut sent, mut done) = (0usize, 0usize);
        let mut pending = Some((first, n));
        let mut at_end = false;
        loop {
            // Leaf `i` goes to worker `i % workers`; each worker answers in order, so reading the
            // result channels round-robin gives the leaves in input order.
            while !at_end && sent - done < window {
                let (block, n) = match pending.take() {
                    Some(job) => job,
                    None => chunks.next()?,
                };
                if n == 0 {
                    chunks.free.push(block);
                    at_end = true;
                    break;
                }
                at_end = n < spec.chunk_size;
                jobs[sent % workers]
                    .send((block, n))
                    .map_err(|_| Error::Store("leaf hashing thread stopped".into()))?;
                sent += 1;
            }
            if done == sent {
                return Ok(());
            }
            let hashed = results[done % workers]
                .recv()
                .map_err(|_| Error::Store("leaf hashing thread stopped".into()))?;
            done += 1;
            deliver(&mut chunks, sink, hashed)?;
        }
    })
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

#[cfg(test)]
mod tests {
    use super::super::add::Importer;
    use super::super::options::AddOptions;
    use super::super::sink::{BlockSink, HashOnlySink};
    use super::*;
    use rust_unixfs::file::adder::{Chunker, FileAdder};

    /// Keeps every block in order.
    #[derive(Default)]
    struct Collect(Vec<(Cid, Vec<u8>)>);

    impl BlockSink for Collect {
        fn put(&mut self, cid: &Cid, data: Vec<u8>) -> crate::error::Result<()> {
            self.0.push((*cid, data));
            Ok(())
        }
    }

    fn bytes(len: usize) -> Vec<u8> {
        let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ len as u64;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                s as u8
            })
            .collect()
    }

    /// What rust-unixfs's own `FileAdder` (the importer before the leaf pipeline) makes.
    fn reference(opts: &AddOptions, data: &[u8], step: usize) -> Vec<(Cid, Vec<u8>)> {
        let mut adder = FileAdder::builder()
            .with_chunker(Chunker::Size(opts.chunk_size))
            .with_cid_version(opts.version())
            .with_raw_leaves(opts.raw_leaves())
            .build();
        let mut out = Vec::new();
        for piece in data.chunks(step.max(1)) {
            let mut input = piece;
            while !input.is_empty() {
                let (blocks, consumed) = adder.push(input);
                out.extend(blocks);
                input = &input[consumed..];
            }
        }
        out.extend(adder.finish());
        out
    }

    /// A reader that returns at most `max` bytes per call.
    struct Trickling<'a>(&'a [u8], usize);

    impl Read for Trickling<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn import(opts: &AddOptions, data: &[u8], max_read: usize) -> (Vec<(Cid, Vec<u8>)>, Cid, u64) {
        let mut sink = Collect::default();
        let mut ev = |_: super::super::add::AddEvent<'_>| {};
        let file = Importer::new(opts.clone(), &mut sink, &mut ev)
            .unwrap()
            .import_stream(Trickling(data, max_read))
            .unwrap();
        assert_eq!(file.file_size, data.len() as u64);
        (sink.0, file.cid, file.dag_size)
    }

    #[test]
    fn leaf_encoding_matches_rust_unixfs() {
        for version in [0u8, 1] {
            for n in [
                0usize,
                1,
                2,
                100,
                119,
                120,
                121,
                127,
                128,
                129,
                16_370,
                16_383,
                16_384,
                16_385,
                262_143,
                262_144,
                1 << 20,
            ] {
                let opts = AddOptions {
                    cid_version: version,
                    raw_leaves: Some(false),
                    chunk_size: n.max(1),
                    ..Default::default()
                };
                let data = bytes(n);
                let expected = reference(&opts, &data, usize::MAX);
                assert_eq!(expected.len(), 1);
                let spec = LeafSpec::new(&opts);
                let block = spec.encode(&data);
                assert_eq!(block, expected[0].1, "leaf of {n} bytes");
                assert_eq!(
                    spec.header_len(n) + n + 1 + varint_len(n as u64),
                    block.len()
                );
                assert_eq!(spec.link(&block, n).cid, expected[0].0);
            }
        }
    }

    #[test]
    fn trickle_leaves_are_unixfs_raw() {
        // go-unixfs NewLeafDataNode(TRaw) for "hello": Data{Type: Raw, Data: "hello", filesize: 5}
        let opts = AddOptions {
            trickle: true,
            ..Default::default()
        };
        let block = LeafSpec::new(&opts).encode(b"hello");
        assert_eq!(block, b"\x0a\x0b\x08\x00\x12\x05hello\x18\x05");
        assert_eq!(
            LeafSpec::new(&opts).encode(b""),
            b"\x0a\x04\x08\x00\x18\x00"
        );
    }

    #[test]
    fn balanced_import_equals_file_adder_block_for_block() {
        // sizes around chunk and 174-link boundaries, several layers with tiny chunks
        let cases: &[(usize, &[usize])] = &[
            (262_144, &[0, 1, 262_143, 262_144, 262_145, 3 * 262_144 + 7]),
            (
                1000,
                &[174 * 1000, 174 * 1000 + 1, 175 * 1000, 349 * 1000 + 5],
            ),
            (
                3,
                &[
                    174 * 3,
                    174 * 174 * 3,
                    174 * 174 * 3 + 1,
                    174 * 174 * 3 + 174 * 3 + 2,
                    (174 * 174 + 175) * 3,
                ],
            ),
            (1, &[174 * 174 * 2 + 3]),
        ];
        for &(chunk_size, lens) in cases {
            for &len in lens {
                for (version, raw) in [(0u8, None), (1, None), (1, Some(false)), (0, Some(true))] {
                    let opts = AddOptions {
                        cid_version: version,
                        raw_leaves: raw,
                        chunk_size,
                        ..Default::default()
                    };
                    let data = bytes(len);
                    let expected = reference(&opts, &data, 100_000);
                    for max_read in [usize::MAX, 7777] {
                        let (blocks, root, dag_size) = import(&opts, &data, max_read);
                        assert!(
                            blocks == expected,
                            "chunk {chunk_size}, len {len}, v{version}, raw {raw:?}"
                        );
                        assert_eq!(root, expected.last().unwrap().0);
                        let sum: u64 = expected.iter().map(|(_, b)| b.len() as u64).sum();
                        assert_eq!(dag_size, sum);
                    }
                }
            }
        }
    }

    #[test]
    fn hash_only_gives_the_same_root() {
        for opts in [
            AddOptions::default(),
            AddOptions {
                trickle: true,
                chunk_size: 1000,
                ..Default::default()
            },
            AddOptions {
                cid_version: 1,
                chunk_size: 4096,
                ..Default::default()
            },
        ] {
            let data = bytes(3 << 20);
            let (_, root, dag_size) = import(&opts, &data, usize::MAX);
            let mut sink = HashOnlySink;
            let mut ev = |_: super::super::add::AddEvent<'_>| {};
            let file = Importer::new(opts.clone(), &mut sink, &mut ev)
                .unwrap()
                .import_stream(&data[..])
                .unwrap();
            assert_eq!((file.cid, file.dag_size), (root, dag_size));
        }
    }
}
