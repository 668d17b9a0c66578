//! Reading a byte range of a UnixFS file by walking only the blocks that overlap it (using
//! each node's `blocksizes`), so a range is served even when blocks outside it are missing, and
//! a trustless CAR for `entity-bytes` holds exactly the blocks the range needs.

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
    mut out: Option<&mut dyn Write>,
) -> Result<()> {
    walk(src, cid, block, 0, from, to, visit, &mut out)
}

fn write_part(
    out: &mut Option<&mut dyn Write>,
    content: &[u8],
    base: u64,
    from: u64,
    to: u64,
) -> Result<()> {
    let Some(w) = out.as_mut() else {
        return Ok(());
    };
    let end = base + content.len() as u64; // exclusive
    if content.is_empty() || end <= from || base > to {
        return Ok(());
    }
    let s = from.saturating_sub(base) as usize;
    let e = (to + 1).min(end) - base;
    w.write_all(&content[s..e as usize])?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn walk(
    src: &dyn BlockSource,
    cid: &Cid,
    block: Vec<u8>,
    base: u64,
    from: u64,
    to: u64,
    visit: &mut dyn FnMut(&Cid, &[u8]) -> Result<()>,
    out: &mut Option<&mut dyn Write>,
) -> Result<()> {
    visit(cid, &block)?;
    let decode = |reason: &str| Error::Decode {
        cid: cid.to_string(),
        reason: reason.to_string(),
    };
    match cid.codec() {
        RAW => write_part(out, &block, base, from, to),
        DAG_PB => {
            let node = ipld_dagpb::PbNode::from_bytes(Bytes::from(block))
                .map_err(|e| decode(&e.to_string()))?;
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
                    let child = src.get_block(&link.cid)?;
                    walk(src, &link.cid, child, off, from, to, visit, out)?;
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
