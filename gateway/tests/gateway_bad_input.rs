//! Hostile and malformed requests: every one must get a 4xx with a message, never a 5xx or a
//! panic. Runs a few hundred requests in-process and a few raw ones over a loopback socket,
//! against the generated fixture set and then the official gateway-conformance fixtures when
//! their folder exists (see `gateway_common`).

mod gateway_common;

use axum::http::Method;
use gateway_common::*;
use std::io::{Read, Write};

fn bad_cids() -> Vec<String> {
    let mut v: Vec<String> = [
        "x",
        "Qm",
        "Qm123",
        "bafy",
        "bafyINVALID",
        "baf!",
        "zzzz",
        "0",
        "1",
        "f0",
        "f01",
        "k51",
        "bafkqaaa!",
        "bafkqaa",
        "QmYzfKSE55XCjD1MW128RfciAf2DViABhEiXfgVFMabSjNX",
        "QmYzfKSE55XCjD1MW128RfciAf2DViABhEiXfgVFMabSj0",
        "%20",
        "%00",
        "..",
        "%2e%2e",
        "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzd",
        "mAXASIBOL",
        "uAXASIA",
        "b",
        "B",
        "f",
        "F",
        "m",
        "u",
        "z",
        "%F0%9F%92%A9",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("a".repeat(5000));
    v.push("Q".repeat(300));
    v
}

fn bad_names() -> Vec<String> {
    [
        "example.com",
        "k51",
        "k51qzi5uqu5d",
        "12D3KooWinvalid",
        "Qm",
        "bafkqaaa",
        "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
        "..",
        "%2F",
        "%ff",
        "localhost",
        "-",
        "_",
        "k2k4r8ol4m8kkcqz509c1rcjwunebj02gcnm5excpx842u736nja8ge",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Method, path and query, headers.
type BadRequest = (Method, String, Vec<(&'static str, String)>);

fn assert_4xx(r: &Resp, what: &str) {
    assert!(
        (400..500).contains(&r.status),
        "{what}: status {} body {}",
        r.status,
        r.text()
    );
    assert!(
        !r.body.is_empty() || r.status == 405 || r.status == 412,
        "{what}: no message"
    );
}

#[tokio::test]
async fn hundreds_of_bad_requests_are_all_4xx() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/dir-with-files.car");
        let file = format!("/ipfs/{root}/ascii.txt");
        let mut reqs: Vec<BadRequest> = Vec::new();
        let get = |p: String| (Method::GET, p, Vec::new());

        for cid in bad_cids() {
            for suffix in [
                "",
                "/",
                "/a",
                "?format=raw",
                "?format=car",
                "/a/b?filename=x",
            ] {
                reqs.push(get(format!("/ipfs/{cid}{suffix}")));
            }
        }
        for name in bad_names() {
            for suffix in ["", "/", "/x", "?format=ipns-record"] {
                reqs.push(get(format!("/ipns/{name}{suffix}")));
            }
        }
        for p in ["/ipfs", "/ipfs/", "/ipns", "/ipns/", "/ipfs//", "/ipns//x"] {
            reqs.push(get(p.to_string()));
        }
        // traversal, encoded slashes, invalid UTF-8, NUL
        for seg in [
            "..",
            "%2e%2e",
            "%2E%2E",
            ".",
            "%2e",
            "a%2Fb",
            "a%2fb",
            "%2F",
            "a%5Cb",
            "%5C..",
            "%ff",
            "%c3%28",
            "%80",
            "%ed%a0%80",
            "%00",
            "a%00b",
            "%f8%88%80%80%80",
        ] {
            reqs.push(get(format!("/ipfs/{root}/{seg}")));
            reqs.push(get(format!("/ipfs/{root}/{seg}/ascii.txt")));
            reqs.push(get(format!("/ipfs/{root}/x/{seg}")));
        }
        for q in ["filename=%ff", "format=%ff", "a=%c3%28", "dag-scope=%80"] {
            reqs.push(get(format!("{file}?{q}")));
        }
        // bad formats and trustless parameters
        for q in [
            "format=xyz",
            "format=RAW",
            "format=tar",
            "format=car&dag-scope=everything",
            "format=car&dag-scope=",
            "format=car&entity-bytes=1",
            "format=car&entity-bytes=a:b",
            "format=car&entity-bytes=5:1",
            "format=car&entity-bytes=1:2:3",
            "format=car&entity-bytes=99999999999999999999:*",
            "format=ipns-record",
            "format=dag-json",
            "format=cbor",
        ] {
            reqs.push(get(format!("{file}?{q}")));
        }
        for accept in [
            "application/vnd.ipld.car; version=2",
            "application/vnd.ipld.car; order=bfs",
            "application/vnd.ipld.car; dups=maybe",
            "application/vnd.ipfs.ipns-record",
        ] {
            reqs.push((
                Method::GET,
                file.clone(),
                vec![("Accept", accept.to_string())],
            ));
        }
        // absurd Range headers
        for range in [
            "bytes=",
            "bytes=-",
            "bytes=--1",
            "bytes=a-b",
            "bytes=5-1",
            "bytes=1",
            "bytes 0-1",
            "items=0-1",
            "bytes=99999999999999999999999-",
            "bytes=0-99999999999999999999999",
            "bytes=-99999999999999999999999",
            "bytes=31-",
            "bytes=100-200",
            "bytes=-0",
            "bytes=18446744073709551615-",
            "bytes=,,,",
            "bytes=0-0,a",
            "=0-1",
            "bytes==0-1",
            "bytes=+1-2",
            "bytes=0x10-0x20",
            "bytes=1.5-2",
        ] {
            reqs.push((
                Method::GET,
                file.clone(),
                vec![("Range", range.to_string())],
            ));
        }
        let many = format!("bytes={}", vec!["0-0"; 1000].join(","));
        reqs.push((Method::GET, file.clone(), vec![("Range", many)]));
        // oversized URIs and too many segments
        reqs.push(get(format!("{file}/{}", "a".repeat(9000))));
        reqs.push(get(format!("{file}?q={}", "a".repeat(9000))));
        reqs.push(get(format!("/ipfs/{root}/{}", vec!["a"; 300].join("/"))));
        // non-ASCII header values where we read them
        // methods the gateway does not serve
        for m in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            reqs.push((m, file.clone(), Vec::new()));
        }
        // content that is not there
        for p in [
            format!("/ipfs/{root}/nope"),
            format!("/ipfs/{root}/ascii.txt/deeper"),
            "/ipfs/QmYzfKSE55XCjD1MW128RfciAf2DViABhEiXfgVFMabSjN".to_string(),
            "/ipns/k51qzi5uqu5dlvj2baxnqndepeb86cbk3ng7n3i46uzyxzyqj2xjonzllnv0v8".to_string(),
        ] {
            reqs.push(get(p));
        }

        assert!(reqs.len() >= 300, "{}", reqs.len());
        let app = &f.app;
        for (method, path, headers) in &reqs {
            let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let r = send(app, method.clone(), path, &h).await;
            assert_4xx(
                &r,
                &format!("{method} {} {headers:?}", &path[..path.len().min(120)]),
            );
        }
        eprintln!("{} bad requests, all 4xx", reqs.len());
    }
}

#[tokio::test]
async fn specific_statuses() {
    for f in fixtures() {
        let root = f.root_of("path_gateway_unixfs/dir-with-files.car");
        let file = format!("/ipfs/{root}/ascii.txt");
        assert_eq!(f.get(&format!("/ipfs/{root}/..")).await.status, 400);
        assert_eq!(f.get(&format!("/ipfs/{root}/a%2Fb")).await.status, 400);
        assert_eq!(f.get(&format!("/ipfs/{root}/%ff")).await.status, 400);
        assert_eq!(f.get("/ipfs/not-a-cid").await.status, 400);
        assert_eq!(f.get("/ipns/example.com").await.status, 400);
        assert_eq!(
            f.get(&format!("{file}/{}", "a".repeat(9000))).await.status,
            414
        );
        let r = f.get_h(&file, &[("Range", "bytes=100-200")]).await;
        assert_eq!(r.status, 416);
        assert_eq!(r.h("content-range"), "bytes */31");
        assert_eq!(f.get_h(&file, &[("Range", "bytes=a-b")]).await.status, 400);
        let r = send(&f.app, Method::POST, &file, &[]).await;
        assert_eq!(r.status, 405);
        assert_eq!(r.h("allow"), "GET, HEAD, OPTIONS");
        assert_eq!(f.get(&format!("{file}?format=xyz")).await.status, 400);
        assert_eq!(f.get(&format!("{file}?format=cbor")).await.status, 406);
    }
}

/// Raw bytes over a real socket: what axum's typed request never sees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_socket_garbage() {
    for f in fixtures() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = f.app.clone();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let root = f.root_of("path_gateway_unixfs/dir-with-files.car");
        let cases: Vec<Vec<u8>> = vec![
        b"GET /ipfs/\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        [
            format!("GET /ipfs/{root}/").as_bytes(),
            b"\xc3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ]
        .concat(),
        format!("GET /ipfs/{root}/../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").into_bytes(),
        [
            format!("GET /ipfs/{root}/ascii.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nRange: bytes=").as_bytes(),
            b"\xff-\r\n\r\n",
        ]
        .concat(),
        format!(
            "GET /ipfs/{root}/ascii.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: {}\r\n\r\n",
            "a".repeat(1_000_000)
        )
        .into_bytes(),
        b"GARBAGE\r\n\r\n".to_vec(),
    ];
        for (i, bytes) in cases.into_iter().enumerate() {
            let status = tokio::task::spawn_blocking(move || {
                let mut s = std::net::TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                    .unwrap();
                let _ = s.write_all(&bytes);
                let mut buf = Vec::new();
                let _ = s.read_to_end(&mut buf);
                let text = String::from_utf8_lossy(&buf).to_string();
                text.split(' ').nth(1).unwrap_or("").to_string()
            })
            .await
            .unwrap();
            let code: u16 = status
                .parse()
                .unwrap_or_else(|_| panic!("case {i}: no status"));
            assert!((400..500).contains(&code), "case {i}: {code}");
        }
    }
}
