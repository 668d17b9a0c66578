//! Walking DAGs through their links (any codec `ipld::links` understands).

use crate::blocks::BlockSource;
use crate::error::{Error, Result};
use cid::Cid;
use std::collections::HashSet;

/// Child links of a block, with a node error naming the CID.
pub fn block_links(cid: &Cid, data: &[u8]) -> Result<Vec<Cid>> {
    crate::ipld::links(cid, data).map_err(|e| Error::Decode {
        cid: cid.to_string(),
        reason: e.to_string(),
    })
}

/// Depth-first, pre-order walk visiting each block once. `visit` sees every block; the walk
/// fails with [`Error::BlockNotFound`] on the first missing block.
pub fn walk_unique(
    src: &dyn BlockSource,
    root: &Cid,
    seen: &mut HashSet<Vec<u8>>,
    visit: &mut dyn FnMut(&Cid, &[u8]) -> Result<()>,
) -> Result<()> {
    let mut stack = vec![*root];
    while let Some(cid) = stack.pop() {
        if !seen.insert(cid.hash().to_bytes()) {
            continue;
        }
        let data = src.get_block(&cid)?;
        visit(&cid, &data)?;
        let links = block_links(&cid, &data)?;
        stack.extend(links.into_iter().rev());
    }
    Ok(())
}

/// `refs`: the links below `root` as (parent, child) edges, depth-first. With `unique`, every
/// child is reported once; `max_depth` (None = unlimited, Some(1) = direct links only).
pub fn refs(
    src: &dyn BlockSource,
    root: &Cid,
    unique: bool,
    max_depth: Option<usize>,
    out: &mut dyn FnMut(&Cid, &Cid) -> Result<()>,
) -> Result<()> {
    let mut seen = HashSet::new();
    refs_rec(src, root, 1, unique, max_depth, &mut seen, out)
}

fn refs_rec(
    src: &dyn BlockSource,
    cid: &Cid,
    depth: usize,
    unique: bool,
    max_depth: Option<usize>,
    seen: &mut HashSet<Cid>,
    out: &mut dyn FnMut(&Cid, &Cid) -> Result<()>,
) -> Result<()> {
    if max_depth.is_some_and(|m| depth > m) {
        return Ok(());
    }
    let data = src.get_block(cid)?;
    for child in block_links(cid, &data)? {
        if unique && !seen.insert(child) {
            continue;
        }
        out(cid, &child)?;
        refs_rec(src, &child, depth + 1, unique, max_depth, seen, out)?;
    }
    Ok(())
}
