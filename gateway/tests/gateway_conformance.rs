//! The IPFS gateway conformance suite's checks (ipfs/gateway-conformance v0.13, `tests/*.go`)
//! for path-unixfs, path-range, path-raw, trustless-block, trustless-car, trustless-ipns and
//! path-ipns, run in-process against every fixture CAR and IPNS record of the suite.

mod gateway_common;

use gateway_common::*;
use wanda_node::ipns::{IpnsName, validate};

const CACHE_IMMUTABLE: &str = "public, max-age=29030400, immutable";

#[test]
fn every_fixture_is_imported() {
    let f = fixture();
    assert_eq!(all_cars().len(), 26);
    assert!(f.blocks > 100, "{}", f.blocks);
    assert_eq!(f.names, 12);
}

// ---------- path-unixfs: TestUnixFSDirectoryListing ----------

#[tokio::test]
async fn dir_listing_root_has_no_backlink() {
    let root = root_of("dir_listing/fixtures.car");
    let r = get(&format!("/ipfs/{root}/")).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Index of"));
    assert!(
        !r.text()
            .contains(&format!("<a href=\"/ipfs/{root}/\">..</a>"))
    );
}

#[tokio::test]
async fn dir_listing_redirects_to_trailing_slash() {
    let root = root_of("dir_listing/fixtures.car");
    let r = get(&format!("/ipfs/{root}/%C4%85/%C4%99")).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.h("location"), format!("/ipfs/{root}/%C4%85/%C4%99/"));
    // the query survives the redirect
    let r = get(&format!("/ipfs/{root}/%C4%85/%C4%99?x=1")).await;
    assert_eq!(r.h("location"), format!("/ipfs/{root}/%C4%85/%C4%99/?x=1"));
}

#[tokio::test]
async fn dir_listing_html() {
    let root = root_of("dir_listing/fixtures.car");
    let file = cid_at(root, &["ą", "ę", "file-źł.txt"]);
    let r = get(&format!("/ipfs/{root}/%C4%85/%C4%99/")).await;
    assert_eq!(r.status, 200);
    assert!(r.h("etag").contains("\"DirIndex-"), "{}", r.h("etag"));
    assert!(r.h("content-type").starts_with("text/html"));
    let body = r.text();
    for needle in [
        "Index of".to_string(),
        format!(
            "/ipfs/<a href=\"/ipfs/{root}\">{root}</a>/<a href=\"/ipfs/{root}/%C4%85\">ą</a>/<a href=\"/ipfs/{root}/%C4%85/%C4%99\">ę</a>"
        ),
        format!("<a href=\"/ipfs/{root}/%C4%85/%C4%99/..\">..</a>"),
        format!("<a href=\"/ipfs/{root}/%C4%85/%C4%99/file-%C5%BA%C5%82.txt\">file-źł.txt</a>"),
        format!(
            "<a class=\"ipfs-hash\" translate=\"no\" href=\"/ipfs/{file}?filename=file-%25C5%25BA%25C5%2582.txt\">"
        ),
    ] {
        assert!(body.contains(&needle), "missing {needle} in\n{body}");
    }
}

#[tokio::test]
async fn missing_file_is_404() {
    let root = root_of("dir_listing/fixtures.car");
    assert_eq!(
        get(&format!("/ipfs/{root}/i-do-not-exist")).await.status,
        404
    );
}

// ---------- path-unixfs: TestGatewayCache ----------

fn cache_root() -> cid::Cid {
    root_of("gateway-cache/fixtures.car")
}

#[tokio::test]
async fn cache_dir_listing_headers() {
    let root = cache_root();
    let r2 = cid_at(root, &["root2"]);
    let r3 = cid_at(root, &["root2", "root3"]);
    let r = get(&format!("/ipfs/{root}/root2/root3/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("x-ipfs-path"), format!("/ipfs/{root}/root2/root3/"));
    assert_eq!(r.h("x-ipfs-roots"), format!("{root},{r2},{r3}"));
    let etag = r.h("etag");
    assert!(
        etag.starts_with("\"DirIndex-") && etag.ends_with(&format!("_CID-{r3}\"")),
        "{etag}"
    );
    assert_eq!(
        r.h("cache-control"),
        "public, max-age=604800, stale-while-revalidate=2678400"
    );
}

#[tokio::test]
async fn cache_dir_with_index_html() {
    let root = cache_root();
    let r4 = cid_at(root, &["root2", "root3", "root4"]);
    let roots = [
        root,
        cid_at(root, &["root2"]),
        cid_at(root, &["root2", "root3"]),
        r4,
    ]
    .map(|c| c.to_string())
    .join(",");
    let r = get(&format!("/ipfs/{root}/root2/root3/root4/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
    assert_eq!(
        r.h("x-ipfs-path"),
        format!("/ipfs/{root}/root2/root3/root4/")
    );
    assert_eq!(r.h("x-ipfs-roots"), roots);
    assert_eq!(r.h("etag"), format!("\"{r4}\""));
    assert_eq!(r.body, b"hello\n");
    assert!(r.h("content-type").starts_with("text/html"));
}

#[tokio::test]
async fn cache_file_headers() {
    let root = cache_root();
    let idx = cid_at(root, &["root2", "root3", "root4", "index.html"]);
    let roots = [
        root,
        cid_at(root, &["root2"]),
        cid_at(root, &["root2", "root3"]),
        cid_at(root, &["root2", "root3", "root4"]),
        idx,
    ]
    .map(|c| c.to_string())
    .join(",");
    let path = format!("/ipfs/{root}/root2/root3/root4/index.html");
    let r = get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
    assert_eq!(r.h("x-ipfs-path"), path);
    assert_eq!(r.h("x-ipfs-roots"), roots);
    assert_eq!(r.h("etag"), format!("\"{idx}\""));
}

#[tokio::test]
async fn cache_dir_as_json_and_dag_json() {
    let root = cache_root();
    let r4 = cid_at(root, &["root2", "root3", "root4"]);
    for (format, ct) in [
        ("dag-json", "application/vnd.ipld.dag-json"),
        ("json", "application/json"),
    ] {
        let r = get(&format!("/ipfs/{root}/root2/root3/root4/?format={format}")).await;
        assert_eq!(r.status, 200, "{format}");
        assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
        assert_eq!(r.h("content-type"), ct);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        let links = v["Links"].as_array().unwrap();
        let idx = links.iter().find(|l| l["Name"] == "index.html").unwrap();
        assert_eq!(
            idx["Hash"]["/"],
            cid_at(r4, &["index.html"]).to_string(),
            "{v}"
        );
    }
}

#[tokio::test]
async fn only_if_cached() {
    let root = cache_root();
    let here = format!("/ipfs/{root}/root2/root3/root4/?format=json");
    let missing = "/ipfs/QmYzfKSE55XCjD1MW128RfciAf2DViABhEiXfgVFMabSjN";
    let cc = [("Cache-Control", "only-if-cached")];
    assert_eq!(head_h(&here, &cc).await.status, 200);
    assert_eq!(get_h(&here, &cc).await.status, 200);
    let r = head_h(missing, &cc).await;
    assert_eq!(r.status, 412);
    assert!(r.body.is_empty());
    assert_eq!(get_h(missing, &cc).await.status, 412);
    // without only-if-cached and without a node, the missing root is a 404
    assert_eq!(get(missing).await.status, 404);
}

#[tokio::test]
async fn if_none_match() {
    let root = cache_root();
    let idx = cid_at(root, &["root2", "root3", "root4", "index.html"]);
    let r4 = cid_at(root, &["root2", "root3", "root4"]);
    let r3 = cid_at(root, &["root2", "root3"]);
    let file = format!("/ipfs/{root}/root2/root3/root4/index.html");
    for tag in [
        format!("\"{idx}\""),
        format!("\"fakeEtag1\", \"fakeEtag2\", \"{idx}\""),
        format!("W/\"{idx}\""),
        "*".to_string(),
    ] {
        let r = get_h(&file, &[("If-None-Match", &tag)]).await;
        assert_eq!(r.status, 304, "{tag}");
        assert!(r.body.is_empty());
    }
    assert_eq!(
        get_h(&file, &[("If-None-Match", "\"other\"")]).await.status,
        200
    );
    let dir = format!("/ipfs/{root}/root2/root3/root4/");
    let tag = format!("\"{r4}\"");
    assert_eq!(get_h(&dir, &[("If-None-Match", &tag)]).await.status, 304);
    let listing = format!("/ipfs/{root}/root2/root3/");
    let tag = format!("W/\"{r3}\"");
    assert_eq!(
        get_h(&listing, &[("If-None-Match", &tag)]).await.status,
        304
    );
    // the listing's own ETag, strong and weak
    let etag = get(&listing).await.h("etag").to_string();
    assert_eq!(
        get_h(&listing, &[("If-None-Match", &etag)]).await.status,
        304
    );
    let weak = format!("W/{etag}");
    assert_eq!(
        get_h(&listing, &[("If-None-Match", &weak)]).await.status,
        304
    );
}

// ---------- path-unixfs + path-ipns: TestGatewayCacheWithIPNS ----------

const CACHE_NAME: &str = "k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe";

fn ipns_cache_ok(r: &Resp) {
    let cc = r.h("cache-control");
    assert!(cc.is_empty() || cc.starts_with("public, max-age="), "{cc}");
    assert!(!cc.contains("immutable"), "{cc}");
}

#[tokio::test]
async fn ipns_cache_headers() {
    let root = cache_root();
    let r2 = cid_at(root, &["root2"]);
    let r3 = cid_at(root, &["root2", "root3"]);
    let r4 = cid_at(root, &["root2", "root3", "root4"]);
    let idx = cid_at(r4, &["index.html"]);

    let r = get(&format!("/ipns/{CACHE_NAME}/root2/root3/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.h("x-ipfs-path"),
        format!("/ipns/{CACHE_NAME}/root2/root3/")
    );
    assert_eq!(r.h("x-ipfs-roots"), format!("{root},{r2},{r3}"));
    assert!(
        r.h("etag").starts_with("\"DirIndex-") && r.h("etag").ends_with(&format!("_CID-{r3}\""))
    );
    ipns_cache_ok(&r);

    let r = get(&format!("/ipns/{CACHE_NAME}/root2/root3/root4/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("x-ipfs-roots"), format!("{root},{r2},{r3},{r4}"));
    assert_eq!(r.h("etag"), format!("\"{r4}\""));
    ipns_cache_ok(&r);

    let path = format!("/ipns/{CACHE_NAME}/root2/root3/root4/index.html");
    let r = get(&path).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("x-ipfs-path"), path);
    assert_eq!(r.h("x-ipfs-roots"), format!("{root},{r2},{r3},{r4},{idx}"));
    assert_eq!(r.h("etag"), format!("\"{idx}\""));
    ipns_cache_ok(&r);

    for f in ["dag-json", "json"] {
        let r = get(&format!("/ipns/{CACHE_NAME}/root2/root3/root4/?format={f}")).await;
        assert_eq!(r.status, 200);
        ipns_cache_ok(&r);
    }
    let tag = format!("\"{idx}\"");
    assert_eq!(get_h(&path, &[("If-None-Match", &tag)]).await.status, 304);
}

// ---------- path-unixfs: TestGatewaySymlink ----------

#[tokio::test]
async fn symlink() {
    let root = root_of("path_gateway_unixfs/symlink.car");
    let r = get(&format!("/ipfs/{root}/")).await;
    assert!(
        r.text().contains(">foo<") && r.text().contains(">bar<"),
        "{}",
        r.text()
    );
    let r = get(&format!("/ipfs/{root}?format=raw")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, raw(root));
    let r = get(&format!("/ipfs/{root}/bar")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"foo");
}

// ---------- path-range: TestGatewayUnixFSFileRanges ----------

#[tokio::test]
async fn file_ranges() {
    let root = root_of("path_gateway_unixfs/dir-with-files.car");
    let ascii = cat(cid_at(root, &["ascii.txt"]));
    assert_eq!(ascii.len(), 31);
    let path = format!("/ipfs/{root}/ascii.txt");

    let r = get_h(&path, &[("Range", "bytes=6-16")]).await;
    assert_eq!(r.status, 206);
    assert!(r.h("content-type").contains("text/plain"));
    assert_eq!(r.h("content-range"), "bytes 6-16/31");
    assert_eq!(r.h("accept-ranges"), "bytes");
    assert_eq!(r.body, ascii[6..17]);

    let r = get_h(&path, &[("Range", "bytes=-3")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.h("content-range"), "bytes 28-30/31");
    assert_eq!(r.body, ascii[28..31]);

    // multiple ranges: multipart/byteranges
    let r = get_h(&path, &[("Range", "bytes=6-16,0-4")]).await;
    assert_eq!(r.status, 206);
    assert!(
        r.h("content-type")
            .starts_with("multipart/byteranges; boundary=")
    );
    assert_eq!(r.h("content-length"), r.body.len().to_string());
    let body = r.text();
    for needle in [
        "Content-Range: bytes 6-16/31",
        "Content-Type: text/plain",
        std::str::from_utf8(&ascii[6..17]).unwrap(),
        "Content-Range: bytes 0-4/31",
        std::str::from_utf8(&ascii[0..5]).unwrap(),
    ] {
        assert!(body.contains(needle), "{needle} not in {body}");
    }
}

#[tokio::test]
async fn range_with_missing_blocks_outside_it() {
    let root = with_codec(
        root_of("trustless_gateway_car/file-3k-and-3-blocks-missing-block.car"),
        0x70,
    );
    // the middle 1 KiB leaf is missing; the first and last are here
    let leaf0 = cat(c("QmPKt7ptM2ZYSGPUc8PmPT2VBkLDK3iqpG9TBJY7PCE9rF"));
    let leaf2 = cat(c("QmWXY482zQdwecnfBsj78poUUuPXvyw2JAFAEMw4tzTavV"));
    let path = format!("/ipfs/{root}");
    let r = get_h(&path, &[("Range", "bytes=997-1000")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.h("content-range"), "bytes 997-1000/3072");
    assert_eq!(r.body, leaf0[997..1001]);
    // a range ending exactly at the missing block's first byte - 1 must not touch it
    let r = get_h(&path, &[("Range", "bytes=0-1023")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.body, leaf0);
    let r = get_h(&path, &[("Range", "bytes=2200-2201")]).await;
    assert_eq!(r.status, 206);
    assert_eq!(r.h("content-range"), "bytes 2200-2201/3072");
    assert_eq!(r.body, leaf2[2200 - 2048..2202 - 2048]);
    // The suite also expects Content-Type text/plain here; these bytes are random (binary by
    // the WHATWG sniffing rule), so the gateway answers application/octet-stream.
    assert_eq!(r.h("content-type"), "application/octet-stream");
    // the whole file cannot be served: the stream is cut, never completed with wrong bytes
    let r = get(&path).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("stream aborted"), "{}", r.body.len());
}

// ---------- path-unixfs: TestPathGatewayMiscellaneous ----------

#[tokio::test]
async fn percent_encoded_filename() {
    let root = root_of("path_gateway_unixfs/dir-with-percent-encoded-filename.car");
    let want = cat(cid_at(root, &["Portugal%2C+España=Peninsula Ibérica.txt"]));
    let r = get(&format!(
        "/ipfs/{root}/Portugal%252C+Espa%C3%B1a=Peninsula%20Ib%C3%A9rica.txt"
    ))
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, want);
}

// ---------- path-raw + trustless-block: TestGatewayBlock, TestTrustlessRaw ----------

#[tokio::test]
async fn raw_block() {
    let root = root_of("gateway-raw-block.car");
    let dir = cid_at(root, &["dir"]);
    let ascii = cid_at(root, &["dir", "ascii.txt"]);
    for path in [format!("/ipfs/{root}/dir"), format!("/ipfs/{dir}")] {
        let r = get(&format!("{path}?format=raw")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, raw(dir));
        let r = get_h(&path, &[("Accept", "application/vnd.ipld.raw")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, raw(dir));
        let r = get_h(
            &path,
            &[
                ("Accept", "application/vnd.ipld.raw"),
                ("Range", "bytes=6-16"),
            ],
        )
        .await;
        assert_eq!(r.status, 206);
        assert_eq!(r.h("content-type"), "application/vnd.ipld.raw");
        assert_eq!(r.h("content-range"), "bytes 6-16/57");
        assert_eq!(r.body, raw(dir)[6..17]);
    }
    for path in [
        format!("/ipfs/{root}/dir/ascii.txt"),
        format!("/ipfs/{ascii}"),
    ] {
        let accept = [("Accept", "application/vnd.ipld.raw")];
        let r = get_h(&path, &accept).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.h("content-type"), "application/vnd.ipld.raw");
        assert_eq!(r.h("content-length"), raw(ascii).len().to_string());
        assert_eq!(
            r.h("content-disposition"),
            format!("attachment; filename=\"{ascii}.bin\"")
        );
        assert_eq!(r.h("x-content-type-options"), "nosniff");
        assert_eq!(r.body, raw(ascii));
        assert_eq!(r.h("etag"), format!("\"{ascii}.raw\""));
        assert_eq!(r.h("x-ipfs-path"), path);
        assert!(
            r.h("x-ipfs-roots").contains(&root.to_string()) || path.contains(&ascii.to_string())
        );
        assert!(r.h("x-ipfs-roots").contains(&ascii.to_string()));
        assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
        let r = get_h(&format!("{path}?filename=foobar.bin"), &accept).await;
        assert_eq!(
            r.h("content-disposition"),
            "attachment; filename=\"foobar.bin\""
        );
    }
}

#[tokio::test]
async fn raw_block_multi_range() {
    let root = root_of("gateway-raw-block.car");
    let ascii = raw(cid_at(root, &["dir", "ascii.txt"]));
    let r = get_h(
        &format!("/ipfs/{root}/dir/ascii.txt"),
        &[
            ("Accept", "application/vnd.ipld.raw"),
            ("Range", "bytes=6-16,0-4"),
        ],
    )
    .await;
    assert_eq!(r.status, 206);
    assert!(r.h("content-type").contains("multipart/byteranges"));
    let body = r.text();
    for needle in [
        "Content-Range: bytes 6-16/31",
        "Content-Type: application/vnd.ipld.raw",
        std::str::from_utf8(&ascii[6..17]).unwrap(),
        "Content-Range: bytes 0-4/31",
        std::str::from_utf8(&ascii[0..5]).unwrap(),
    ] {
        assert!(body.contains(needle), "{needle} not in {body}");
    }
}

// ---------- trustless-car ----------

/// Runs a CAR request both as `?format=car` and as `Accept: application/vnd.ipld.car`
/// (the suite's StandardCARTestTransforms) and checks the standard CAR headers.
async fn car_both(path_and_query: &str) -> Vec<(Vec<cid::Cid>, Vec<cid::Cid>)> {
    let sep = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let a = get(&format!("{path_and_query}{sep}format=car")).await;
    let b = get_h(path_and_query, &[("Accept", "application/vnd.ipld.car")]).await;
    let mut out = Vec::new();
    for r in [a, b] {
        assert_eq!(r.status, 200, "{path_and_query}: {}", r.text());
        assert_eq!(r.h("x-content-type-options"), "nosniff");
        assert_eq!(r.h("accept-ranges"), "none");
        assert!(r.h("content-type").contains("application/vnd.ipld.car"));
        let cd = r.h("content-disposition");
        assert!(
            cd.starts_with("attachment; filename=\"") && cd.ends_with(".car\""),
            "{cd}"
        );
        out.push(car_blocks(&r.body));
    }
    out
}

async fn car_exact(path_and_query: &str, want: &[cid::Cid]) {
    for (_, blocks) in car_both(path_and_query).await {
        assert_eq!(mh(&blocks), mh(want), "{path_and_query}");
    }
}

fn cat_cids(parts: &[&[cid::Cid]]) -> Vec<cid::Cid> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

#[tokio::test]
async fn car_pathing() {
    let two = root_of("trustless_gateway_car/subdir-with-two-single-block-files.car");
    let two70 = with_codec(two, 0x70);
    car_exact(
        &format!("/ipfs/{two70}/subdir/ascii.txt"),
        &[
            two,
            cid_at(two, &["subdir"]),
            cid_at(two, &["subdir", "ascii.txt"]),
        ],
    )
    .await;

    let hamt = root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
    let f685 = cid_at(hamt, &["685.txt"]);
    car_exact(
        &format!("/ipfs/{}/685.txt", with_codec(hamt, 0x70)),
        &cat_cids(&[
            &[hamt],
            &hamt_path(hamt, "685.txt"),
            &[f685],
            &descendants(f685),
        ]),
    )
    .await;

    let cbor = root_of("trustless_gateway_car/dir-with-dag-cbor-with-links.car");
    let doc = with_codec(cid_at(cbor, &["document"]), 0x71);
    car_exact(
        &format!("/ipfs/{doc}/files/single"),
        &[doc, cid_at(doc, &["files", "single"])],
    )
    .await;

    // a path that does not exist: 404 (the suite also accepts a partial CAR)
    let r = get(&format!("/ipfs/{two70}/subdir/i-do-not-exist?format=car")).await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn car_dag_scope_block() {
    let two = root_of("trustless_gateway_car/subdir-with-two-single-block-files.car");
    let two70 = with_codec(two, 0x70);
    let sub = cid_at(two, &["subdir"]);
    car_exact(
        &format!("/ipfs/{two70}/subdir?dag-scope=block"),
        &[two, sub],
    )
    .await;
    car_exact(
        &format!("/ipfs/{two70}/subdir/ascii.txt?dag-scope=block"),
        &[two, sub, cid_at(two, &["subdir", "ascii.txt"])],
    )
    .await;
    let hamt = root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
    car_exact(
        &format!("/ipfs/{}/1.txt?dag-scope=block", with_codec(hamt, 0x70)),
        &cat_cids(&[
            &[hamt],
            &hamt_path(hamt, "1.txt"),
            &[cid_at(hamt, &["1.txt"])],
        ]),
    )
    .await;
}

#[tokio::test]
async fn car_dag_scope_entity() {
    let two = root_of("trustless_gateway_car/subdir-with-two-single-block-files.car");
    car_exact(
        &format!("/ipfs/{}?dag-scope=entity", with_codec(two, 0x70)),
        &[two],
    )
    .await;
    let hamt = root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
    car_exact(
        &format!("/ipfs/{}?dag-scope=entity", with_codec(hamt, 0x70)),
        &cat_cids(&[&[hamt], &hamt_all(hamt)]),
    )
    .await;
    let mixed = root_of("trustless_gateway_car/subdir-with-mixed-block-files.car");
    let m70 = with_codec(mixed, 0x70);
    let sub = cid_at(mixed, &["subdir"]);
    car_exact(
        &format!("/ipfs/{m70}/subdir/ascii.txt?dag-scope=entity"),
        &[mixed, sub, cid_at(mixed, &["subdir", "ascii.txt"])],
    )
    .await;
    let mb = cid_at(mixed, &["subdir", "multiblock.txt"]);
    car_exact(
        &format!("/ipfs/{m70}/subdir/multiblock.txt?dag-scope=entity"),
        &cat_cids(&[&[mixed, sub, mb], &descendants(mb)]),
    )
    .await;
    let cbor = root_of("trustless_gateway_car/dir-with-dag-cbor-with-links.car");
    car_exact(
        &format!("/ipfs/{}/document?dag-scope=entity", with_codec(cbor, 0x70)),
        &[cbor, cid_at(cbor, &["document"])],
    )
    .await;
}

#[tokio::test]
async fn car_dag_scope_all() {
    let mixed = root_of("trustless_gateway_car/subdir-with-mixed-block-files.car");
    let m70 = with_codec(mixed, 0x70);
    let sub = cid_at(mixed, &["subdir"]);
    car_exact(
        &format!("/ipfs/{m70}/subdir?dag-scope=all"),
        &cat_cids(&[&[mixed, sub], &descendants(sub)]),
    )
    .await;
    let mb = cid_at(mixed, &["subdir", "multiblock.txt"]);
    car_exact(
        &format!("/ipfs/{m70}/subdir/multiblock.txt?dag-scope=all"),
        &cat_cids(&[&[mixed, sub, mb], &descendants(mb)]),
    )
    .await;
}

#[tokio::test]
async fn car_entity_bytes() {
    let missing = root_of("trustless_gateway_car/file-3k-and-3-blocks-missing-block.car");
    let m70 = with_codec(missing, 0x70);
    for (range, leaf) in [
        ("0:1000", "QmPKt7ptM2ZYSGPUc8PmPT2VBkLDK3iqpG9TBJY7PCE9rF"),
        ("2200:*", "QmWXY482zQdwecnfBsj78poUUuPXvyw2JAFAEMw4tzTavV"),
    ] {
        for (_, blocks) in car_both(&format!(
            "/ipfs/{m70}?dag-scope=entity&entity-bytes={range}"
        ))
        .await
        {
            let mut got = mh(&blocks);
            got.sort();
            let mut want = mh(&[missing, c(leaf)]);
            want.sort();
            assert_eq!(got, want, "{range}");
        }
    }

    let mixed = root_of("trustless_gateway_car/subdir-with-mixed-block-files.car");
    let m70 = with_codec(mixed, 0x70);
    let sub = cid_at(mixed, &["subdir"]);
    let mb = cid_at(mixed, &["subdir", "multiblock.txt"]);
    let leaves = descendants(mb);
    assert_eq!(
        leaves,
        [
            "bafkreie5noke3mb7hqxukzcy73nl23k6lxszxi5w3dtmuwz62wnvkpsscm",
            "bafkreih4ephajybraj6wnxsbwjwa77fukurtpl7oj7t7pfq545duhot7cq",
            "bafkreigu7buvm3cfunb35766dn7tmqyh2um62zcio63en2btvxuybgcpue",
            "bafkreicll3huefkc3qnrzeony7zcfo7cr3nbx64hnxrqzsixpceg332fhe",
            "bafkreifst3pqztuvj57lycamoi7z34b4emf7gawxs74nwrc2c7jncmpaqm",
        ]
        .map(c)
    );
    car_exact(
        &format!("/ipfs/{m70}/subdir/multiblock.txt?dag-scope=entity&entity-bytes=0:*"),
        &cat_cids(&[&[mixed, sub, mb], &leaves]),
    )
    .await;
    let hamt = root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
    car_exact(
        &format!(
            "/ipfs/{}?dag-scope=entity&entity-bytes=0:*",
            with_codec(hamt, 0x70)
        ),
        &cat_cids(&[&[hamt], &hamt_all(hamt)]),
    )
    .await;
    let mb70 = with_codec(mb, 0x70);
    for (range, want) in [
        ("512:*", &leaves[2..]),
        ("512:1023", &leaves[2..4]),
        ("512:-256", &leaves[2..4]),
        ("-5:*", &leaves[3..]),
        ("-9999:*", &leaves[..]),
        ("-9999:-3", &leaves[..4]),
        ("0:0", &leaves[..1]),
    ] {
        car_exact(
            &format!("/ipfs/{mb70}?dag-scope=entity&entity-bytes={range}"),
            &cat_cids(&[&[mb], want]),
        )
        .await;
    }
}

#[tokio::test]
async fn car_order_and_duplicates() {
    let dup = root_of("trustless_gateway_car/dir-with-duplicate-files.car");
    let ascii = cid_at(dup, &["ascii.txt"]);
    assert_eq!(ascii, cid_at(dup, &["ascii-copy.txt"]));
    let hello = cid_at(dup, &["hello.txt"]);
    let mb = cid_at(dup, &["multiblock.txt"]);
    let leaves = descendants(mb);
    let path = format!("/ipfs/{dup}");
    let with_dups = cat_cids(&[&[dup, ascii, ascii, hello, mb], &leaves]);
    let without = cat_cids(&[&[dup, ascii, hello, mb], &leaves]);
    for (accept, query, want, tag) in [
        (
            "application/vnd.ipld.car; version=1; order=dfs; dups=y",
            "",
            &with_dups,
            "dups=y",
        ),
        (
            "application/vnd.ipld.car; version=1; order=dfs; dups=n",
            "",
            &without,
            "dups=n",
        ),
        // an explicit Accept wins over ?format=
        (
            "application/vnd.ipld.car; version=1; order=dfs; dups=y",
            "?format=car",
            &with_dups,
            "dups=y",
        ),
    ] {
        let r = get_h(&format!("{path}{query}"), &[("Accept", accept)]).await;
        assert_eq!(r.status, 200);
        let ct = r.h("content-type");
        assert!(
            ct.contains("application/vnd.ipld.car") && ct.contains("order=dfs") && ct.contains(tag),
            "{ct}"
        );
        assert_eq!(mh(&car_blocks(&r.body).1), mh(want), "{accept}");
    }
    let r = get_h(
        &path,
        &[("Accept", "application/vnd.ipld.car; version=1; order=unk")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.h("content-type").contains("order="));
    let got = car_blocks(&r.body).1;
    for b in &without {
        assert!(got.contains(b));
    }
    // identity CIDs are never written as blocks
    let r = get_h(
        "/ipfs/bafkqaf3imvwgy3zaneqgc3janfxgy2lomvscay3jmqfa",
        &[("Accept", "application/vnd.ipld.car; dups=y")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(r.h("content-type").contains("dups=y"));
    let (roots, blocks) = car_blocks(&r.body);
    assert!(blocks.is_empty());
    assert_eq!(
        roots,
        vec![c("bafkqaf3imvwgy3zaneqgc3janfxgy2lomvscay3jmqfa")]
    );
}

// ---------- trustless-ipns: TestGatewayIPNSRecord (with this fixture set's records) ----------

#[tokio::test]
async fn ipns_record_format() {
    let name: IpnsName = CACHE_NAME.parse().unwrap();
    let file = fixtures().join(format!("gateway-cache/{CACHE_NAME}.ipns-record"));
    let bytes = std::fs::read(file).unwrap();
    let v = validate(&bytes, &name, std::time::SystemTime::now()).unwrap();
    let ttl = v.ttl.map_or(60, |t| t.as_secs());
    for r in [
        get(&format!("/ipns/{CACHE_NAME}?format=ipns-record")).await,
        get_h(
            &format!("/ipns/{CACHE_NAME}"),
            &[("Accept", "application/vnd.ipfs.ipns-record")],
        )
        .await,
    ] {
        assert_eq!(r.status, 200);
        assert_eq!(
            r.h("content-disposition"),
            format!("attachment; filename=\"{CACHE_NAME}.ipns-record\"")
        );
        assert_eq!(r.h("content-type"), "application/vnd.ipfs.ipns-record");
        assert_eq!(r.h("cache-control"), format!("public, max-age={ttl}"));
        assert_eq!(r.body, bytes);
        let got = validate(&r.body, &name, std::time::SystemTime::now()).unwrap();
        assert_eq!(got.value, format!("/ipfs/{}", cache_root()));
    }
    let r = get(&format!(
        "/ipns/{CACHE_NAME}?format=ipns-record&filename=test%D1%82%D0%B5%D1%81%D1%82.ipns-record"
    ))
    .await;
    assert!(r.h("content-disposition").contains(
        "attachment; filename=\"test____.ipns-record\"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.ipns-record"
    ));
    // and the name resolves to the content
    let r = get(&format!("/ipns/{CACHE_NAME}/root2/root3/root4/index.html")).await;
    assert_eq!(r.body, b"hello\n");
    // ipns-record is only for names
    assert_eq!(
        get(&format!("/ipfs/{}?format=ipns-record", cache_root()))
            .await
            .status,
        400
    );
}

// ---------- path-ipns: TestGatewayIPNSPath, TestRedirectCanonicalIPNS, TestGatewayIPNSRecordWithSubpath ----------

fn identity_digest(value: &str) -> Vec<u8> {
    c(value.trim_start_matches("/ipfs/"))
        .hash()
        .digest()
        .to_vec()
}

#[tokio::test]
async fn ipns_record_versions() {
    for (name, ok) in [
        (
            "k51qzi5uqu5dm4tm0wt8srkg9h9suud4wuiwjimndrkydqm81cqtlb5ak6p7ku",
            None,
        ),
        (
            "k51qzi5uqu5dlmit2tuwdvnx4sbnyqgmvbxftl0eo3f33wwtb9gr7yozae9kpw",
            None,
        ),
        (
            "k51qzi5uqu5diamp7qnnvs1p1gzmku3eijkeijs3418j23j077zrkok63xdm8c",
            None,
        ),
        (
            "k51qzi5uqu5dilgf7gorsh9vcqqq4myo6jd4zmqkuy9pxyxi5fua3uf7axph4y",
            Some("/ipfs/bafkqahtwgevxmmrao5uxi2bamjzg623fnyqhg2lhnzqxi5lsmuqhmmi"),
        ),
        (
            "k51qzi5uqu5dlkw8pxuw9qmqayfdeh4kfebhmreauqdc6a7c3y7d5i9fi8mk9w",
            Some("/ipfs/bafkqaddwgevxmmraojswg33smq"),
        ),
        (
            "k51qzi5uqu5dit2ku9mutlfgwyz8u730on38kd10m97m36bjt66my99hb6103f",
            Some("/ipfs/bafkqadtwgiww63tmpeqhezldn5zgi"),
        ),
    ] {
        let r = get(&format!("/ipns/{name}")).await;
        match ok {
            None => assert!((500..600).contains(&r.status), "{name}: {}", r.status),
            Some(value) => {
                assert_eq!(r.status, 200, "{name}");
                assert_eq!(r.body, identity_digest(value), "{name}");
            }
        }
    }
}

#[tokio::test]
async fn ipns_canonical_redirects() {
    let r = get("/ipns/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK/root2/").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.h("location"),
        "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8/root2/"
    );
    let r = get("/ipns/QmcJM7PRfkSbcM5cf1QugM5R37TLRKyJGgBEhXjLTB8uA2/root2/").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.h("location"),
        "/ipns/k2k4r8ol4m8kkcqz509c1rcjwunebj02gcnm5excpx842u736nja8ger/root2/"
    );
}

#[tokio::test]
async fn ipns_record_with_subpath() {
    let name = "k51qzi5uqu5djokp3m1keo36hoxtd6u3a1d2rg1camf6al7p3huy63dojlm57c";
    let r = get(&format!("/ipns/{name}/")).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Index of") && r.text().contains("root3"));
    let r = get(&format!("/ipns/{name}/root3/root4/index.html")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"hello\n");
}

// ---------- the rest of the spec ----------

#[tokio::test]
async fn identity_probe() {
    let r = get("/ipfs/bafkqaaa").await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.h("etag"), "\"bafkqaaa\"");
    let r = get("/ipfs/bafkqaaa?format=raw").await;
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    assert_eq!(r.h("content-type"), "application/vnd.ipld.raw");
}

#[tokio::test]
async fn unknown_name_is_404() {
    let r = get("/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8").await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn head_matches_get_without_body() {
    let root = root_of("path_gateway_unixfs/dir-with-files.car");
    let path = format!("/ipfs/{root}/ascii.txt");
    let g = get(&path).await;
    let h = head_h(&path, &[]).await;
    assert_eq!(h.status, 200);
    assert!(h.body.is_empty());
    for name in [
        "content-type",
        "content-length",
        "etag",
        "x-ipfs-roots",
        "cache-control",
    ] {
        assert_eq!(h.h(name), g.h(name), "{name}");
    }
    assert_eq!(g.h("content-length"), "31");
    let h = head_h(&path, &[("Range", "bytes=0-4")]).await;
    assert_eq!(h.status, 206);
    assert_eq!(h.h("content-length"), "5");
}

#[tokio::test]
async fn filename_and_download() {
    let root = root_of("path_gateway_unixfs/dir-with-files.car");
    let path = format!("/ipfs/{root}/ascii.txt");
    let r = get(&format!("{path}?filename=a%20b.txt")).await;
    assert_eq!(r.h("content-disposition"), "inline; filename=\"a b.txt\"");
    let r = get(&format!("{path}?filename=r.bin&download=true")).await;
    assert_eq!(r.h("content-disposition"), "attachment; filename=\"r.bin\"");
    // the filename's extension decides the type
    assert_eq!(r.h("content-type"), "application/octet-stream");
}

#[tokio::test]
async fn cors_on_get_and_preflight() {
    let root = root_of("path_gateway_unixfs/dir-with-files.car");
    let r = get(&format!("/ipfs/{root}/ascii.txt")).await;
    assert_eq!(r.h("access-control-allow-origin"), "*");
    assert!(r.h("access-control-allow-methods").contains("GET"));
    assert!(r.h("access-control-expose-headers").contains("X-Ipfs-Path"));
    let r = send(
        &fixture().app,
        axum::http::Method::OPTIONS,
        &format!("/ipfs/{root}/ascii.txt"),
        &[
            ("Origin", "http://example.test"),
            ("Access-Control-Request-Method", "GET"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("access-control-allow-origin"), "*");
}
