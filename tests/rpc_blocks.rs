//! `block`, `dag`, `pin`, `repo` through a running daemon give the same output as offline, and
//! their RPC errors are 4xx with Kubo's error body. Each test runs in a loopback-only namespace.

mod cli_common;
mod rpc_common;

use cli_common::{Daemon, Wanda, in_loopback_netns, seed_bytes, write};
use rpc_common::{assert_client_error, base, both_fail, post, same};

fn bytes(w: &Wanda, args: &[&str]) -> Vec<u8> {
    let out = w.cmd().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `repo stat` without the lines that differ between two repos (path, disk size).
fn stat_counts(w: &Wanda) -> Vec<String> {
    w.ok(&["repo", "stat"])
        .lines()
        .filter(|l| {
            l.starts_with("NumObjects") || l.starts_with("BlockBytes") || l.starts_with("Version")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn blocks_dags_pins_and_gc_through_the_daemon_match_offline() {
    if !in_loopback_netns("blocks_dags_pins_and_gc_through_the_daemon_match_offline") {
        return;
    }
    let offline = Wanda::init();
    let d = Daemon::start(&[]);
    let blk = offline.path("blk");
    write(&blk, b"block bytes");
    let b = blk.to_str().unwrap();
    let cbor = offline.path("cbor");
    write(&cbor, &[0xa1, 0x61, 0x61, 0x01]);
    // block put / get / stat / rm
    let cid = same(&offline, &d, &["block", "put", b]).trim().to_string();
    same(
        &offline,
        &d,
        &[
            "block",
            "put",
            "--cid-codec",
            "dag-cbor",
            "--pin",
            cbor.to_str().unwrap(),
        ],
    );
    assert_eq!(
        bytes(&offline, &["block", "get", &cid]),
        bytes(&d.w, &["block", "get", &cid])
    );
    same(&offline, &d, &["block", "stat", &cid]);
    same(&offline, &d, &["block", "rm", &cid]);
    both_fail(&offline, &d, &["block", "stat", &cid], "not found");
    both_fail(&offline, &d, &["block", "rm", &cid], "not found");
    same(&offline, &d, &["block", "rm", "--force", &cid]);
    both_fail(
        &offline,
        &d,
        &["block", "put", "--cid-codec", "dag-cbor", b],
        "decode",
    );
    both_fail(
        &offline,
        &d,
        &["block", "put", "--cid-codec", "sha1", b],
        "cid-codec",
    );
    // a DAG: add unpinned, pin it, export, gc, import
    let f = offline.path("m42.fits");
    write(&f, &seed_bytes("pins", 600_000));
    let root = same(
        &offline,
        &d,
        &["add", "-Q", "--pin=false", f.to_str().unwrap()],
    )
    .trim()
    .to_string();
    same(&offline, &d, &["pin", "add", &root]);
    same(&offline, &d, &["pin", "ls"]);
    same(&offline, &d, &["pin", "ls", "-t", "indirect"]);
    same(&offline, &d, &["pin", "ls", "-q", "--type", "recursive"]);
    both_fail(
        &offline,
        &d,
        &["pin", "ls", "-t", "sideways"],
        "invalid pin type",
    );
    let car = bytes(&offline, &["dag", "export", &root]);
    assert_eq!(car, bytes(&d.w, &["dag", "export", &root]));
    assert_eq!(stat_counts(&offline), stat_counts(&d.w));
    same(&offline, &d, &["repo", "gc", "-q"]);
    same(&offline, &d, &["pin", "rm", &root]);
    both_fail(&offline, &d, &["pin", "rm", &root], "not pinned");
    same(&offline, &d, &["repo", "gc"]);
    assert_eq!(stat_counts(&offline), stat_counts(&d.w));
    both_fail(&offline, &d, &["dag", "export", &root], "not found");
    let car_path = offline.path("m42.car");
    std::fs::write(&car_path, &car).unwrap();
    let c = car_path.to_str().unwrap();
    same(&offline, &d, &["dag", "import", c]);
    same(&offline, &d, &["dag", "import", "--pin-roots=false", c]);
    let corrupt = offline.path("bad.car");
    let mut bad = car.clone();
    let n = bad.len();
    bad[n - 10] ^= 0xff;
    std::fs::write(&corrupt, &bad).unwrap();
    both_fail(
        &offline,
        &d,
        &["dag", "import", corrupt.to_str().unwrap()],
        "bad.car",
    );
    same(&offline, &d, &["refs", "-r", &root]);
    assert_eq!(stat_counts(&offline), stat_counts(&d.w));
    // the daemon's repo path is the daemon's
    assert!(
        d.w.ok(&["repo", "stat"])
            .contains(d.w.repo.to_str().unwrap())
    );
    d.w.fails(&["repo", "verify"], "wanda daemon");
    assert!(d.stop());
}

#[test]
fn block_dag_pin_repo_rpc_errors_are_4xx_with_kubo_bodies() {
    if !in_loopback_netns("block_dag_pin_repo_rpc_errors_are_4xx_with_kubo_bodies") {
        return;
    }
    let d = Daemon::start(&[]);
    let base = base(&d);
    let missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    assert_client_error(&base, "/api/v0/block/get", "required");
    assert_client_error(&base, "/api/v0/block/get?arg=nope", "invalid CID");
    assert_client_error(
        &base,
        &format!("/api/v0/block/get?arg={missing}&offline=true"),
        "not found",
    );
    assert_client_error(
        &base,
        &format!("/api/v0/block/stat?arg={missing}&offline=true"),
        "not found",
    );
    assert_client_error(
        &base,
        &format!("/api/v0/block/stat?arg={missing}&timeout=soon"),
        "timeout",
    );
    assert_client_error(&base, "/api/v0/block/rm", "required");
    assert_client_error(&base, "/api/v0/block/put?cid-codec=git-raw", "cid-codec");
    assert_client_error(&base, "/api/v0/block/put", "multipart");
    assert_client_error(&base, "/api/v0/dag/export?arg=nope", "invalid CID");
    assert_client_error(&base, "/api/v0/dag/import", "multipart");
    assert_client_error(&base, "/api/v0/pin/add", "required");
    assert_client_error(
        &base,
        &format!("/api/v0/pin/add?arg={missing}&offline=true"),
        "not found",
    );
    assert_client_error(
        &base,
        &format!("/api/v0/pin/rm?arg={missing}"),
        "not pinned",
    );
    assert_client_error(&base, "/api/v0/pin/ls?type=sideways", "invalid pin type");
    assert_client_error(
        &base,
        &format!("/api/v0/pin/ls?arg={missing}"),
        "is not pinned",
    );
    assert_client_error(&base, "/api/v0/refs", "required");
    assert_client_error(
        &base,
        "/api/v0/refs?arg=QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR&edges=true&format=x",
        "edges",
    );
    assert_client_error(
        &base,
        "/api/v0/repo/stat?size-only=perhaps",
        "not a boolean",
    );
    // block/put over Kubo multipart; the answer is Kubo's
    let ct = [("Content-Type", "multipart/form-data; boundary=B")];
    let body = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\nhi\r\n--B--\r\n";
    let (status, text) = post(&base, "/api/v0/block/put?pin=true", &ct, body.as_bytes());
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["Size"], 2);
    let key = v["Key"].as_str().unwrap().to_string();
    let (status, text) = post(&base, &format!("/api/v0/pin/ls?arg={key}"), &[], b"");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    assert_eq!(v["Keys"][&key]["Type"], "direct");
    let too_big = format!(
        "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n{}\r\n--B--\r\n",
        "x".repeat((2 << 20) + 1)
    );
    let (status, text) = post(&base, "/api/v0/block/put", &ct, too_big.as_bytes());
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("2 MiB"), "{text}");
    let (status, text) = post(&base, "/api/v0/block/rm?arg=", &[], b"");
    assert!((400..500).contains(&status), "{status} {text}");
    let (status, text) = post(&base, &format!("/api/v0/block/rm?arg={key}"), &[], b"");
    assert_eq!(status, 200);
    assert!(text.contains("pinned"), "{text}");
    // repo/stat shape
    let (status, text) = post(&base, "/api/v0/repo/stat", &[], b"");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for k in [
        "RepoSize",
        "StorageMax",
        "NumObjects",
        "RepoPath",
        "Version",
    ] {
        assert!(!v[k].is_null(), "{k} missing: {text}");
    }
    assert!(d.stop());
}
