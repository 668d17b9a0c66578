//! Shared helpers for the gateway tests: a store holding every conformance fixture CAR, the
//! fixtures' IPNS records, an in-process client for the router, and fixture look-ups that
//! mirror the suite's `MustGetCid`, `MustGetRawData`, `MustGetDescendantsCids`, ….
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use cid::Cid;
use http_body_util::BodyExt;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;
use wanda_gateway::gateway::{GatewayContext, StaticNames, router};
use wanda_node::blocks::BlockSource;
use wanda_node::car::CarReader;
use wanda_node::dag_walk::block_links;
use wanda_node::store::Blockstore;
use wanda_node::unixfs::{FileReader, resolve_segment};

/// The conformance fixtures directory (`shared/` beside the repo).
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/gateway-conformance-fixtures")
}

/// Every `.car` under the fixtures, sorted.
pub fn all_cars() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "car") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&fixtures(), &mut out);
    out.sort();
    out
}

/// Every fixture directory holding `.ipns-record` files.
pub fn record_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = vec![fixtures()];
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            dirs.push(p);
        }
    }
    dirs
}

/// A store with every fixture CAR imported (unpinned) and the router over it.
pub struct Fixture {
    pub store: Blockstore,
    pub app: Router,
    pub blocks: u64,
    pub names: usize,
}

/// The shared fixture store (imported once per test binary).
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
        let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
        let mut blocks = 0;
        for car in all_cars() {
            let f = std::fs::File::open(&car).unwrap();
            let report = wanda_node::dag::import_car(&store, f, false)
                .unwrap_or_else(|e| panic!("{}: {e}", car.display()));
            blocks += report.blocks;
        }
        let mut names = StaticNames::new();
        for d in record_dirs() {
            names.load_dir(&d).unwrap();
        }
        let n = names.len();
        let mut ctx = GatewayContext::local(store.clone());
        ctx.names = Arc::new(names);
        Fixture {
            app: router(Arc::new(ctx)),
            store,
            blocks,
            names: n,
        }
    })
}

/// A response, body collected.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    /// A header's value ("" when absent).
    pub fn h(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// All values of a header.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method path` with `headers` to `app`.
pub async fn send(app: &Router, method: Method, path: &str, headers: &[(&str, &str)]) -> Resp {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes().to_vec())
        .unwrap_or_else(|e| format!("<<stream aborted: {e}>>").into_bytes());
    Resp {
        status,
        headers,
        body,
    }
}

/// GET against the fixture store.
pub async fn get(path: &str) -> Resp {
    send(&fixture().app, Method::GET, path, &[]).await
}

/// GET with headers against the fixture store.
pub async fn get_h(path: &str, headers: &[(&str, &str)]) -> Resp {
    send(&fixture().app, Method::GET, path, headers).await
}

/// HEAD with headers against the fixture store.
pub async fn head_h(path: &str, headers: &[(&str, &str)]) -> Resp {
    send(&fixture().app, Method::HEAD, path, headers).await
}

/// The (first) root of a fixture CAR (`fixture.MustGetCid()`).
pub fn root_of(rel: &str) -> Cid {
    let f = std::fs::File::open(fixtures().join(rel)).unwrap();
    CarReader::new(f).unwrap().roots()[0]
}

/// `MustGetCidWithCodec(codec)`: the same multihash as a CIDv1 of `codec`.
pub fn with_codec(cid: Cid, codec: u64) -> Cid {
    Cid::new_v1(codec, *cid.hash())
}

/// The CID at `path` below `root` (`MustGetCid(path…)`); dag-cbor fields are followed too.
pub fn cid_at(root: Cid, path: &[&str]) -> Cid {
    let store = &fixture().store;
    let mut cur = root;
    let mut i = 0;
    while i < path.len() {
        if cur.codec() == wanda_node::ipld::DAG_CBOR {
            let block = store.get_required(&cur).unwrap();
            let mut node: ipld_core::ipld::Ipld = serde_ipld_dagcbor::from_slice(&block).unwrap();
            loop {
                node = match node {
                    ipld_core::ipld::Ipld::Map(mut m) => m.remove(path[i]).unwrap(),
                    other => panic!("cannot path into {other:?}"),
                };
                i += 1;
                if let ipld_core::ipld::Ipld::Link(c) = node {
                    cur = c;
                    break;
                }
            }
        } else {
            cur = resolve_segment(store, &cur, path[i]).unwrap();
            i += 1;
        }
    }
    cur
}

/// The block of `cid` (`MustGetRawData` of a block).
pub fn raw(cid: Cid) -> Vec<u8> {
    fixture().store.get_required(&cid).unwrap()
}

/// The content of the file at `cid`.
pub fn cat(cid: Cid) -> Vec<u8> {
    let r = FileReader::open(&fixture().store, cid).unwrap();
    let mut out = Vec::new();
    r.copy_range(0, None, &mut out).unwrap();
    out
}

/// Every block below `cid`, depth-first pre-order, `cid` excluded (`MustGetDescendantsCids`).
pub fn descendants(cid: Cid) -> Vec<Cid> {
    let store = &fixture().store;
    let mut out = Vec::new();
    let mut stack = vec![cid];
    while let Some(c) = stack.pop() {
        let data = store.get_required(&c).unwrap();
        if c != cid {
            out.push(c);
        }
        let links = block_links(&c, &data).unwrap();
        stack.extend(links.into_iter().rev());
    }
    out
}

/// Records the CIDs a reader asks for.
pub struct Recorder<'a> {
    pub store: &'a Blockstore,
    pub seen: RefCell<Vec<Cid>>,
}

impl BlockSource for Recorder<'_> {
    fn get_block(&self, cid: &Cid) -> wanda_node::Result<Vec<u8>> {
        self.seen.borrow_mut().push(*cid);
        self.store.get_required(cid)
    }
}

/// HAMT shard blocks below `root` visited while looking up `name`
/// (`MustGetCIDsInHAMTTraversal`), `root` excluded.
pub fn hamt_path(root: Cid, name: &str) -> Vec<Cid> {
    let rec = Recorder {
        store: &fixture().store,
        seen: RefCell::new(Vec::new()),
    };
    resolve_segment(&rec, &root, name).unwrap();
    rec.seen
        .into_inner()
        .into_iter()
        .filter(|c| *c != root)
        .collect()
}

/// Every shard block of the HAMT at `root`, depth-first, `root` excluded (`MustGetCidsInHAMT`).
pub fn hamt_all(root: Cid) -> Vec<Cid> {
    let rec = Recorder {
        store: &fixture().store,
        seen: RefCell::new(Vec::new()),
    };
    wanda_node::unixfs::list_directory(&rec, &root).unwrap();
    rec.seen
        .into_inner()
        .into_iter()
        .filter(|c| *c != root)
        .collect()
}

/// The blocks of a CAR body in order (each verified against its CID), and its roots.
pub fn car_blocks(body: &[u8]) -> (Vec<Cid>, Vec<Cid>) {
    let mut r = CarReader::new(body).unwrap_or_else(|e| panic!("not a CAR: {e}"));
    let roots = r.roots().to_vec();
    let mut out = Vec::new();
    while let Some((cid, _)) = r.next_block().unwrap() {
        out.push(cid);
    }
    (roots, out)
}

/// Compares CIDs by multihash (the suite compares CAR blocks by multihash, so a CIDv0 in the
/// expectation matches a CIDv1 dag-pb block).
pub fn mh(cids: &[Cid]) -> Vec<Vec<u8>> {
    cids.iter().map(|c| c.hash().to_bytes()).collect()
}

/// Parses a CID string.
pub fn c(s: &str) -> Cid {
    Cid::try_from(s).unwrap()
}
