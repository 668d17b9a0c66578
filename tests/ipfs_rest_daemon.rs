//! WANDA's IPFS REST routes (`/api/ipfs/*`) through real daemons on the main listener: every
//! route and error code, next to the app's API (its catch-all `/api/{*rest}` must not shadow
//! them) and the `/ipfs` gateway. Two daemons in a network namespace with only `lo`.

mod app_common;
mod cli_common;

use app_common::*;
use cli_common::{Daemon, in_loopback_netns, seed_bytes, write};
use serde_json::{Value, json};
use std::time::Duration;

/// `echo "hello world" | ipfs add`.
const HELLO_CID: &str = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o";
const MISSING: &str = "bafkreie7ohywtosou76tasm7j63yigtzxe7d5zqus4zu3j6oltvgtibeom";

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

struct Resp {
    status: u16,
    headers: ureq::http::HeaderMap,
    body: Vec<u8>,
}

impl Resp {
    fn from(mut r: ureq::http::Response<ureq::Body>) -> Self {
        Resp {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r
                .body_mut()
                .with_config()
                .limit(1 << 30)
                .read_to_vec()
                .unwrap(),
        }
    }

    fn h(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn data(&self) -> Value {
        let v = self.json();
        assert_eq!((self.status, &v["success"]), (200, &json!(true)), "{v}");
        v["data"].clone()
    }

    fn fails(&self, status: u16, code: &str) {
        let v = self.json();
        assert_eq!(
            (self.status, v["code"].as_str()),
            (status, Some(code)),
            "{v}"
        );
        assert_eq!(v["success"], false);
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
}

fn get_r(url: &str) -> Resp {
    Resp::from(agent().get(url).call().unwrap())
}

/// GET from a page of another site: a visitor's read.
fn get_foreign(url: &str) -> Resp {
    Resp::from(
        agent()
            .get(url)
            .header("Origin", "http://ui.test")
            .call()
            .unwrap(),
    )
}

fn post_r(url: &str, ctype: &str, body: &[u8]) -> Resp {
    Resp::from(
        agent()
            .post(url)
            .header("Content-Type", ctype)
            .send(body)
            .unwrap(),
    )
}

fn post_j(url: &str, body: &Value) -> Resp {
    post_r(url, "application/json", body.to_string().as_bytes())
}

fn delete_r(url: &str) -> Resp {
    Resp::from(agent().delete(url).call().unwrap())
}

fn multipart(filename: &str, data: &[u8]) -> (String, Vec<u8>) {
    let b = "wanda-daemon-test";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n\
         Content-Type: image/jpeg\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{b}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={b}"), body)
}

#[test]
fn ipfs_rest_routes_through_the_daemon() {
    if !in_loopback_netns("ipfs_rest_routes_through_the_daemon") {
        return;
    }
    let a = Daemon::start(&[]);
    // B's repo may hold 40 MB (the empty datastore takes a little of it)
    let b = Daemon::start(&[("storage.max_storage", "40MB")]);
    let (base_a, base_b) = (base_url(&a.w.repo), base_url(&b.w.repo));
    let id_a: Value = serde_json::from_str(&a.w.ok(&["id"])).unwrap();
    let peer_a = id_a["ID"].as_str().unwrap().to_string();

    // status: online, A's identity and listen addresses, the configured maximum
    // reads are open to other sites' pages (CORS `*`, never with credentials)
    let r = get_foreign(&format!("{base_a}/api/ipfs/status"));
    assert_eq!(r.h("access-control-allow-origin"), "*");
    assert_eq!(r.h("access-control-allow-credentials"), "");
    let s = r.data();
    assert_eq!(s["online"], true);
    assert_eq!(s["peer_id"], peer_a);
    let addr_a = s["addresses"][0].as_str().unwrap().to_string();
    assert!(addr_a.ends_with(&format!("/p2p/{peer_a}")), "{addr_a}");
    assert_eq!(s["repo"]["max_bytes"], 10_000_000_000u64);
    assert_eq!(s["peers"], 0);
    let s = get_r(&format!("{base_b}/api/ipfs/status")).data();
    assert_eq!(s["repo"]["max_bytes"], 40_000_000u64);

    // adding: raw body (Kubo's CID), multipart file; the same CIDs as `wanda add`
    let d = post_r(
        &format!("{base_a}/api/ipfs/content"),
        "application/octet-stream",
        b"hello world\n",
    )
    .data();
    assert_eq!(d, json!({"cid": HELLO_CID, "size": 12, "name": null}));
    let image = seed_bytes("ipfs-rest-daemon", 5 << 20);
    let file = a.w.path("m42.jpg");
    write(&file, &image);
    let want =
        a.w.ok(&["add", "-n", "-Q", file.to_str().unwrap()])
            .trim()
            .to_string();
    let (ctype, body) = multipart("m42.jpg", &image);
    let d = post_r(&format!("{base_a}/api/ipfs/content"), &ctype, &body).data();
    assert_eq!(d, json!({"cid": want, "size": 5 << 20, "name": "m42.jpg"}));
    let cid = want;

    // stats and pins
    let st = get_r(&format!("{base_a}/api/ipfs/stats")).data();
    assert!(st["blocks"].as_u64().unwrap() >= 22, "{st}");
    assert!(st["bytes"].as_u64().unwrap() > 5 << 20, "{st}");
    assert!(st["pins"]["recursive"].as_u64().unwrap() >= 2, "{st}");
    let pins = get_r(&format!("{base_a}/api/ipfs/pins?type=recursive&limit=1000")).data();
    let listed: Vec<&Value> = pins["pins"].as_array().unwrap().iter().collect();
    assert!(
        listed.contains(&&json!({"cid": cid, "type": "recursive", "name": "m42.jpg"})),
        "{pins}"
    );
    assert!(listed.iter().any(|p| p["cid"] == HELLO_CID), "{pins}");
    let ind = get_r(&format!(
        "{base_a}/api/ipfs/pins?type=indirect&limit=5&offset=0"
    ))
    .data();
    assert_eq!(ind["pins"].as_array().unwrap().len(), 5);
    assert!(ind["total"].as_u64().unwrap() >= 20);

    // content: raw with type and disposition, json, redirect to the gateway
    let r = get_r(&format!(
        "{base_a}/api/ipfs/content/{cid}?download=true&filename=m42.jpg"
    ));
    assert_eq!(r.status, 200);
    assert!(r.body == image, "bytes differ");
    assert_eq!(r.h("content-type"), "image/jpeg");
    assert_eq!(
        r.h("content-disposition"),
        "attachment; filename=\"m42.jpg\""
    );
    let j = get_r(&format!("{base_a}/api/ipfs/content/{cid}?format=json")).data();
    assert_eq!((&j["type"], &j["size"]), (&json!("file"), &json!(5 << 20)));
    assert_eq!(j["links"].as_array().unwrap().len(), 20);
    let r = get_r(&format!("{base_a}/api/ipfs/content/{cid}?format=redirect"));
    assert_eq!(
        (r.status, r.h("location")),
        (302, format!("/ipfs/{cid}").as_str())
    );
    let (s, body) = get(&format!("{base_a}{}", r.h("location")));
    assert!(s == 200 && body == image);

    // B connects to A and sees a WANDA peer
    let d = post_j(
        &format!("{base_b}/api/ipfs/peers/connect"),
        &json!({"multiaddr": addr_a}),
    )
    .data();
    assert_eq!(d["peer_id"], peer_a);
    wait_for("A listed as a WANDA peer of B", 20, || {
        let p = get_r(&format!("{base_b}/api/ipfs/peers?wanda_only=true")).data();
        (p["count"] == 1).then_some(p)
    });
    let p = get_r(&format!("{base_b}/api/ipfs/peers?wanda_only=false")).data();
    assert_eq!(p["peers"][0]["peer_id"], peer_a);
    assert_eq!(p["peers"][0]["is_wanda"], true);
    let s = get_r(&format!("{base_b}/api/ipfs/status")).data();
    assert_eq!(
        (s["peers"].as_u64(), s["wanda_peers"].as_u64()),
        (Some(1), Some(1))
    );

    // B pins A's image over the network, then has it locally
    let d = post_j(
        &format!("{base_b}/api/ipfs/pins"),
        &json!({"cid": cid, "name": "from A"}),
    )
    .data();
    assert_eq!(
        d,
        json!({"cid": cid, "type": "recursive", "name": "from A"})
    );
    let r = get_r(&format!("{base_b}/api/ipfs/content/{cid}?offline=true"));
    assert!(r.status == 200 && r.body == image);
    let st = get_r(&format!("{base_b}/api/ipfs/stats")).data();
    assert!(
        st["bandwidth"]["total_in"].as_u64().unwrap() > 5 << 20,
        "{st}"
    );
    assert_eq!(st["pins"]["recursive"], 1);
    let d = delete_r(&format!("{base_b}/api/ipfs/pins/{cid}")).data();
    assert_eq!(
        d,
        json!({"cid": cid, "type": "recursive", "name": "from A"})
    );

    // every error code
    delete_r(&format!("{base_b}/api/ipfs/pins/{cid}")).fails(404, "IPFS_CID_NOT_FOUND");
    get_r(&format!("{base_b}/api/ipfs/content/{MISSING}?offline=true"))
        .fails(404, "IPFS_CID_NOT_FOUND");
    get_r(&format!("{base_b}/api/ipfs/content/not-a-cid")).fails(400, "IPFS_INVALID_CID");
    delete_r(&format!("{base_b}/api/ipfs/pins/Qm123")).fails(400, "IPFS_INVALID_CID");
    post_j(&format!("{base_b}/api/ipfs/pins"), &json!({"cid": "zzz"}))
        .fails(400, "IPFS_INVALID_CID");
    post_j(
        &format!("{base_b}/api/ipfs/pins"),
        &json!({"cid": MISSING, "timeout": 1}),
    )
    .fails(504, "IPFS_TIMEOUT");
    get_r(&format!("{base_b}/api/ipfs/content/{MISSING}?timeout=1")).fails(504, "IPFS_TIMEOUT");
    // a visitor (here: another site's page) is answered from the local store only
    // (gateway.no_fetch): no network wait, a 404 that says so
    let r = get_foreign(&format!("{base_b}/api/ipfs/content/{MISSING}?timeout=1"));
    r.fails(404, "IPFS_CID_NOT_FOUND");
    let big = seed_bytes("too-big", 48 << 20);
    post_r(
        &format!("{base_b}/api/ipfs/content"),
        "application/octet-stream",
        &big,
    )
    .fails(507, "IPFS_STORAGE_FULL");
    let (ctype, body) = multipart("big.bin", &big);
    post_r(&format!("{base_b}/api/ipfs/content"), &ctype, &body).fails(507, "IPFS_STORAGE_FULL");
    assert_eq!(
        get_r(&format!("{base_b}/api/ipfs/stats")).data()["pins"]["total"],
        0
    );
    post_j(
        &format!("{base_b}/api/ipfs/peers/connect"),
        &json!({"multiaddr": "/ip4/127.0.0.1/tcp/1"}),
    )
    .fails(503, "IPFS_PEER_UNREACHABLE");
    for (url, body) in [
        ("pins", "{"),
        ("pins", "[]"),
        ("pins", "{\"cid\": 42}"),
        ("peers/connect", "{}"),
        ("peers/connect", "{\"multiaddr\": \"not/a/multiaddr\"}"),
    ] {
        post_r(
            &format!("{base_b}/api/ipfs/{url}"),
            "application/json",
            body.as_bytes(),
        )
        .fails(400, "INVALID_REQUEST");
    }
    for q in ["pins?type=odd", "pins?limit=x", "peers?wanda_only=2"] {
        get_r(&format!("{base_b}/api/ipfs/{q}")).fails(400, "INVALID_REQUEST");
    }
    get_r(&format!("{base_b}/api/ipfs/content/{HELLO_CID}?format=tar"))
        .fails(400, "INVALID_REQUEST");
    Resp::from(
        agent()
            .put(&format!("{base_b}/api/ipfs/status"))
            .send(&b""[..])
            .unwrap(),
    )
    .fails(405, "METHOD_NOT_ALLOWED");

    // the app's routes and its JSON 404 for unknown /api paths are still there
    get_r(&format!("{base_b}/api/ipfs/nothing-here")).fails(404, "NOT_FOUND");
    get_r(&format!("{base_b}/api/nothing")).fails(404, "NOT_FOUND");
    let (s, v) = get_json(&format!("{base_b}/api/camera/status"));
    assert_eq!((s, &v["success"]), (200, &json!(true)));

    assert!(b.stop(), "daemon B exited badly");
    assert!(a.stop(), "daemon A exited badly");
}
