//! Reading a byte range of a UnixFS file by walking only the blocks that overlap it (using
//! each node's `blocksizes`), so a range is served even when blocks outside it are missing, and
//! a trustless CAR for `entity-bytes` holds exactly the blocks the range needs.

use super::body::ChannelWriter;
use super::source::GatewayBlocks;
use bytes::Bytes;
use cid::Cid;
use std::io::Write;
use wanda_node::blocks::BlockSource;
use wanda_node::ipld::{DAG_PB, RAW};
use wanda_node::{Error, Result};

/// The parts of a UnixFS `Data` message a reader needs.
struct UnixFsData {
    data: Bytes,
    blocksizes: Vec<u64>,
}

fn varint(buf: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*i)?;
        *i += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn parse_unixfs(buf: &Bytes) -> Option<UnixFsData> {
    let mut i = 0;
    let mut out = UnixFsData {
        data: Bytes::new(),
        blocksizes: Vec::new(),
    };
    while i < buf.len() {
        let key = varint(buf, &mut i)?;
        match (key >> 3, key & 7) {
            (4, 0) => out.blocksizes.push(varint(buf, &mut i)?),
            (field, 2) => {
                let len = usize::try_from(varint(buf, &mut i)?).ok()?;
                let end = i.checked_add(len).filter(|e| *e <= buf.len())?;
                if field == 2 {
                    out.data = buf.slice(i..end);
                } else if field == 4 {
                    // packed blocksizes
                    let mut j = i;
                    while j < end {
                        out.blocksizes.push(varint(&buf[..end], &mut j)?);
                    }
                }
                i = end;
            }
            (_, 0) => {
                varint(buf, &mut i)?;
            }
            (_, 1) => i += 8,
            (_, 5) => i += 4,
            _ => return None,
        }
    }
    Some(out)
}

/// Where the bytes of a range go.
enum Out<'a> {
    /// Nowhere (only visiting blocks).
    None,
    /// Copied into a writer.
    Write(&'a mut dyn Write),
    /// Handed to a response body as shared slices of the blocks (no copy).
    Body(&'a mut ChannelWriter),
}

/// Walks the file rooted at `cid` (whose block is `block`), visiting — in depth-first order —
/// only the blocks holding bytes of `from..=to` (the root always), calling `visit` on each and
/// writing the bytes of the range to `out` when given.
pub fn walk_range(
    src: &dyn BlockSource,
    cid: &Cid,
    block: Vec<u8>,
    from: u64,
    to: u64,
    visit: &mut dyn FnMut(&Cid, &[u8]) -> Result<()>,
    out: Option<&mut dyn Write>,
) -> Result<()> {
    let mut out = match out {
        Some(w) => Out::Write(w),
        None => Out::None,
    };
    let fetch = |c: &Cid| src.get_block(c).map(Bytes::from);
    walk(
        &fetch,
        cid,
        Bytes::from(block),
        0,
        from,
        to,
        visit,
        &mut out,
    )
}

/// [`walk_range`] into a response body: blocks come from [`GatewayBlocks::get_bytes`] (shared
/// buffers of recently served blocks, kept for small ranges) and the range's bytes are sent as
/// slices of them, without copying.
pub fn walk_range_to_body(
    src: &GatewayBlocks,
    cid: &Cid,
    block: Bytes,
    from: u64,
    to: u64,
    body: &mut ChannelWriter,
) -> Result<()> {
    let keep = GatewayBlocks::worth_keeping(to.saturating_sub(from).saturating_add(1));
    let fetch = |c: &Cid| src.get_bytes(c, keep);
    walk(
        &fetch,
        cid,
        block,
        0,
        from,
        to,
        &mut |_, _| Ok(()),
        &mut Out::Body(body),
    )
}

fn write_part(out: &mut Out<'_>, content: &Bytes, base: u64, from: u64, to: u64) -> Result<()> {
    if matches!(out, Out::None) {
        return Ok(());
    }
    let end = base + content.len() as u64; // exclusive
    if content.is_empty() || end <= from || base > to {
        return Ok(());
    }
    let s = from.saturating_sub(base) as usize;
    let e = ((to + 1).min(end) - base) as usize;
    match out {
        Out::None => {}
        Out::Write(w) => w.write_all(&content[s..e])?,
        Out::Body(b) => b.write_bytes(content.slice(s..e))?,
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn walk(
    fetch: &dyn Fn(&Cid) -> Result<Bytes>,
    cid: &Cid,
    block: Bytes,
    base: u64,
    from: u64,
    to: u64,
    visit: &mut dyn FnMut(&Cid, &[u8]) -> Result<()>,
    out: &mut Out<'_>,
) -> Result<()> {
    visit(cid, &block)?;
    let decode = |reason: &str| Error::Decode {
        cid: cid.to_string(),
        reason: reason.to_string(),
    };
    match cid.codec() {
        RAW => write_part(out, &block, base, from, to),
        DAG_PB => {
            let node = ipld_dagpb::PbNode::from_bytes(block).map_err(|e| decode(&e.to_string()))?;
            let data = node.data.unwrap_or_default();
            let fs = parse_unixfs(&data).ok_or_else(|| decode("malformed UnixFS data"))?;
            write_part(out, &fs.data, base, from, to)?;
            if node.links.len() != fs.blocksizes.len() {
                return Err(decode("UnixFS blocksizes do not match the links"));
            }
            let mut off = base + fs.data.len() as u64;
            for (link, size) in node.links.iter().zip(fs.blocksizes) {
                let end = off.saturating_add(size);
                if size > 0 && off <= to && end > from {
                    let child = fetch(&link.cid)?;
                    walk(fetch, &link.cid, child, off, from, to, visit, out)?;
                }
                off = end;
                if off > to {
                    break;
                }
            }
            Ok(())
        }
        other => Err(decode(&format!("codec 0x{other:x} is not a UnixFS file"))),
    }
}
