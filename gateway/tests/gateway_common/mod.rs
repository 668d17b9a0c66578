//! Shared helpers for the gateway tests: a store per fixture set holding every CAR of the set,
//! the set's IPNS records, an in-process client for the router, and fixture look-ups that
//! mirror the suite's `MustGetCid`, `MustGetRawData`, `MustGetDescendantsCids`, ….
//!
//! The fixture sets come from `wanda_node::test_fixtures`: the set the tests generate (always)
//! and the official gateway-conformance fixtures (when their folder exists). Every check runs on
//! each set that [`fixtures`] yields.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use cid::Cid;
use http_body_util::BodyExt;
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;
use wanda_gateway::gateway::{GatewayContext, StaticNames, router};
use wanda_node::blocks::BlockSource;
use wanda_node::car::CarReader;
use wanda_node::dag_walk::block_links;
use wanda_node::store::Blockstore;
use wanda_node::test_fixtures::{FixtureSet, generated, official, process_temp_dir};
use wanda_node::unixfs::{FileReader, resolve_segment};

/// A store with every CAR of a fixture set imported (unpinned), and the router over it.
pub struct Fixture {
    pub set: &'static FixtureSet,
    pub store: Blockstore,
    pub app: Router,
    pub blocks: u64,
    pub names: usize,
}

fn load(set: &'static FixtureSet) -> Fixture {
    let dir = process_temp_dir().join(format!("{}-store", set.label));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Blockstore::open(&dir.join("ds.redb")).unwrap();
    let mut blocks = 0;
    for car in set.car_files() {
        let f = std::fs::File::open(&car).unwrap();
        let report = wanda_node::dag::import_car(&store, f, false)
            .unwrap_or_else(|e| panic!("{}: {e}", car.display()));
        blocks += report.blocks;
    }
    let mut names = StaticNames::new();
    for d in set.record_dirs() {
        names.load_dir(&d).unwrap();
    }
    let n = names.len();
    let mut ctx = GatewayContext::local(store.clone());
    ctx.names = Arc::new(names);
    Fixture {
        set,
        app: router(Arc::new(ctx)),
        store,
        blocks,
        names: n,
    }
}

/// The fixture stores every check runs on (each imported once per test binary): the generated
/// set, then the official one when its folder exists. Says which set a check is on as it
/// starts it, so a failure's output names the set.
pub fn fixtures() -> impl Iterator<Item = &'static Fixture> {
    static GENERATED: OnceLock<Fixture> = OnceLock::new();
    static OFFICIAL: OnceLock<Fixture> = OnceLock::new();
    let generated = std::iter::once_with(|| GENERATED.get_or_init(|| load(generated())));
    let official = std::iter::once_with(|| official().map(|s| OFFICIAL.get_or_init(|| load(s))));
    generated
        .chain(official.flatten())
        .inspect(|f| eprintln!("-- {} fixture set ({})", f.set.label, f.set.dir.display()))
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

impl Fixture {
    /// GET against the fixture store.
    pub async fn get(&self, path: &str) -> Resp {
        send(&self.app, Method::GET, path, &[]).await
    }

    /// GET with headers against the fixture store.
    pub async fn get_h(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        send(&self.app, Method::GET, path, headers).await
    }

    /// HEAD with headers against the fixture store.
    pub async fn head_h(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        send(&self.app, Method::HEAD, path, headers).await
    }

    /// The (first) root of a fixture CAR (`fixture.MustGetCid()`).
    pub fn root_of(&self, rel: &str) -> Cid {
        let f = std::fs::File::open(self.set.path(rel)).unwrap();
        CarReader::new(f).unwrap().roots()[0]
    }

    /// The CID at `path` below `root` (`MustGetCid(path…)`); dag-cbor fields are followed too.
    pub fn cid_at(&self, root: Cid, path: &[&str]) -> Cid {
        let store = &self.store;
        let mut cur = root;
        let mut i = 0;
        while i < path.len() {
            if cur.codec() == wanda_node::ipld::DAG_CBOR {
                let block = store.get_required(&cur).unwrap();
                let mut node: ipld_core::ipld::Ipld =
                    serde_ipld_dagcbor::from_slice(&block).unwrap();
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
    pub fn raw(&self, cid: Cid) -> Vec<u8> {
        self.store.get_required(&cid).unwrap()
    }

    /// The content of the file at `cid`.
    pub fn cat(&self, cid: Cid) -> Vec<u8> {
        let r = FileReader::open(&self.store, cid).unwrap();
        let mut out = Vec::new();
        r.copy_range(0, None, &mut out).unwrap();
        out
    }

    /// Every block below `cid`, depth-first pre-order, `cid` excluded (`MustGetDescendantsCids`).
    pub fn descendants(&self, cid: Cid) -> Vec<Cid> {
        let mut out = Vec::new();
        let mut stack = vec![cid];
        while let Some(c) = stack.pop() {
            let data = self.store.get_required(&c).unwrap();
            if c != cid {
                out.push(c);
            }
            let links = block_links(&c, &data).unwrap();
            stack.extend(links.into_iter().rev());
        }
        out
    }

    /// HAMT shard blocks below `root` visited while looking up `name`
    /// (`MustGetCIDsInHAMTTraversal`), `root` excluded.
    pub fn hamt_path(&self, root: Cid, name: &str) -> Vec<Cid> {
        let rec = Recorder {
            store: &self.store,
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
    pub fn hamt_all(&self, root: Cid) -> Vec<Cid> {
        let rec = Recorder {
            store: &self.store,
            seen: RefCell::new(Vec::new()),
        };
        wanda_node::unixfs::list_directory(&rec, &root).unwrap();
        rec.seen
            .into_inner()
            .into_iter()
            .filter(|c| *c != root)
            .collect()
    }
}

/// `MustGetCidWithCodec(codec)`: the same multihash as a CIDv1 of `codec`.
pub fn with_codec(cid: Cid, codec: u64) -> Cid {
    Cid::new_v1(codec, *cid.hash())
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
