//! Contract tests of WANDA's IPFS REST routes (`/api/ipfs/*`) on the in-process router over a
//! temporary Blockstore: every route, WANDA's envelope, each error code, bad input (all 4xx),
//! and two nodes on 127.0.0.1 for pinning over the network and connecting to peers.

mod net_common;
use net_common::node;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use cid::Cid;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;
use wanda_gateway::ipfs_rest::{IpfsRestContext, router};
use wanda_node::pinning::{PinFilter, pin_ls};
use wanda_node::store::Blockstore;
use wanda_node::unixfs::{AddOptions, HashOnlySink, Importer, StoreSink};

/// `echo "hello world" | ipfs add` (Kubo, default options).
const HELLO_CID: &str = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
/// A CID nobody has (raw, sha2-256 of nothing we store).
const MISSING: &str = "bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom";

struct Resp {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn h(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    /// The `data` of a success envelope (asserting 200).
    fn data(&self) -> Value {
        let v = self.json();
        assert_eq!(self.status, 200, "{v}");
        assert_eq!(v["success"], true, "{v}");
        v["data"].clone()
    }

    /// Asserts an error envelope with `status` and `code`.
    fn fails(&self, status: u16, code: &str) {
        let v = self.json();
        assert_eq!(
            (self.status, v["code"].as_str()),
            (status, Some(code)),
            "{v}"
        );
        assert_eq!(v["success"], false, "{v}");
        assert!(
            !v["error"].as_str().unwrap_or("").is_empty(),
            "no message: {v}"
        );
    }
}

async fn send(app: &Router, method: Method, uri: &str, ctype: Option<&str>, body: Body) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = ctype {
        req = req.header("Content-Type", t);
    }
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Resp {
        status,
        headers,
        body,
    }
}

async fn get(app: &Router, uri: &str) -> Resp {
    send(app, Method::GET, uri, None, Body::empty()).await
}

async fn post_json(app: &Router, uri: &str, body: &str) -> Resp {
    send(
        app,
        Method::POST,
        uri,
        Some("application/json"),
        Body::from(body.to_string()),
    )
    .await
}

async fn post_bytes(app: &Router, uri: &str, data: &[u8]) -> Resp {
    send(
        app,
        Method::POST,
        uri,
        Some("application/octet-stream"),
        Body::from(data.to_vec()),
    )
    .await
}

/// A streamed body (no `Content-Length`), in 64 KiB pieces.
fn streamed(data: &[u8]) -> Body {
    let pieces: Vec<Result<bytes::Bytes, std::io::Error>> = data
        .chunks(64 << 10)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    Body::from_stream(futures::stream::iter(pieces))
}

fn multipart(field: &str, filename: Option<&str>, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "wanda-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n")
            .as_bytes(),
    );
    let fname = filename
        .map(|f| format!("; filename=\"{f}\""))
        .unwrap_or_default();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"{fname}\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Deterministic pseudo-random bytes.
fn bytes_of(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// The CID `ipfs add` gives `data` (default options), computed by the importer alone.
fn kubo_cid(data: &[u8]) -> Cid {
    let mut sink = HashOnlySink;
    let mut events = |_: wanda_node::unixfs::AddEvent<'_>| {};
    let mut imp = Importer::new(AddOptions::default(), &mut sink, &mut events).unwrap();
    imp.import_stream(data).unwrap().cid
}

/// A wrapping directory `{name: data}` in `store` (unpinned); returns (dir, file) CIDs.
fn add_dir(store: &Blockstore, name: &str, data: &[u8]) -> (Cid, Cid) {
    let mut sink = StoreSink::new(store).unwrap();
    let mut events = |_: wanda_node::unixfs::AddEvent<'_>| {};
    let opts = AddOptions {
        wrap: true,
        ..AddOptions::default()
    };
    let dir = {
        let mut imp = Importer::new(opts, &mut sink, &mut events).unwrap();
        imp.add_stream(data, Some(name)).unwrap()
    };
    sink.finish(None).unwrap();
    (dir, kubo_cid(data))
}

struct Local {
    _dir: tempfile::TempDir,
    store: Blockstore,
    app: Router,
}

fn local(storage_max: u64) -> Local {
    let dir = tempfile::tempdir().unwrap();
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let ctx = IpfsRestContext::new(store.clone(), None, storage_max);
    Local {
        app: router(Arc::new(ctx)),
        store,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_stats_follow_the_repo() {
    let l = local(10_000_000_000);
    let s = get(&l.app, "/api/ipfs/status").await.data();
    assert_eq!(s["online"], false);
    assert_eq!(s["peer_id"], Value::Null);
    assert_eq!(s["addresses"], json!([]));
    assert_eq!(
        (s["peers"].as_u64(), s["wanda_peers"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(s["repo"]["max_bytes"], 10_000_000_000u64);
    assert_eq!(s["repo"]["full"], false);
    assert!(s["repo"]["size_bytes"].as_u64().unwrap() > 0);
    assert_eq!(s["bandwidth"]["total_in"], 0);

    let st = get(&l.app, "/api/ipfs/stats").await.data();
    assert_eq!(
        (st["blocks"].as_u64(), st["bytes"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(st["pins"], json!({"recursive": 0, "direct": 0, "total": 0}));

    let data = bytes_of(1, 1 << 20);
    let added = post_bytes(&l.app, "/api/ipfs/content", &data).await.data();
    let st = get(&l.app, "/api/ipfs/stats").await.data();
    let store = l.store.stats().unwrap();
    assert_eq!(st["blocks"], store.num_blocks);
    assert_eq!(st["blocks"], 5, "4 chunks + root: {st}");
    assert_eq!(st["bytes"], store.block_bytes);
    assert!(st["bytes"].as_u64().unwrap() > 1 << 20);
    assert!(st["disk_bytes"].as_u64().unwrap() >= st["bytes"].as_u64().unwrap());
    assert_eq!(st["max_bytes"], 10_000_000_000u64);
    assert_eq!(st["pins"], json!({"recursive": 1, "direct": 0, "total": 1}));
    assert_eq!(st["bandwidth"]["total_out"], 0);
    assert!(
        pin_ls(&l.store, PinFilter::Recursive)
            .unwrap()
            .contains_key(added["cid"].as_str().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_is_added_with_kubo_cids_and_read_back() {
    let l = local(10_000_000_000);
    // raw body: Kubo's CID for "hello world\n"
    let d = post_bytes(&l.app, "/api/ipfs/content", b"hello world\n")
        .await
        .data();
    assert_eq!(d, json!({"cid": HELLO_CID, "size": 12, "name": null}));
    // a 3 MiB streamed body (no Content-Length), named by the query
    let big = bytes_of(7, 3 << 20);
    let r = send(
        &l.app,
        Method::POST,
        "/api/ipfs/content?name=big.bin",
        None,
        streamed(&big),
    )
    .await;
    let d = r.data();
    let big_cid = kubo_cid(&big).to_string();
    assert_eq!(
        d,
        json!({"cid": big_cid, "size": 3 << 20, "name": "big.bin"})
    );
    // multipart: the first file part; the pin is named after its file name
    let small = bytes_of(9, 100_000);
    let (ctype, body) = multipart("upload", Some("m31.png"), &small);
    let r = send(
        &l.app,
        Method::POST,
        "/api/ipfs/content",
        Some(&ctype),
        Body::from(body),
    )
    .await;
    let small_cid = kubo_cid(&small).to_string();
    assert_eq!(
        r.data(),
        json!({"cid": small_cid, "size": 100_000, "name": "m31.png"})
    );
    let (ctype, body) = multipart("file", None, b"hello world\n");
    let r = send(
        &l.app,
        Method::POST,
        "/api/ipfs/content",
        Some(&ctype),
        Body::from(body),
    )
    .await;
    assert_eq!(r.data()["cid"], HELLO_CID);
    // an empty body is the empty file
    let d = post_bytes(&l.app, "/api/ipfs/content", b"").await.data();
    assert_eq!(d["cid"], "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
    assert_eq!(d["size"], 0);
    // all pinned recursively, with names
    let pins = get(&l.app, "/api/ipfs/pins?type=recursive").await.data();
    assert_eq!(pins["total"], 4, "{pins}");
    let named: Vec<(String, Value)> = pins["pins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["cid"].as_str().unwrap().to_string(), p["name"].clone()))
        .collect();
    assert!(
        named.contains(&(big_cid.clone(), json!("big.bin"))),
        "{pins}"
    );
    assert!(
        named.contains(&(small_cid.clone(), json!("m31.png"))),
        "{pins}"
    );

    // raw (the default): the file's bytes, type, length
    let r = get(&l.app, &format!("/api/ipfs/content/{big_cid}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, big);
    assert_eq!(r.h("content-length"), (3 << 20).to_string());
    assert_eq!(r.h("content-type"), "application/octet-stream");
    assert_eq!(r.h("content-disposition"), "");
    let r = get(&l.app, &format!("/api/ipfs/content/{HELLO_CID}?format=raw")).await;
    assert_eq!(r.body, b"hello world\n");
    assert_eq!(r.h("content-type"), "text/plain; charset=utf-8");
    let r = get(
        &l.app,
        &format!("/api/ipfs/content/{HELLO_CID}?download=true"),
    )
    .await;
    assert_eq!(
        r.h("content-disposition"),
        format!("attachment; filename=\"{HELLO_CID}\"")
    );
    let r = get(
        &l.app,
        &format!("/api/ipfs/content/{small_cid}?download=true&filename=m31.png"),
    )
    .await;
    assert_eq!(
        r.h("content-disposition"),
        "attachment; filename=\"m31.png\""
    );
    assert_eq!(r.h("content-type"), "image/png");
    assert_eq!(r.body, small);
    let r = get(
        &l.app,
        &format!("/api/ipfs/content/{HELLO_CID}?download=false"),
    )
    .await;
    assert_eq!(r.h("content-disposition"), "");
    let r = get(
        &l.app,
        "/api/ipfs/content/QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH",
    )
    .await;
    assert_eq!((r.status, r.body.len()), (200, 0));

    // json: a chunked file lists its chunks
    let j = get(&l.app, &format!("/api/ipfs/content/{big_cid}?format=json"))
        .await
        .data();
    assert_eq!(j["cid"], big_cid);
    assert_eq!(j["type"], "file");
    assert_eq!(j["size"], 3 << 20);
    let links = j["links"].as_array().unwrap();
    assert_eq!(links.len(), 12, "{j}");
    assert!(
        links
            .iter()
            .all(|l| l["name"] == "" && l["size"] == 262_158)
    );
    // …and a single-block file has none
    let j = get(
        &l.app,
        &format!("/api/ipfs/content/{HELLO_CID}?format=json"),
    )
    .await
    .data();
    assert_eq!(
        j,
        json!({"cid": HELLO_CID, "type": "file", "size": 12, "links": []})
    );

    // directories: json lists entries; raw refuses
    let (dir, file) = add_dir(&l.store, "notes.txt", b"hello world\n");
    assert_eq!(file.to_string(), HELLO_CID);
    let j = get(&l.app, &format!("/api/ipfs/content/{dir}?format=json"))
        .await
        .data();
    assert_eq!(j["type"], "directory");
    assert_eq!(
        j["links"],
        json!([{"name": "notes.txt", "cid": HELLO_CID, "size": 20}])
    );
    assert!(j["size"].as_u64().unwrap() > 20);
    get(&l.app, &format!("/api/ipfs/content/{dir}"))
        .await
        .fails(400, "INVALID_REQUEST");

    // a raw block: its own bytes; a DAG-CBOR block: json with its links
    let raw = Cid::try_from("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e").unwrap();
    l.store.put(&raw, b"hello world").unwrap();
    let r = get(&l.app, &format!("/api/ipfs/content/{raw}")).await;
    assert_eq!((r.status, r.body.as_slice()), (200, &b"hello world"[..]));
    let j = get(&l.app, &format!("/api/ipfs/content/{raw}?format=json"))
        .await
        .data();
    assert_eq!(
        j,
        json!({"cid": raw.to_string(), "type": "raw", "size": 11, "links": []})
    );
    let cbor = serde_ipld_dagcbor::to_vec(&ipld_core::ipld!({"hello": raw})).unwrap();
    let mh =
        multihash_codetable::MultihashDigest::digest(&multihash_codetable::Code::Sha2_256, &cbor);
    let cbor_cid = Cid::new_v1(0x71, mh);
    l.store.put(&cbor_cid, &cbor).unwrap();
    let j = get(&l.app, &format!("/api/ipfs/content/{cbor_cid}?format=json"))
        .await
        .data();
    assert_eq!(j["type"], "dag-cbor");
    assert_eq!(j["size"], cbor.len());
    assert_eq!(
        j["links"],
        json!([{"name": "", "cid": raw.to_string(), "size": null}])
    );
    let r = get(&l.app, &format!("/api/ipfs/content/{cbor_cid}")).await;
    assert_eq!(r.body, cbor);
    assert_eq!(r.h("content-type"), "application/vnd.ipld.dag-cbor");

    // redirect: to the gateway, without reading anything
    let r = get(
        &l.app,
        &format!("/api/ipfs/content/{MISSING}?format=redirect"),
    )
    .await;
    assert_eq!(
        (r.status, r.h("location")),
        (302, format!("/ipfs/{MISSING}").as_str())
    );
    let r = get(
        &l.app,
        &format!("/api/ipfs/content/{HELLO_CID}?format=redirect&download=true&filename=a.txt"),
    )
    .await;
    assert_eq!(
        (r.status, r.h("location")),
        (
            302,
            format!("/ipfs/{HELLO_CID}?filename=a.txt&download=true").as_str()
        )
    );

    // missing content without a node: 404
    get(&l.app, &format!("/api/ipfs/content/{MISSING}"))
        .await
        .fails(404, "IPFS_CID_NOT_FOUND");
    get(&l.app, &format!("/api/ipfs/content/{MISSING}?format=json"))
        .await
        .fails(404, "IPFS_CID_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pins_are_listed_paged_added_and_removed() {
    let l = local(10_000_000_000);
    let big = bytes_of(3, 1 << 20);
    let big_cid = post_bytes(&l.app, "/api/ipfs/content", &big).await.data()["cid"]
        .as_str()
        .unwrap()
        .to_string();
    let hello = post_bytes(&l.app, "/api/ipfs/content", b"hello world\n")
        .await
        .data();
    assert_eq!(hello["cid"], HELLO_CID);
    // a direct pin of a local raw block, with a name
    let raw = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    l.store
        .put(&Cid::try_from(raw).unwrap(), b"hello world")
        .unwrap();
    let d = post_json(
        &l.app,
        "/api/ipfs/pins",
        &json!({"cid": raw, "recursive": false, "name": "greeting"}).to_string(),
    )
    .await
    .data();
    assert_eq!(d, json!({"cid": raw, "type": "direct", "name": "greeting"}));
    // a recursive pin of local content (default recursive), named
    let (dir, _) = add_dir(&l.store, "notes.txt", b"hello world\n");
    let d = post_json(
        &l.app,
        "/api/ipfs/pins",
        &json!({"cid": format!("/ipfs/{dir}"), "name": "notes"}).to_string(),
    )
    .await
    .data();
    assert_eq!(
        d,
        json!({"cid": dir.to_string(), "type": "recursive", "name": "notes"})
    );

    let all = get(&l.app, "/api/ipfs/pins").await.data();
    // 3 recursive (big, hello, dir) + 1 direct + 4 chunks of big (hello is recursive itself)
    assert_eq!(all["total"], 8, "{all}");
    assert_eq!(
        (all["offset"].as_u64(), all["limit"].as_u64()),
        (Some(0), Some(100))
    );
    let kinds = |v: &Value, kind: &str| {
        v["pins"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["type"] == kind)
            .count()
    };
    assert_eq!(
        (
            kinds(&all, "recursive"),
            kinds(&all, "direct"),
            kinds(&all, "indirect")
        ),
        (3, 1, 4)
    );
    let direct = get(&l.app, "/api/ipfs/pins?type=direct").await.data();
    assert_eq!(
        direct["pins"],
        json!([{"cid": raw, "type": "direct", "name": "greeting"}])
    );
    let indirect = get(&l.app, "/api/ipfs/pins?type=indirect").await.data();
    assert_eq!(indirect["total"], 4);
    assert!(
        indirect["pins"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"].is_null())
    );
    let rec = get(&l.app, "/api/ipfs/pins?type=recursive").await.data();
    assert_eq!(rec["total"], 3);
    // paging walks the same order
    let mut paged = Vec::new();
    for offset in 0..9 {
        let p = get(&l.app, &format!("/api/ipfs/pins?limit=1&offset={offset}"))
            .await
            .data();
        assert_eq!(p["total"], 8);
        paged.extend(p["pins"].as_array().unwrap().iter().cloned());
    }
    assert_eq!(Value::Array(paged), all["pins"]);
    let p = get(&l.app, "/api/ipfs/pins?limit=3&offset=6").await.data();
    assert_eq!(p["pins"].as_array().unwrap().len(), 2);

    // removing: the pin's record comes back; then it is gone
    let d = send(
        &l.app,
        Method::DELETE,
        &format!("/api/ipfs/pins/{big_cid}"),
        None,
        Body::empty(),
    )
    .await
    .data();
    assert_eq!(
        d,
        json!({"cid": big_cid, "type": "recursive", "name": null})
    );
    assert!(
        !pin_ls(&l.store, PinFilter::All)
            .unwrap()
            .contains_key(&big_cid)
    );
    send(
        &l.app,
        Method::DELETE,
        &format!("/api/ipfs/pins/{big_cid}"),
        None,
        Body::empty(),
    )
    .await
    .fails(404, "IPFS_CID_NOT_FOUND");
    let d = send(
        &l.app,
        Method::DELETE,
        &format!("/api/ipfs/pins/{raw}"),
        None,
        Body::empty(),
    )
    .await
    .data();
    assert_eq!(d["type"], "direct");
    assert_eq!(d["name"], "greeting");
    // only pinned under the directory: refused
    send(
        &l.app,
        Method::DELETE,
        &format!("/api/ipfs/pins/{HELLO_CID}"),
        None,
        Body::empty(),
    )
    .await
    .data();
    send(
        &l.app,
        Method::DELETE,
        &format!("/api/ipfs/pins/{HELLO_CID}"),
        None,
        Body::empty(),
    )
    .await
    .fails(400, "INVALID_REQUEST");
    send(
        &l.app,
        Method::DELETE,
        "/api/ipfs/pins/not-a-cid",
        None,
        Body::empty(),
    )
    .await
    .fails(400, "IPFS_INVALID_CID");

    // pinning what is not here, without a node: 404
    post_json(
        &l.app,
        "/api/ipfs/pins",
        &json!({"cid": MISSING}).to_string(),
    )
    .await
    .fails(404, "IPFS_CID_NOT_FOUND");
    post_json(
        &l.app,
        "/api/ipfs/pins",
        &json!({"cid": MISSING, "recursive": false}).to_string(),
    )
    .await
    .fails(404, "IPFS_CID_NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adds_beyond_max_storage_are_refused_with_507() {
    let probe = local(u64::MAX);
    let used = probe.store.stats().unwrap().disk_bytes;
    let l = local(used + 300_000);
    let data = bytes_of(5, 2 << 20);
    // with a Content-Length: refused before reading
    post_bytes(&l.app, "/api/ipfs/content", &data)
        .await
        .fails(507, "IPFS_STORAGE_FULL");
    // streamed: stopped once the content passes the limit
    send(
        &l.app,
        Method::POST,
        "/api/ipfs/content",
        None,
        streamed(&data),
    )
    .await
    .fails(507, "IPFS_STORAGE_FULL");
    let (ctype, body) = multipart("file", Some("big.bin"), &data);
    send(
        &l.app,
        Method::POST,
        "/api/ipfs/content",
        Some(&ctype),
        Body::from(body),
    )
    .await
    .fails(507, "IPFS_STORAGE_FULL");
    // nothing was pinned
    assert!(pin_ls(&l.store, PinFilter::All).unwrap().is_empty());
    let s = get(&l.app, "/api/ipfs/status").await.data();
    assert_eq!(s["repo"]["max_bytes"], used + 300_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_envelope() {
    let l = local(10_000_000_000);
    let c = HELLO_CID;
    post_bytes(&l.app, "/api/ipfs/content", b"hello world\n")
        .await
        .data();
    let gets: &[(&str, u16, &str)] = &[
        ("/api/ipfs/content/not-a-cid", 400, "IPFS_INVALID_CID"),
        ("/api/ipfs/content/Qm", 400, "IPFS_INVALID_CID"),
        ("/api/ipfs/content/%FF%FE", 400, "IPFS_INVALID_CID"),
        ("/api/ipfs/content/%2Fipfs%2F", 400, "IPFS_INVALID_CID"),
        (
            "/api/ipfs/content/bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi%2Fa",
            400,
            "IPFS_INVALID_CID",
        ),
        (
            "/api/ipfs/content/not-a-cid?format=redirect",
            400,
            "IPFS_INVALID_CID",
        ),
        ("/api/ipfs/pins?type=sideways", 400, "INVALID_REQUEST"),
        ("/api/ipfs/pins?limit=abc", 400, "INVALID_REQUEST"),
        ("/api/ipfs/pins?limit=-1", 400, "INVALID_REQUEST"),
        ("/api/ipfs/pins?limit=0", 400, "INVALID_REQUEST"),
        ("/api/ipfs/pins?limit=100000", 400, "INVALID_REQUEST"),
        ("/api/ipfs/pins?offset=1.5", 400, "INVALID_REQUEST"),
        ("/api/ipfs/peers?wanda_only=maybe", 400, "INVALID_REQUEST"),
    ];
    for (uri, status, code) in gets {
        get(&l.app, uri).await.fails(*status, code);
    }
    for q in [
        "format=tar",
        "format=",
        "download=perhaps",
        "filename=a%22b",
        "filename=a/b",
        "filename=%0A",
        "filename=",
        "timeout=0",
        "timeout=-3",
        "timeout=abc",
        "timeout=999999",
        "offline=2",
    ] {
        get(&l.app, &format!("/api/ipfs/content/{c}?{q}"))
            .await
            .fails(400, "INVALID_REQUEST");
    }
    let bodies: &[(&str, &str, &str)] = &[
        ("/api/ipfs/pins", "", "INVALID_REQUEST"),
        ("/api/ipfs/pins", "{", "INVALID_REQUEST"),
        ("/api/ipfs/pins", "[1,2]", "INVALID_REQUEST"),
        ("/api/ipfs/pins", "\"cid\"", "INVALID_REQUEST"),
        ("/api/ipfs/pins", "{}", "INVALID_REQUEST"),
        ("/api/ipfs/pins", "{\"cid\": 5}", "INVALID_REQUEST"),
        ("/api/ipfs/pins", "{\"cid\": \"\"}", "INVALID_REQUEST"),
        ("/api/ipfs/pins", "{\"cid\": \"nope\"}", "IPFS_INVALID_CID"),
        (
            "/api/ipfs/pins",
            "{\"cid\": \"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o/x\"}",
            "IPFS_INVALID_CID",
        ),
        (
            "/api/ipfs/pins",
            "{\"cid\": \"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\", \"recursive\": \"yes\"}",
            "INVALID_REQUEST",
        ),
        (
            "/api/ipfs/pins",
            "{\"cid\": \"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\", \"name\": 3}",
            "INVALID_REQUEST",
        ),
        (
            "/api/ipfs/pins",
            "{\"cid\": \"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\", \"timeout\": 0}",
            "INVALID_REQUEST",
        ),
        (
            "/api/ipfs/pins",
            "{\"cid\": \"QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o\", \"timeout\": true}",
            "INVALID_REQUEST",
        ),
        ("/api/ipfs/peers/connect", "", "INVALID_REQUEST"),
        ("/api/ipfs/peers/connect", "not json", "INVALID_REQUEST"),
        (
            "/api/ipfs/peers/connect",
            "{\"multiaddr\": 1}",
            "INVALID_REQUEST",
        ),
        (
            "/api/ipfs/peers/connect",
            "{\"multiaddr\": \"/ip4/999.1.1.1/tcp/1\"}",
            "INVALID_REQUEST",
        ),
        (
            "/api/ipfs/peers/connect",
            "{\"multiaddr\": \"hello\"}",
            "INVALID_REQUEST",
        ),
    ];
    for (uri, body, code) in bodies {
        post_json(&l.app, uri, body).await.fails(400, code);
    }
    // multipart without a file part, or malformed
    let boundary = "b0";
    let only_text = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nhi\r\n--{boundary}--\r\n"
    );
    for (ctype, body) in [
        (
            format!("multipart/form-data; boundary={boundary}"),
            only_text,
        ),
        ("multipart/form-data".to_string(), "--x\r\n".to_string()),
        (
            format!("multipart/form-data; boundary={boundary}"),
            "garbage without boundaries".to_string(),
        ),
    ] {
        send(
            &l.app,
            Method::POST,
            "/api/ipfs/content",
            Some(&ctype),
            Body::from(body),
        )
        .await
        .fails(400, "INVALID_REQUEST");
    }
    // a body that breaks off mid-upload
    let broken: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
        Ok(bytes::Bytes::from_static(b"some bytes")),
        Err(std::io::Error::other("client went away")),
    ];
    send(
        &l.app,
        Method::POST,
        "/api/ipfs/content",
        None,
        Body::from_stream(futures::stream::iter(broken)),
    )
    .await
    .fails(400, "INVALID_REQUEST");
    // offline node: connecting is impossible
    post_json(
        &l.app,
        "/api/ipfs/peers/connect",
        r#"{"multiaddr": "/ip4/127.0.0.1/tcp/1"}"#,
    )
    .await
    .fails(503, "IPFS_PEER_UNREACHABLE");
    // wrong methods: JSON 405
    for (m, uri) in [
        (Method::PUT, "/api/ipfs/status"),
        (Method::POST, "/api/ipfs/stats"),
        (Method::DELETE, "/api/ipfs/pins"),
        (
            Method::GET,
            "/api/ipfs/pins/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
        ),
        (Method::GET, "/api/ipfs/content"),
        (
            Method::POST,
            "/api/ipfs/content/QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
        ),
        (Method::GET, "/api/ipfs/peers/connect"),
    ] {
        send(&l.app, m, uri, None, Body::empty())
            .await
            .fails(405, "METHOD_NOT_ALLOWED");
    }
    // offline peers: none
    let p = get(&l.app, "/api/ipfs/peers?wanda_only=true").await.data();
    assert_eq!(p, json!({"count": 0, "peers": [], "wanda_only": true}));
}

async fn wait_for(what: &str, mut f: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !f().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_connect_and_pin_over_the_network() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (store_a, node_a) = node(&da).await;
    let (store_b, node_b) = node(&db).await;
    let app_a = router(Arc::new(IpfsRestContext::new(
        store_a.clone(),
        Some(node_a.clone()),
        10_000_000_000,
    )));
    let app_b = router(Arc::new(IpfsRestContext {
        fetch_timeout: Duration::from_secs(20),
        ..IpfsRestContext::new(store_b.clone(), Some(node_b.clone()), 10_000_000_000)
    }));
    // A has 2 MiB pinned (added through its own route)
    let data = bytes_of(11, 2 << 20);
    let cid = post_bytes(&app_a, "/api/ipfs/content", &data).await.data()["cid"]
        .as_str()
        .unwrap()
        .to_string();

    let s = get(&app_a, "/api/ipfs/status").await.data();
    assert_eq!(s["online"], true);
    assert_eq!(s["peer_id"], node_a.peer_id().to_string());
    let addr = s["addresses"][0].as_str().unwrap().to_string();
    assert!(
        addr.starts_with("/ip4/127.0.0.1/tcp/")
            && addr.ends_with(&format!("/p2p/{}", node_a.peer_id())),
        "{addr}"
    );
    assert_eq!(s["peers"], 0);

    // B connects to A
    let d = post_json(
        &app_b,
        "/api/ipfs/peers/connect",
        &json!({"multiaddr": addr}).to_string(),
    )
    .await
    .data();
    assert_eq!(
        d,
        json!({"peer_id": node_a.peer_id().to_string(), "multiaddr": addr})
    );
    wait_for("A to be seen as a WANDA peer", async || {
        let p = get(&app_b, "/api/ipfs/peers?wanda_only=true").await.data();
        p["count"] == 1
    })
    .await;
    let p = get(&app_b, "/api/ipfs/peers").await.data();
    let peer = &p["peers"][0];
    assert_eq!(peer["peer_id"], node_a.peer_id().to_string());
    assert_eq!(peer["is_wanda"], true);
    assert!(peer["agent"].as_str().unwrap().starts_with("wanda/"));
    assert!(
        peer["multiaddr"]
            .as_str()
            .unwrap()
            .starts_with("/ip4/127.0.0.1/tcp/")
    );
    let s = get(&app_b, "/api/ipfs/status").await.data();
    assert_eq!(
        (s["peers"].as_u64(), s["wanda_peers"].as_u64()),
        (Some(1), Some(1))
    );

    // B pins A's content: every block comes over Bitswap
    assert!(!store_b.has(&Cid::try_from(cid.as_str()).unwrap()).unwrap());
    let d = post_json(
        &app_b,
        "/api/ipfs/pins",
        &json!({"cid": cid, "name": "from A"}).to_string(),
    )
    .await
    .data();
    assert_eq!(
        d,
        json!({"cid": cid, "type": "recursive", "name": "from A"})
    );
    assert_eq!(
        store_b.stats().unwrap().num_blocks,
        store_a.stats().unwrap().num_blocks
    );
    assert!(
        pin_ls(&store_b, PinFilter::Recursive)
            .unwrap()
            .contains_key(&cid)
    );
    let r = get(&app_b, &format!("/api/ipfs/content/{cid}?offline=true")).await;
    assert_eq!((r.status, r.body == data), (200, true));
    // the traffic shows in both nodes' counters
    let st = get(&app_b, "/api/ipfs/stats").await.data();
    assert!(
        st["bandwidth"]["total_in"].as_u64().unwrap() > 2 << 20,
        "{st}"
    );
    assert_eq!(st["pins"]["recursive"], 1);
    let s = get(&app_a, "/api/ipfs/status").await.data();
    assert!(
        s["bandwidth"]["total_out"].as_u64().unwrap() > 2 << 20,
        "{s}"
    );

    // content B lacks is read from A on the way
    let other = bytes_of(12, 300_000);
    let other_cid = post_bytes(&app_a, "/api/ipfs/content", &other).await.data()["cid"]
        .as_str()
        .unwrap()
        .to_string();
    get(
        &app_b,
        &format!("/api/ipfs/content/{other_cid}?offline=true"),
    )
    .await
    .fails(404, "IPFS_CID_NOT_FOUND");
    let r = get(&app_b, &format!("/api/ipfs/content/{other_cid}")).await;
    assert_eq!((r.status, r.body == other), (200, true));

    // nobody has it: 504 after the timeout
    post_json(
        &app_b,
        "/api/ipfs/pins",
        &json!({"cid": MISSING, "timeout": 0.5}).to_string(),
    )
    .await
    .fails(504, "IPFS_TIMEOUT");
    get(&app_b, &format!("/api/ipfs/content/{MISSING}?timeout=0.5"))
        .await
        .fails(504, "IPFS_TIMEOUT");
    get(
        &app_b,
        &format!("/api/ipfs/content/{MISSING}?format=json&timeout=0.5"),
    )
    .await
    .fails(504, "IPFS_TIMEOUT");

    // dialling a closed loopback port, or a wrong peer id: 503
    post_json(
        &app_b,
        "/api/ipfs/peers/connect",
        r#"{"multiaddr": "/ip4/127.0.0.1/tcp/1"}"#,
    )
    .await
    .fails(503, "IPFS_PEER_UNREACHABLE");
    let wrong = addr.replace(
        &node_a.peer_id().to_string(),
        &libp2p::PeerId::random().to_string(),
    );
    post_json(
        &app_b,
        "/api/ipfs/peers/connect",
        &json!({"multiaddr": wrong}).to_string(),
    )
    .await
    .fails(503, "IPFS_PEER_UNREACHABLE");

    node_a.shutdown().await.unwrap();
    // a stopped node reports offline
    let s = get(&app_a, "/api/ipfs/status").await.data();
    assert_eq!(s["online"], false);
    node_b.shutdown().await.unwrap();
}
