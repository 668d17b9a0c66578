//! Trustless CAR responses (`application/vnd.ipld.car; version=1; order=dfs`): the blocks
//! that prove the path, then the requested entity per `dag-scope` and `entity-bytes`,
//! depth-first, with or without duplicates. Identity-hash blocks are never written.

use super::body::{ChannelWriter, blocking_body};
use super::error::{GatewayError, GwResult};
use super::file::with_headers;
use super::filewalk::walk_range;
use super::headers::{self, Caching};
use super::request::{GatewayRequest, MediaRange};
use super::resolve::Resolved;
use super::source::GatewayBlocks;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use cid::Cid;
use std::cell::RefCell;
use std::collections::HashSet;
use wanda_node::blocks::BlockSource;
use wanda_node::car::CarWriter;
use wanda_node::dag_walk::block_links;
use wanda_node::ipld::IDENTITY;
use wanda_node::unixfs::{NodeKind, list_directory};

/// `dag-scope`: how much of the DAG below the path to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DagScope {
    /// Only the block at the end of the path.
    Block,
    /// What is needed to use the entity: a whole file (or the `entity-bytes` part), a
    /// directory's own blocks (all HAMT shards), a document's block.
    Entity,
    /// Everything below, recursively (the default).
    All,
}

/// `entity-bytes=from:to`; negative values count from the end, `to = None` is `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntityBytes {
    /// First byte (negative: from the end).
    pub from: i64,
    /// Last byte, inclusive (negative: from the end); `None` for `*`.
    pub to: Option<i64>,
}

impl EntityBytes {
    /// Parses `from:to`.
    pub fn parse(s: &str) -> GwResult<Self> {
        let bad = || {
            GatewayError::bad_request(format!(
                "entity-bytes `{s}` is not `from:to` (integers, `to` may be `*`)"
            ))
        };
        let (from, to) = s.split_once(':').ok_or_else(bad)?;
        let from: i64 = from.parse().map_err(|_| bad())?;
        let to = match to {
            "*" => None,
            t => Some(t.parse::<i64>().map_err(|_| bad())?),
        };
        if let Some(t) = to
            && from >= 0
            && t >= 0
            && t < from
        {
            return Err(GatewayError::bad_request(format!(
                "entity-bytes `{s}` ends before it starts"
            )));
        }
        Ok(EntityBytes { from, to })
    }

    /// The byte range `(offset, length)` within a file of `size` bytes; `None` when empty.
    pub fn resolve(&self, size: u64) -> Option<(u64, u64)> {
        let size = i128::from(size);
        let abs = |v: i64| -> i128 {
            if v < 0 {
                size + i128::from(v)
            } else {
                i128::from(v)
            }
        };
        let from = abs(self.from).max(0);
        let to = self.to.map_or(size - 1, abs).min(size - 1);
        if from > to || from >= size {
            return None;
        }
        Some((from as u64, (to - from + 1) as u64))
    }
}

/// What a CAR request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CarParams {
    /// `dag-scope`.
    pub scope: DagScope,
    /// `entity-bytes`.
    pub entity_bytes: Option<EntityBytes>,
    /// `dups=y`.
    pub dups: bool,
}

impl CarParams {
    /// From the query and (when the CAR was asked for by `Accept`) its media range.
    pub fn parse(req: &GatewayRequest, accept: Option<&MediaRange>) -> GwResult<Self> {
        let param = |name: &str| accept.and_then(|m| m.param(name));
        if let Some(v) = param("version")
            && v != "1"
        {
            return Err(GatewayError::bad_request(format!(
                "CAR version {v} is not supported (only version=1)"
            )));
        }
        match param("order") {
            None | Some("dfs") | Some("unk") => {}
            Some(o) => {
                return Err(GatewayError::bad_request(format!(
                    "CAR order `{o}` is not supported (dfs or unk)"
                )));
            }
        }
        let dups = match param("dups") {
            None | Some("n") => false,
            Some("y") => true,
            Some(d) => {
                return Err(GatewayError::bad_request(format!(
                    "CAR dups `{d}` must be y or n"
                )));
            }
        };
        let scope = match req.param("dag-scope") {
            None | Some("all") => DagScope::All,
            Some("entity") => DagScope::Entity,
            Some("block") => DagScope::Block,
            Some(s) => {
                return Err(GatewayError::bad_request(format!(
                    "dag-scope `{s}` must be block, entity or all"
                )));
            }
        };
        let entity_bytes = req
            .param("entity-bytes")
            .map(EntityBytes::parse)
            .transpose()?;
        Ok(CarParams {
            scope,
            entity_bytes,
            dups,
        })
    }

    fn tag(&self) -> String {
        let scope = match self.scope {
            DagScope::Block => "block",
            DagScope::Entity => "entity",
            DagScope::All => "all",
        };
        let bytes = self
            .entity_bytes
            .map(|e| format!("{}:{}", e.from, e.to.map_or("*".into(), |t| t.to_string())))
            .unwrap_or_default();
        format!("{scope}.{bytes}.{}", if self.dups { "y" } else { "n" })
    }
}

/// Writes blocks into the CAR, skipping identity blocks and (without `dups`) repeats.
struct Emitter<'w> {
    car: CarWriter<&'w mut ChannelWriter>,
    seen: HashSet<Cid>,
    dups: bool,
}

impl Emitter<'_> {
    fn wants(&self, cid: &Cid) -> bool {
        self.dups || !self.seen.contains(cid)
    }

    fn emit(&mut self, cid: &Cid, data: &[u8]) -> Result<(), String> {
        if cid.hash().code() == IDENTITY || !self.wants(cid) {
            return Ok(());
        }
        self.seen.insert(*cid);
        self.car.write_block(cid, data).map_err(|e| e.to_string())
    }
}

/// A block source that writes every block it hands out into the CAR.
struct Tee<'a, 'w> {
    src: &'a GatewayBlocks,
    out: &'a RefCell<Emitter<'w>>,
}

impl BlockSource for Tee<'_, '_> {
    fn get_block(&self, cid: &Cid) -> wanda_node::Result<Vec<u8>> {
        let data = self.src.get_block(cid)?;
        self.out
            .borrow_mut()
            .emit(cid, &data)
            .map_err(wanda_node::Error::InvalidInput)?;
        Ok(data)
    }
}

/// Depth-first, pre-order, every block under `root` (`first` is `root`'s data).
fn dfs_all(
    src: &GatewayBlocks,
    out: &RefCell<Emitter<'_>>,
    root: Cid,
    first: &[u8],
) -> Result<(), String> {
    let mut stack = vec![root];
    while let Some(cid) = stack.pop() {
        if !out.borrow().wants(&cid) {
            continue;
        }
        let data = if cid == root {
            first.to_vec()
        } else if cid.hash().code() == IDENTITY {
            cid.hash().digest().to_vec()
        } else {
            src.get_block(&cid).map_err(|e| e.to_string())?
        };
        out.borrow_mut().emit(&cid, &data)?;
        let links = block_links(&cid, &data).map_err(|e| e.to_string())?;
        stack.extend(links.into_iter().rev());
    }
    Ok(())
}

fn write_entity(
    src: &GatewayBlocks,
    out: &RefCell<Emitter<'_>>,
    res: &Resolved,
    p: CarParams,
) -> Result<(), String> {
    let file_range = |size: u64| -> Result<(), String> {
        let Some((offset, len)) = p.entity_bytes.and_then(|e| e.resolve(size)) else {
            return out.borrow_mut().emit(&res.cid, &res.block);
        };
        let mut visit = |cid: &Cid, data: &[u8]| {
            out.borrow_mut()
                .emit(cid, data)
                .map_err(wanda_node::Error::InvalidInput)
        };
        walk_range(
            src,
            &res.cid,
            res.block.clone(),
            offset,
            offset + len - 1,
            &mut visit,
            None,
        )
        .map_err(|e| e.to_string())
    };
    match (p.scope, &res.kind) {
        (DagScope::Block, _) => out.borrow_mut().emit(&res.cid, &res.block),
        (_, NodeKind::File(size) | NodeKind::Raw(size)) if p.entity_bytes.is_some() => {
            file_range(*size)
        }
        (DagScope::All, _) | (DagScope::Entity, NodeKind::File(_) | NodeKind::Raw(_)) => {
            dfs_all(src, out, res.cid, &res.block)
        }
        (DagScope::Entity, NodeKind::HamtShard) => {
            let tee = Tee { src, out };
            list_directory(&tee, &res.cid)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
        (DagScope::Entity, _) => out.borrow_mut().emit(&res.cid, &res.block),
    }
}

/// Answers with the CAR stream for `res`.
pub fn serve(
    req: &GatewayRequest,
    res: Resolved,
    src: GatewayBlocks,
    params: CarParams,
    caching: Caching,
) -> GwResult<Response> {
    let etag = format!("W/\"{}.car.{}\"", res.cid, params.tag());
    let mut h = HeaderMap::new();
    headers::content_headers(&mut h, req, &res.roots, caching, &etag);
    if headers::if_none_match(req, &[&etag]) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED, h, Body::empty()));
    }
    headers::set(
        &mut h,
        header::CONTENT_TYPE,
        &format!(
            "application/vnd.ipld.car; version=1; order=dfs; dups={}",
            if params.dups { "y" } else { "n" }
        ),
    );
    let filename = req
        .param("filename")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.car", res.cid));
    headers::set(
        &mut h,
        header::CONTENT_DISPOSITION,
        &headers::content_disposition("attachment", &filename),
    );
    h.insert(
        "X-Content-Type-Options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
    if req.head {
        return Ok(with_headers(StatusCode::OK, h, Body::empty()));
    }
    let body = blocking_body(move |w| {
        let car = CarWriter::new(w, &[res.root]).map_err(|e| e.to_string())?;
        let out = RefCell::new(Emitter {
            car,
            seen: HashSet::new(),
            dups: params.dups,
        });
        for cid in &res.path_blocks {
            let data = src.get_block(cid).map_err(|e| e.to_string())?;
            out.borrow_mut().emit(cid, &data)?;
        }
        write_entity(&src, &out, &res, params)
    });
    Ok(with_headers(StatusCode::OK, h, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_bytes() {
        let e = |s: &str| EntityBytes::parse(s).unwrap().resolve(1026);
        assert_eq!(e("0:*"), Some((0, 1026)));
        assert_eq!(e("512:1023"), Some((512, 512)));
        assert_eq!(e("512:-256"), Some((512, 259)));
        assert_eq!(e("-5:*"), Some((1021, 5)));
        assert_eq!(e("-9999:*"), Some((0, 1026)));
        assert_eq!(e("-9999:-3"), Some((0, 1024)));
        assert_eq!(e("0:0"), Some((0, 1)));
        assert_eq!(e("2000:*"), None);
        for bad in ["", "1", "a:b", "5:1", "1:2:3", "0:**"] {
            assert!(EntityBytes::parse(bad).is_err(), "{bad}");
        }
    }
}
