//! Resolving `CID/seg/…` through UnixFS directories (flat or HAMT) and DAG-CBOR / DAG-JSON
//! documents, keeping what the response needs: the CID per segment (`X-Ipfs-Roots`) and the
//! blocks traversed (the path part of a trustless CAR).

use cid::Cid;
use ipld_core::ipld::Ipld;
use wanda_node::blocks::BlockSource;
use wanda_node::ipld::{DAG_CBOR, DAG_JSON, DAG_PB};
use wanda_node::unixfs::{NodeKind, node_kind, resolve_segment};
use wanda_node::{Error, Result};

use super::source::GatewayBlocks;

/// A resolved content path.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The CID the path starts from.
    pub root: Cid,
    /// The CID the path names.
    pub cid: Cid,
    /// Its block.
    pub block: Vec<u8>,
    /// What the block is.
    pub kind: NodeKind,
    /// `root`, then the CID reached after each segment that crossed a link.
    pub roots: Vec<Cid>,
    /// Every block read to traverse the path (before `cid`), in order, each once.
    pub path_blocks: Vec<Cid>,
}

/// Resolves `segments` below `root`, then reads the block they name.
pub fn resolve(src: &GatewayBlocks, root: Cid, segments: &[String]) -> Result<Resolved> {
    src.start_recording();
    let result = walk(src, root, segments);
    let recorded = src.take_recording();
    let (cid, roots) = result?;
    let block = src.get_block(&cid)?;
    let mut path_blocks: Vec<Cid> = Vec::new();
    for c in recorded {
        if c != cid && !path_blocks.contains(&c) {
            path_blocks.push(c);
        }
    }
    Ok(Resolved {
        root,
        cid,
        kind: node_kind(&cid, &block),
        block,
        roots,
        path_blocks,
    })
}

fn walk(src: &GatewayBlocks, root: Cid, segments: &[String]) -> Result<(Cid, Vec<Cid>)> {
    let mut cur = root;
    let mut roots = vec![root];
    let mut i = 0;
    while i < segments.len() {
        match cur.codec() {
            DAG_PB => {
                cur = resolve_segment(src, &cur, &segments[i])?;
                i += 1;
            }
            DAG_CBOR | DAG_JSON => {
                let block = src.get_block(&cur)?;
                let doc = decode_document(&cur, &block)?;
                let (link, used) = follow_in_document(&cur, &doc, &segments[i..])?;
                cur = link;
                i += used;
            }
            _ => {
                return Err(Error::NoSuchLink {
                    cid: cur.to_string(),
                    name: segments[i].clone(),
                });
            }
        }
        roots.push(cur);
    }
    Ok((cur, roots))
}

/// Decodes a DAG-CBOR or DAG-JSON block into the IPLD data model.
pub fn decode_document(cid: &Cid, block: &[u8]) -> Result<Ipld> {
    let decode = |reason: String| Error::Decode {
        cid: cid.to_string(),
        reason,
    };
    if cid.codec() == DAG_CBOR {
        return serde_ipld_dagcbor::from_slice::<Ipld>(block).map_err(|e| decode(e.to_string()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(block).map_err(|e| decode(e.to_string()))?;
    json_to_ipld(&value).map_err(decode)
}

fn json_to_ipld(v: &serde_json::Value) -> std::result::Result<Ipld, String> {
    use serde_json::Value;
    Ok(match v {
        Value::Null => Ipld::Null,
        Value::Bool(b) => Ipld::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Ipld::Integer(i.into()),
            None => Ipld::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => Ipld::String(s.clone()),
        Value::Array(a) => Ipld::List(a.iter().map(json_to_ipld).collect::<Result<_, _>>()?),
        Value::Object(m) => {
            if m.len() == 1
                && let Some(Value::String(s)) = m.get("/")
            {
                return Cid::try_from(s.as_str())
                    .map(Ipld::Link)
                    .map_err(|e| format!("bad link `{s}`: {e}"));
            }
            Ipld::Map(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), json_to_ipld(v)?)))
                    .collect::<Result<_, String>>()?,
            )
        }
    })
}

/// Follows `segments` inside a document until a link; returns it and how many segments it used.
fn follow_in_document(cid: &Cid, doc: &Ipld, segments: &[String]) -> Result<(Cid, usize)> {
    let mut node = doc;
    for (used, seg) in segments.iter().enumerate() {
        let next = match node {
            Ipld::Map(m) => m.get(seg.as_str()),
            Ipld::List(l) => seg.parse::<usize>().ok().and_then(|i| l.get(i)),
            _ => None,
        };
        let Some(next) = next else {
            return Err(Error::NoSuchLink {
                cid: cid.to_string(),
                name: segments[..=used].join("/"),
            });
        };
        if let Ipld::Link(link) = next {
            return Ok((*link, used + 1));
        }
        node = next;
    }
    Err(Error::InvalidInput(format!(
        "path `{}` ends inside block {cid}, not at a link (only whole blocks are served)",
        segments.join("/")
    )))
}
