//! The IPFS gateway conformance suite's checks (ipfs/gateway-conformance v0.13, `tests/*.go`)
//! for path-unixfs, path-range, path-raw, trustless-block, trustless-car, trustless-ipns and
//! path-ipns, run in-process against every fixture CAR and IPNS record of a fixture set: first
//! the set the tests generate (`wanda_node::test_fixtures`, same shapes as the suite's), then
//! the suite's own fixtures when their folder exists (`$WANDA_CONFORMANCE_FIXTURES`, default
//! `../shared/gateway-conformance-fixtures`; skipped with a message when absent).

mod gateway_common;

use gateway_common::*;
use wanda_node::ipns::{IpnsName, validate};

const CACHE_IMMUTABLE: &str = "public, max-age=29030400, immutable";

/// Says (in nextest's output too, see .config/nextest.toml) whether the official set is checked;
/// fails when it is missing and `WANDA_REQUIRE_OFFICIAL_FIXTURES=1`.
#[test]
fn official_fixtures_status() {
    // prints the "not found" line itself
    if wanda_node::test_fixtures::official().is_some() {
        println!("{}", wanda_node::test_fixtures::official_status());
    }
}

#[test]
fn every_fixture_is_imported() {
    for f in fixtures() {
        assert_eq!(f.set.car_files().len(), f.set.cars);
        assert!(f.blocks > 100, "{}", f.blocks);
        assert_eq!(f.names, f.set.names);
    }
}

// ---------- path-unixfs: TestUnixFSDirectoryListing ----------

#[tokio::test]
async fn dir_listing_root_has_no_backlink() {
    for f in fixtures() {
        let root = f.root_of("dir_listing/fixtures.car");
        let r = f.get(&format!("/ipfs/{root}/")).await;
        assert_eq!(r.status, 200);
        assert!(r.text().contains("Index of"));
        assert!(
            !r.text()
                .contains(&format!("<a href=\"/ipfs/{root}/\">..</a>"))
        );
    }
}

#[tokio::test]
async fn dir_listing_redirects_to_trailing_slash() {
    for f in fixtures() {
        let root = f.root_of("dir_listing/fixtures.car");
        let r = f.get(&format!("/ipfs/{root}/%C4%85/%C4%99")).await;
        assert_eq!(r.status, 301);
        assert_eq!(r.h("location"), format!("/ipfs/{root}/%C4%85/%C4%99/"));
        // the query survives the redirect
        let r = f.get(&format!("/ipfs/{root}/%C4%85/%C4%99?x=1")).await;
        assert_eq!(r.h("location"), format!("/ipfs/{root}/%C4%85/%C4%99/?x=1"));
    }
}

#[tokio::test]
async fn dir_listing_html() {
    for f in fixtures() {
        let root = f.root_of("dir_listing/fixtures.car");
        let file = f.cid_at(root, &["ą", "ę", "file-źł.txt"]);
        let r = f.get(&format!("/ipfs/{root}/%C4%85/%C4%99/")).await;
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
}

#[tokio::test]
async fn missing_file_is_404() {
    for f in fixtures() {
        let root = f.root_of("dir_listing/fixtures.car");
        assert_eq!(
            f.get(&format!("/ipfs/{root}/i-do-not-exist")).await.status,
            404
        );
    }
}

// ---------- path-unixfs: TestGatewayCache ----------

fn cache_root(f: &Fixture) -> cid::Cid {
    f.root_of("gateway-cache/fixtures.car")
}

#[tokio::test]
async fn cache_dir_listing_headers() {
    for f in fixtures() {
        let root = cache_root(f);
        let r2 = f.cid_at(root, &["root2"]);
        let r3 = f.cid_at(root, &["root2", "root3"]);
        let r = f.get(&format!("/ipfs/{root}/root2/root3/")).await;
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
}

#[tokio::test]
async fn cache_dir_with_index_html() {
    for f in fixtures() {
        let root = cache_root(f);
        let r4 = f.cid_at(root, &["root2", "root3", "root4"]);
        let roots = [
            root,
            f.cid_at(root, &["root2"]),
            f.cid_at(root, &["root2", "root3"]),
            r4,
        ]
        .map(|c| c.to_string())
        .join(",");
        let r = f.get(&format!("/ipfs/{root}/root2/root3/root4/")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
        assert_eq!(
            r.h("x-ipfs-path"),
            format!("/ipfs/{root}/root2/root3/root4/")
        );
        assert_eq!(r.h("x-ipfs-roots"), roots);
        assert_eq!(r.h("etag"), format!("\"{r4}\""));
        assert_eq!(r.body, f.set.index_html);
        assert!(r.h("content-type").starts_with("text/html"));
    }
}

#[tokio::test]
async fn cache_file_headers() {
    for f in fixtures() {
        let root = cache_root(f);
        let idx = f.cid_at(root, &["root2", "root3", "root4", "index.html"]);
        let roots = [
            root,
            f.cid_at(root, &["root2"]),
            f.cid_at(root, &["root2", "root3"]),
            f.cid_at(root, &["root2", "root3", "root4"]),
            idx,
        ]
        .map(|c| c.to_string())
        .join(",");
        let path = format!("/ipfs/{root}/root2/root3/root4/index.html");
        let r = f.get(&path).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
        assert_eq!(r.h("x-ipfs-path"), path);
        assert_eq!(r.h("x-ipfs-roots"), roots);
        assert_eq!(r.h("etag"), format!("\"{idx}\""));
    }
}

#[tokio::test]
async fn cache_dir_as_json_and_dag_json() {
    for f in fixtures() {
        let root = cache_root(f);
        let r4 = f.cid_at(root, &["root2", "root3", "root4"]);
        for (format, ct) in [
            ("dag-json", "application/vnd.ipld.dag-json"),
            ("json", "application/json"),
        ] {
            let r = f
                .get(&format!("/ipfs/{root}/root2/root3/root4/?format={format}"))
                .await;
            assert_eq!(r.status, 200, "{format}");
            assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
            assert_eq!(r.h("content-type"), ct);
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            let links = v["Links"].as_array().unwrap();
            let idx = links.iter().find(|l| l["Name"] == "index.html").unwrap();
            assert_eq!(
                idx["Hash"]["/"],
                f.cid_at(r4, &["index.html"]).to_string(),
                "{v}"
            );
        }
    }
}

#[tokio::test]
async fn only_if_cached() {
    for f in fixtures() {
        let root = cache_root(f);
        let here = format!("/ipfs/{root}/root2/root3/root4/?format=json");
        let missing = "/ipfs/QmYzfKSE55XCjD1MW128RfciAf2DViABhEiXfgVFMabSjN";
        let cc = [("Cache-Control", "only-if-cached")];
        assert_eq!(f.head_h(&here, &cc).await.status, 200);
        assert_eq!(f.get_h(&here, &cc).await.status, 200);
        let r = f.head_h(missing, &cc).await;
        assert_eq!(r.status, 412);
        assert!(r.body.is_empty());
        assert_eq!(f.get_h(missing, &cc).await.status, 412);
        // without only-if-cached and without a node, the missing root is a 404
        assert_eq!(f.get(missing).await.status, 404);
    }
}

#[tokio::test]
async fn if_none_match() {
    for f in fixtures() {
        let root = cache_root(f);
        let idx = f.cid_at(root, &["root2", "root3", "root4", "index.html"]);
        let r4 = f.cid_at(root, &["root2", "root3", "root4"]);
        let r3 = f.cid_at(root, &["root2", "root3"]);
        let file = format!("/ipfs/{root}/root2/root3/root4/index.html");
        for tag in [
            format!("\"{idx}\""),
            format!("\"fakeEtag1\", \"fakeEtag2\", \"{idx}\""),
            format!("W/\"{idx}\""),
            "*".to_string(),
        ] {
            let r = f.get_h(&file, &[("If-None-Match", &tag)]).await;
            assert_eq!(r.status, 304, "{tag}");
            assert!(r.body.is_empty());
        }
        assert_eq!(
            f.get_h(&file, &[("If-None-Match", "\"other\"")])
                .await
                .status,
            200
        );
        let dir = format!("/ipfs/{root}/root2/root3/root4/");
        let tag = format!("\"{r4}\"");
        assert_eq!(f.get_h(&dir, &[("If-None-Match", &tag)]).await.status, 304);
        let listing = format!("/ipfs/{root}/root2/root3/");
        let tag = format!("W/\"{r3}\"");
        assert_eq!(
            f.get_h(&listing, &[("If-None-Match", &tag)]).await.status,
            304
        );
        // the listing's own ETag, strong and weak
        let etag = f.get(&listing).await.h("etag").to_string();
        assert_eq!(
            f.get_h(&listing, &[("If-None-Match", &etag)]).await.status,
            304
        );
        let weak = format!("W/{etag}");
        assert_eq!(
            f.get_h(&listing, &[("If-None-Match", &weak)]).await.status,
            304
        );
    }
}

// ---------- path-unixfs + path-ipns: TestGatewayCacheWithIPNS ----------

fn ipns_cache_ok(r: &Resp) {
    let cc = r.h("cache-control");
    assert!(cc.is_empty() || cc.starts_with("public, max-age="), "{cc}");
    assert!(!cc.contains("immutable"), "{cc}");
}

#[tokio::test]
async fn ipns_cache_headers() {
    for f in fixtures() {
        let root = cache_root(f);
        let r2 = f.cid_at(root, &["root2"]);
        let r3 = f.cid_at(root, &["root2", "root3"]);
        let r4 = f.cid_at(root, &["root2", "root3", "root4"]);
        let idx = f.cid_at(r4, &["index.html"]);
        let name = &f.set.cache_name;

        let r = f.get(&format!("/ipns/{name}/root2/root3/")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.h("x-ipfs-path"), format!("/ipns/{name}/root2/root3/"));
        assert_eq!(r.h("x-ipfs-roots"), format!("{root},{r2},{r3}"));
        assert!(
            r.h("etag").starts_with("\"DirIndex-")
                && r.h("etag").ends_with(&format!("_CID-{r3}\""))
        );
        ipns_cache_ok(&r);

        let r = f.get(&format!("/ipns/{name}/root2/root3/root4/")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.h("x-ipfs-roots"), format!("{root},{r2},{r3},{r4}"));
        assert_eq!(r.h("etag"), format!("\"{r4}\""));
        ipns_cache_ok(&r);

        let path = format!("/ipns/{name}/root2/root3/root4/index.html");
        let r = f.get(&path).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.h("x-ipfs-path"), path);
        assert_eq!(r.h("x-ipfs-roots"), format!("{root},{r2},{r3},{r4},{idx}"));
        assert_eq!(r.h("etag"), format!("\"{idx}\""));
        ipns_cache_ok(&r);

        for format in ["dag-json", "json"] {
            let r = f
                .get(&format!("/ipns/{name}/root2/root3/root4/?format={format}"))
                .await;
            assert_eq!(r.status, 200);
            ipns_cache_ok(&r);
        }
        let tag = format!("\"{idx}\"");
        assert_eq!(f.get_h(&path, &[("If-None-Match", &tag)]).await.status, 304);
    }
}

// ---------- path-unixfs: TestGatewaySymlink ----------

#[tokio::test]
async fn symlink() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/symlink.car");
        let r = f.get(&format!("/ipfs/{root}/")).await;
        let (file, link) = &f.set.symlink;
        assert!(
            r.text().contains(&format!(">{file}<")) && r.text().contains(&format!(">{link}<")),
            "{}",
            r.text()
        );
        let r = f.get(&format!("/ipfs/{root}?format=raw")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, f.raw(root));
        let r = f.get(&format!("/ipfs/{root}/{link}")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, file.as_bytes());
        let link_cid = f.cid_at(root, &[link]);
        let kind = wanda_node::unixfs::node_kind(&link_cid, &f.raw(link_cid));
        assert_eq!(kind, wanda_node::unixfs::NodeKind::Symlink);
    }
}

// ---------- path-range: TestGatewayUnixFSFileRanges ----------

#[tokio::test]
async fn file_ranges() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/dir-with-files.car");
        let ascii = f.cat(f.cid_at(root, &["ascii.txt"]));
        assert_eq!(ascii.len(), 31);
        let path = format!("/ipfs/{root}/ascii.txt");

        let r = f.get_h(&path, &[("Range", "bytes=6-16")]).await;
        assert_eq!(r.status, 206);
        assert!(r.h("content-type").contains("text/plain"));
        assert_eq!(r.h("content-range"), "bytes 6-16/31");
        assert_eq!(r.h("accept-ranges"), "bytes");
        assert_eq!(r.body, ascii[6..17]);

        let r = f.get_h(&path, &[("Range", "bytes=-3")]).await;
        assert_eq!(r.status, 206);
        assert_eq!(r.h("content-range"), "bytes 28-30/31");
        assert_eq!(r.body, ascii[28..31]);

        // multiple ranges: multipart/byteranges
        let r = f.get_h(&path, &[("Range", "bytes=6-16,0-4")]).await;
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

        // a range across leaf boundaries of a multi-block file (256-byte leaves)
        let mb = f.cat(f.cid_at(root, &["multiblock.txt"]));
        assert_eq!(mb.len(), 1026);
        let r = f
            .get_h(
                &format!("/ipfs/{root}/multiblock.txt"),
                &[("Range", "bytes=250-800")],
            )
            .await;
        assert_eq!(r.status, 206);
        assert_eq!(r.h("content-range"), "bytes 250-800/1026");
        assert_eq!(r.body, mb[250..801]);
    }
}

#[tokio::test]
async fn range_with_missing_blocks_outside_it() {
    for f in fixtures() {
        let root = with_codec(
            f.root_of("trustless_gateway_car/file-3k-and-3-blocks-missing-block.car"),
            0x70,
        );
        // the middle 1 KiB leaf is missing; the first and last are here
        let [first, last] = f.set.missing_block_leaves;
        let leaf0 = f.cat(first);
        let leaf2 = f.cat(last);
        let path = format!("/ipfs/{root}");
        let r = f.get_h(&path, &[("Range", "bytes=997-1000")]).await;
        assert_eq!(r.status, 206);
        assert_eq!(r.h("content-range"), "bytes 997-1000/3072");
        assert_eq!(r.body, leaf0[997..1001]);
        // a range ending exactly at the missing block's first byte - 1 must not touch it
        let r = f.get_h(&path, &[("Range", "bytes=0-1023")]).await;
        assert_eq!(r.status, 206);
        assert_eq!(r.body, leaf0);
        let r = f.get_h(&path, &[("Range", "bytes=2200-2201")]).await;
        assert_eq!(r.status, 206);
        assert_eq!(r.h("content-range"), "bytes 2200-2201/3072");
        assert_eq!(r.body, leaf2[2200 - 2048..2202 - 2048]);
        // The suite also expects Content-Type text/plain here; these bytes are random (binary by
        // the WHATWG sniffing rule), so the gateway answers application/octet-stream.
        assert_eq!(r.h("content-type"), "application/octet-stream");
        // the whole file cannot be served: the stream is cut, never completed with wrong bytes
        let r = f.get(&path).await;
        assert_eq!(r.status, 200);
        assert!(r.text().contains("stream aborted"), "{}", r.body.len());
    }
}

// ---------- path-unixfs: TestPathGatewayMiscellaneous ----------

#[tokio::test]
async fn percent_encoded_filename() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/dir-with-percent-encoded-filename.car");
        let want = f.cat(f.cid_at(root, &["Portugal%2C+España=Peninsula Ibérica.txt"]));
        let r = f
            .get(&format!(
                "/ipfs/{root}/Portugal%252C+Espa%C3%B1a=Peninsula%20Ib%C3%A9rica.txt"
            ))
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, want);
    }
}

// ---------- path-raw + trustless-block: TestGatewayBlock, TestTrustlessRaw ----------

#[tokio::test]
async fn raw_block() {
    for f in fixtures() {
        let root = f.root_of("gateway-raw-block.car");
        let dir = f.cid_at(root, &["dir"]);
        let ascii = f.cid_at(root, &["dir", "ascii.txt"]);
        for path in [format!("/ipfs/{root}/dir"), format!("/ipfs/{dir}")] {
            let r = f.get(&format!("{path}?format=raw")).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.body, f.raw(dir));
            let r = f
                .get_h(&path, &[("Accept", "application/vnd.ipld.raw")])
                .await;
            assert_eq!(r.status, 200);
            assert_eq!(r.body, f.raw(dir));
            let r = f
                .get_h(
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
            assert_eq!(r.body, f.raw(dir)[6..17]);
        }
        for path in [
            format!("/ipfs/{root}/dir/ascii.txt"),
            format!("/ipfs/{ascii}"),
        ] {
            let accept = [("Accept", "application/vnd.ipld.raw")];
            let r = f.get_h(&path, &accept).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.h("content-type"), "application/vnd.ipld.raw");
            assert_eq!(r.h("content-length"), f.raw(ascii).len().to_string());
            assert_eq!(
                r.h("content-disposition"),
                format!("attachment; filename=\"{ascii}.bin\"")
            );
            assert_eq!(r.h("x-content-type-options"), "nosniff");
            assert_eq!(r.body, f.raw(ascii));
            assert_eq!(r.h("etag"), format!("\"{ascii}.raw\""));
            assert_eq!(r.h("x-ipfs-path"), path);
            assert!(
                r.h("x-ipfs-roots").contains(&root.to_string())
                    || path.contains(&ascii.to_string())
            );
            assert!(r.h("x-ipfs-roots").contains(&ascii.to_string()));
            assert_eq!(r.h("cache-control"), CACHE_IMMUTABLE);
            let r = f
                .get_h(&format!("{path}?filename=foobar.bin"), &accept)
                .await;
            assert_eq!(
                r.h("content-disposition"),
                "attachment; filename=\"foobar.bin\""
            );
        }
    }
}

#[tokio::test]
async fn raw_block_multi_range() {
    for f in fixtures() {
        let root = f.root_of("gateway-raw-block.car");
        let ascii = f.raw(f.cid_at(root, &["dir", "ascii.txt"]));
        let r = f
            .get_h(
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
}

// ---------- trustless-car ----------

/// Runs a CAR request both as `?format=car` and as `Accept: application/vnd.ipld.car`
/// (the suite's StandardCARTestTransforms) and checks the standard CAR headers.
async fn car_both(f: &Fixture, path_and_query: &str) -> Vec<(Vec<cid::Cid>, Vec<cid::Cid>)> {
    let sep = if path_and_query.contains('?') {
        '&'
    } else {
        '?'
    };
    let a = f.get(&format!("{path_and_query}{sep}format=car")).await;
    let b = f
        .get_h(path_and_query, &[("Accept", "application/vnd.ipld.car")])
        .await;
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

async fn car_exact(f: &Fixture, path_and_query: &str, want: &[cid::Cid]) {
    for (_, blocks) in car_both(f, path_and_query).await {
        assert_eq!(mh(&blocks), mh(want), "{path_and_query}");
    }
}

fn cat_cids(parts: &[&[cid::Cid]]) -> Vec<cid::Cid> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

#[tokio::test]
async fn car_pathing() {
    for f in fixtures() {
        let two = f.root_of("trustless_gateway_car/subdir-with-two-single-block-files.car");
        let two70 = with_codec(two, 0x70);
        car_exact(
            f,
            &format!("/ipfs/{two70}/subdir/ascii.txt"),
            &[
                two,
                f.cid_at(two, &["subdir"]),
                f.cid_at(two, &["subdir", "ascii.txt"]),
            ],
        )
        .await;

        let hamt = f.root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
        let f685 = f.cid_at(hamt, &["685.txt"]);
        // the fixture's shape: a sharded directory whose entry sits in a sub-shard, and a
        // multi-block file
        let kind = wanda_node::unixfs::node_kind(&hamt, &f.raw(hamt));
        assert_eq!(kind, wanda_node::unixfs::NodeKind::HamtShard);
        assert!(!f.hamt_path(hamt, "685.txt").is_empty());
        assert!(f.descendants(f685).len() > 1);
        car_exact(
            f,
            &format!("/ipfs/{}/685.txt", with_codec(hamt, 0x70)),
            &cat_cids(&[
                &[hamt],
                &f.hamt_path(hamt, "685.txt"),
                &[f685],
                &f.descendants(f685),
            ]),
        )
        .await;

        let cbor = f.root_of("trustless_gateway_car/dir-with-dag-cbor-with-links.car");
        let doc = with_codec(f.cid_at(cbor, &["document"]), 0x71);
        car_exact(
            f,
            &format!("/ipfs/{doc}/files/single"),
            &[doc, f.cid_at(doc, &["files", "single"])],
        )
        .await;

        // a path that does not exist: 404 (the suite also accepts a partial CAR)
        let r = f
            .get(&format!("/ipfs/{two70}/subdir/i-do-not-exist?format=car"))
            .await;
        assert_eq!(r.status, 404);
    }
}

#[tokio::test]
async fn car_dag_scope_block() {
    for f in fixtures() {
        let two = f.root_of("trustless_gateway_car/subdir-with-two-single-block-files.car");
        let two70 = with_codec(two, 0x70);
        let sub = f.cid_at(two, &["subdir"]);
        car_exact(
            f,
            &format!("/ipfs/{two70}/subdir?dag-scope=block"),
            &[two, sub],
        )
        .await;
        car_exact(
            f,
            &format!("/ipfs/{two70}/subdir/ascii.txt?dag-scope=block"),
            &[two, sub, f.cid_at(two, &["subdir", "ascii.txt"])],
        )
        .await;
        let hamt = f.root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
        car_exact(
            f,
            &format!("/ipfs/{}/1.txt?dag-scope=block", with_codec(hamt, 0x70)),
            &cat_cids(&[
                &[hamt],
                &f.hamt_path(hamt, "1.txt"),
                &[f.cid_at(hamt, &["1.txt"])],
            ]),
        )
        .await;
    }
}

#[tokio::test]
async fn car_dag_scope_entity() {
    for f in fixtures() {
        let two = f.root_of("trustless_gateway_car/subdir-with-two-single-block-files.car");
        car_exact(
            f,
            &format!("/ipfs/{}?dag-scope=entity", with_codec(two, 0x70)),
            &[two],
        )
        .await;
        let hamt = f.root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
        car_exact(
            f,
            &format!("/ipfs/{}?dag-scope=entity", with_codec(hamt, 0x70)),
            &cat_cids(&[&[hamt], &f.hamt_all(hamt)]),
        )
        .await;
        let mixed = f.root_of("trustless_gateway_car/subdir-with-mixed-block-files.car");
        let m70 = with_codec(mixed, 0x70);
        let sub = f.cid_at(mixed, &["subdir"]);
        car_exact(
            f,
            &format!("/ipfs/{m70}/subdir/ascii.txt?dag-scope=entity"),
            &[mixed, sub, f.cid_at(mixed, &["subdir", "ascii.txt"])],
        )
        .await;
        let mb = f.cid_at(mixed, &["subdir", "multiblock.txt"]);
        car_exact(
            f,
            &format!("/ipfs/{m70}/subdir/multiblock.txt?dag-scope=entity"),
            &cat_cids(&[&[mixed, sub, mb], &f.descendants(mb)]),
        )
        .await;
        let cbor = f.root_of("trustless_gateway_car/dir-with-dag-cbor-with-links.car");
        car_exact(
            f,
            &format!("/ipfs/{}/document?dag-scope=entity", with_codec(cbor, 0x70)),
            &[cbor, f.cid_at(cbor, &["document"])],
        )
        .await;
    }
}

#[tokio::test]
async fn car_dag_scope_all() {
    for f in fixtures() {
        let mixed = f.root_of("trustless_gateway_car/subdir-with-mixed-block-files.car");
        let m70 = with_codec(mixed, 0x70);
        let sub = f.cid_at(mixed, &["subdir"]);
        car_exact(
            f,
            &format!("/ipfs/{m70}/subdir?dag-scope=all"),
            &cat_cids(&[&[mixed, sub], &f.descendants(sub)]),
        )
        .await;
        let mb = f.cid_at(mixed, &["subdir", "multiblock.txt"]);
        car_exact(
            f,
            &format!("/ipfs/{m70}/subdir/multiblock.txt?dag-scope=all"),
            &cat_cids(&[&[mixed, sub, mb], &f.descendants(mb)]),
        )
        .await;
    }
}

#[tokio::test]
async fn car_entity_bytes() {
    for f in fixtures() {
        let missing = f.root_of("trustless_gateway_car/file-3k-and-3-blocks-missing-block.car");
        let m70 = with_codec(missing, 0x70);
        let [first, last] = f.set.missing_block_leaves;
        for (range, leaf) in [("0:1000", first), ("2200:*", last)] {
            for (_, blocks) in car_both(
                f,
                &format!("/ipfs/{m70}?dag-scope=entity&entity-bytes={range}"),
            )
            .await
            {
                let mut got = mh(&blocks);
                got.sort();
                let mut want = mh(&[missing, leaf]);
                want.sort();
                assert_eq!(got, want, "{range}");
            }
        }

        let mixed = f.root_of("trustless_gateway_car/subdir-with-mixed-block-files.car");
        let m70 = with_codec(mixed, 0x70);
        let sub = f.cid_at(mixed, &["subdir"]);
        let mb = f.cid_at(mixed, &["subdir", "multiblock.txt"]);
        let leaves = f.descendants(mb);
        assert_eq!(leaves, f.set.multiblock_leaves);
        car_exact(
            f,
            &format!("/ipfs/{m70}/subdir/multiblock.txt?dag-scope=entity&entity-bytes=0:*"),
            &cat_cids(&[&[mixed, sub, mb], &leaves]),
        )
        .await;
        let hamt = f.root_of("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
        car_exact(
            f,
            &format!(
                "/ipfs/{}?dag-scope=entity&entity-bytes=0:*",
                with_codec(hamt, 0x70)
            ),
            &cat_cids(&[&[hamt], &f.hamt_all(hamt)]),
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
                f,
                &format!("/ipfs/{mb70}?dag-scope=entity&entity-bytes={range}"),
                &cat_cids(&[&[mb], want]),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn car_order_and_duplicates() {
    for f in fixtures() {
        let dup = f.root_of("trustless_gateway_car/dir-with-duplicate-files.car");
        let ascii = f.cid_at(dup, &["ascii.txt"]);
        assert_eq!(ascii, f.cid_at(dup, &["ascii-copy.txt"]));
        let hello = f.cid_at(dup, &["hello.txt"]);
        let mb = f.cid_at(dup, &["multiblock.txt"]);
        let leaves = f.descendants(mb);
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
            let r = f
                .get_h(&format!("{path}{query}"), &[("Accept", accept)])
                .await;
            assert_eq!(r.status, 200);
            let ct = r.h("content-type");
            assert!(
                ct.contains("application/vnd.ipld.car")
                    && ct.contains("order=dfs")
                    && ct.contains(tag),
                "{ct}"
            );
            assert_eq!(mh(&car_blocks(&r.body).1), mh(want), "{accept}");
        }
        let r = f
            .get_h(
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
        let r = f
            .get_h(
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
}

// ---------- trustless-ipns: TestGatewayIPNSRecord (with this fixture set's records) ----------

#[tokio::test]
async fn ipns_record_format() {
    for f in fixtures() {
        let name: IpnsName = f.set.cache_name.parse().unwrap();
        let bytes = f.set.read(&format!("gateway-cache/{name}.ipns-record"));
        let v = validate(&bytes, &name, std::time::SystemTime::now()).unwrap();
        let ttl = v.ttl.map_or(60, |t| t.as_secs());
        for r in [
            f.get(&format!("/ipns/{name}?format=ipns-record")).await,
            f.get_h(
                &format!("/ipns/{name}"),
                &[("Accept", "application/vnd.ipfs.ipns-record")],
            )
            .await,
        ] {
            assert_eq!(r.status, 200);
            assert_eq!(
                r.h("content-disposition"),
                format!("attachment; filename=\"{name}.ipns-record\"")
            );
            assert_eq!(r.h("content-type"), "application/vnd.ipfs.ipns-record");
            assert_eq!(r.h("cache-control"), format!("public, max-age={ttl}"));
            assert_eq!(r.body, bytes);
            let got = validate(&r.body, &name, std::time::SystemTime::now()).unwrap();
            assert_eq!(got.value, format!("/ipfs/{}", cache_root(f)));
        }
        let r = f
            .get(&format!(
                "/ipns/{name}?format=ipns-record&filename=test%D1%82%D0%B5%D1%81%D1%82.ipns-record"
            ))
            .await;
        assert!(r.h("content-disposition").contains(
            "attachment; filename=\"test____.ipns-record\"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.ipns-record"
        ));
        // and the name resolves to the content
        let r = f
            .get(&format!("/ipns/{name}/root2/root3/root4/index.html"))
            .await;
        assert_eq!(r.body, f.set.index_html);
        // ipns-record is only for names
        assert_eq!(
            f.get(&format!("/ipfs/{}?format=ipns-record", cache_root(f)))
                .await
                .status,
            400
        );
    }
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
    for f in fixtures() {
        // every spec vector of the set: the three valid ones resolve, the others are refused
        let files = f.set.record_files("ipns_records");
        assert_eq!(files.len(), 6);
        for file in files {
            let (name, case) = file
                .trim_start_matches("ipns_records/")
                .trim_end_matches(".ipns-record")
                .split_once('_')
                .unwrap();
            let ok = f
                .set
                .vector_values
                .iter()
                .find(|(c, _)| *c == case)
                .map(|(_, v)| v);
            let r = f.get(&format!("/ipns/{name}")).await;
            match ok {
                None => assert!((500..600).contains(&r.status), "{name}: {}", r.status),
                Some(value) => {
                    assert_eq!(r.status, 200, "{name}");
                    assert_eq!(r.body, identity_digest(value), "{name}");
                }
            }
        }
    }
}

#[tokio::test]
async fn ipns_canonical_redirects() {
    for f in fixtures() {
        let r = f
            .get("/ipns/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK/root2/")
            .await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.h("location"),
            "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8/root2/"
        );
        let r = f
            .get("/ipns/QmcJM7PRfkSbcM5cf1QugM5R37TLRKyJGgBEhXjLTB8uA2/root2/")
            .await;
        assert_eq!(r.status, 302);
        assert_eq!(
            r.h("location"),
            "/ipns/k2k4r8ol4m8kkcqz509c1rcjwunebj02gcnm5excpx842u736nja8ger/root2/"
        );
    }
}

#[tokio::test]
async fn ipns_record_with_subpath() {
    for f in fixtures() {
        let name = &f.set.subpath_name;
        let r = f.get(&format!("/ipns/{name}/")).await;
        assert_eq!(r.status, 200);
        assert!(r.text().contains("Index of") && r.text().contains("root3"));
        let r = f.get(&format!("/ipns/{name}/root3/root4/index.html")).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body, f.set.index_html);
    }
}

// ---------- the rest of the spec ----------

#[tokio::test]
async fn identity_probe() {
    for f in fixtures() {
        let r = f.get("/ipfs/bafkqaaa").await;
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        assert_eq!(r.h("etag"), "\"bafkqaaa\"");
        let r = f.get("/ipfs/bafkqaaa?format=raw").await;
        assert_eq!(r.status, 200);
        assert!(r.body.is_empty());
        assert_eq!(r.h("content-type"), "application/vnd.ipld.raw");
    }
}

#[tokio::test]
async fn unknown_name_is_404() {
    for f in fixtures() {
        let r = f
            .get("/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8")
            .await;
        assert_eq!(r.status, 404);
    }
}

#[tokio::test]
async fn head_matches_get_without_body() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/dir-with-files.car");
        let path = format!("/ipfs/{root}/ascii.txt");
        let g = f.get(&path).await;
        let h = f.head_h(&path, &[]).await;
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
        let h = f.head_h(&path, &[("Range", "bytes=0-4")]).await;
        assert_eq!(h.status, 206);
        assert_eq!(h.h("content-length"), "5");
    }
}

#[tokio::test]
async fn filename_and_download() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/dir-with-files.car");
        let path = format!("/ipfs/{root}/ascii.txt");
        let r = f.get(&format!("{path}?filename=a%20b.txt")).await;
        assert_eq!(r.h("content-disposition"), "inline; filename=\"a b.txt\"");
        let r = f.get(&format!("{path}?filename=r.bin&download=true")).await;
        assert_eq!(r.h("content-disposition"), "attachment; filename=\"r.bin\"");
        // the filename's extension decides the type
        assert_eq!(r.h("content-type"), "application/octet-stream");
    }
}

#[tokio::test]
async fn cors_on_get_and_preflight() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/dir-with-files.car");
        let r = f.get(&format!("/ipfs/{root}/ascii.txt")).await;
        assert_eq!(r.h("access-control-allow-origin"), "*");
        assert!(r.h("access-control-allow-methods").contains("GET"));
        assert!(r.h("access-control-expose-headers").contains("X-Ipfs-Path"));
        let r = send(
            &f.app,
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
}
