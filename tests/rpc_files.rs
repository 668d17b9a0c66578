//! `add`, `get`, `ls`, `refs` through a running daemon give the same output as offline, and
//! `get` fetches what only a peer has. Each test runs in its own loopback-only network namespace.

mod cli_common;
mod rpc_common;

use cli_common::{Daemon, Wanda, in_loopback_netns, seed_bytes, write};
use rpc_common::{assert_client_error, base, both_fail, post, same, tree};

/// A tree with nesting, an empty directory, a hidden file, a symlink, a name longer than a tar
/// header holds and a multi-chunk file.
fn make_tree(w: &Wanda) -> std::path::PathBuf {
    let root = w.path("m42");
    write(&root.join("a.txt"), b"alpha");
    write(&root.join("sub/b.bin"), &seed_bytes("b", 70_000));
    write(&root.join("sub/deeper/c.raw"), &seed_bytes("c", 3 << 20));
    write(&root.join(".hidden"), b"secret");
    write(
        &root.join(format!("{}.fits", "n".repeat(120))),
        b"long name",
    );
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
    root
}

#[test]
fn add_get_ls_refs_through_the_daemon_match_offline() {
    if !in_loopback_netns("add_get_ls_refs_through_the_daemon_match_offline") {
        return;
    }
    let offline = Wanda::init();
    let d = Daemon::start(&[]);
    let src = make_tree(&offline);
    let s = src.to_str().unwrap();
    let big = offline.path("big.bin");
    write(&big, &seed_bytes("big", 1_500_000));
    let b = big.to_str().unwrap();
    // the same flags give the same lines (names, CIDs, order)
    let out = same(&offline, &d, &["add", "-r", s]);
    assert!(out.lines().count() >= 9, "{out}");
    same(
        &offline,
        &d,
        &["add", "-r", "-H", "--cid-version=1", "-w", s, b],
    );
    same(
        &offline,
        &d,
        &["add", "--raw-leaves", "--chunker=size-1000", "--trickle", b],
    );
    same(&offline, &d, &["add", "-q", "--pin=false", "-r", s]);
    let root = same(&offline, &d, &["add", "-Q", "-r", s])
        .trim()
        .to_string();
    // stdin: named by its CID
    let stdin_add = |w: &Wanda| {
        let mut c = w.cmd();
        c.arg("add").stdin(std::fs::File::open(&big).unwrap());
        String::from_utf8(c.output().unwrap().stdout).unwrap()
    };
    let a = stdin_add(&offline);
    assert!(a.starts_with("added Qm"), "{a}");
    assert_eq!(a, stdin_add(&d.w));
    // listing and walking
    same(&offline, &d, &["ls", &root]);
    same(&offline, &d, &["ls", &format!("{root}/sub")]);
    same(&offline, &d, &["refs", &root]);
    same(&offline, &d, &["refs", "-r", &root]);
    same(&offline, &d, &["refs", "-r", "-u", &root]);
    // get: the same tree on disk (content, empty dir, symlink, long name)
    let (o1, o2) = (offline.path("got-offline"), d.w.path("got-daemon"));
    offline.ok(&["get", &root, "-o", o1.to_str().unwrap()]);
    d.w.ok(&["get", &root, "-o", o2.to_str().unwrap()]);
    assert_eq!(tree(&o1), tree(&o2));
    assert!(
        tree(&o2)
            .iter()
            .any(|(p, k)| p == "link" && k == "link a.txt")
    );
    assert!(o2.join("empty").is_dir());
    // a single file by path, default output name = last segment (in the current directory)
    let out =
        d.w.cmd()
            .current_dir(d.w.tmp.path())
            .args(["get", &format!("{root}/sub/b.bin")])
            .output()
            .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(d.w.path("b.bin")).unwrap(),
        seed_bytes("b", 70_000)
    );
    // errors: same messages as offline, repo unchanged
    let before = d.w.snapshot();
    both_fail(&offline, &d, &["add", s], "use the '-r' flag");
    both_fail(&offline, &d, &["add", "--cid-version=2", b], "cid-version");
    both_fail(&offline, &d, &["add", "--chunker=rabin", b], "chunker");
    both_fail(&offline, &d, &["ls", "notacid"], "invalid CID");
    both_fail(&offline, &d, &["get", "notacid"], "invalid CID");
    both_fail(
        &offline,
        &d,
        &["ls", &format!("{root}/a.txt")],
        "expected a directory",
    );
    both_fail(
        &offline,
        &d,
        &["get", &format!("{root}/nope")],
        "no link named `nope`",
    );
    d.w.fails(
        &["get", &root, "-o", o2.to_str().unwrap()],
        "already exists",
    );
    assert_eq!(d.w.snapshot(), before);
    assert!(d.stop());
}

#[test]
fn add_rpc_speaks_kubo_multipart_and_reports_bad_requests_as_4xx() {
    if !in_loopback_netns("add_rpc_speaks_kubo_multipart_and_reports_bad_requests_as_4xx") {
        return;
    }
    let d = Daemon::start(&[]);
    let base = base(&d);
    let offline = Wanda::init();
    let dir = offline.path("d");
    write(&dir.join("x.txt"), b"hello x");
    write(&dir.join("s/y.txt"), b"hello y");
    let want = offline.ok(&["add", "-r", "--cid-version=1", dir.to_str().unwrap()]);
    // Kubo's layout, with an Abspath header, %-escaped names and progress
    let part = |name: &str, ct: &str, body: &str| {
        format!(
            "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Abspath: /somewhere/{name}\r\nContent-Type: {ct}\r\n\r\n{body}\r\n"
        )
    };
    let body = [
        part("d", "application/x-directory", ""),
        part("d%2Fs", "application/x-directory", ""),
        part("d%2Fs%2Fy.txt", "application/octet-stream", "hello y"),
        part("d%2Fx.txt", "application/octet-stream", "hello x"),
        "--B--\r\n".to_string(),
    ]
    .concat();
    let ct = [("Content-Type", "multipart/form-data; boundary=B")];
    let (status, text) = post(
        &base,
        "/api/v0/add?cid-version=1&progress=true",
        &ct,
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{text}");
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["Name"] == "d/s/y.txt" && e["Bytes"] == 7)
    );
    let added: Vec<String> = events
        .iter()
        .filter(|e| e["Hash"].is_string())
        .map(|e| {
            format!(
                "added {} {}",
                e["Hash"].as_str().unwrap(),
                e["Name"].as_str().unwrap()
            )
        })
        .collect();
    // Kubo's client sends children in its own order; the CIDs are what must agree
    let mut want_lines: Vec<&str> = want.lines().collect();
    let mut got_lines: Vec<&str> = added.iter().map(String::as_str).collect();
    want_lines.sort();
    got_lines.sort();
    assert_eq!(got_lines, want_lines);
    assert!(
        events
            .iter()
            .all(|e| !e["Hash"].is_string() || e["Size"].is_string())
    );
    // bad input: 4xx with Kubo's error body, never 5xx
    let bad = |path: &str, body: &str, needle: &str| {
        let (status, text) = post(&base, path, &ct, body.as_bytes());
        assert!((400..500).contains(&status), "{path}: {status} {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(v["Message"].as_str().unwrap().contains(needle), "{text}");
    };
    bad("/api/v0/add?cid-version=7", &body, "CID version");
    bad("/api/v0/add?chunker=buzhash", &body, "chunker");
    bad("/api/v0/add?pin=maybe", &body, "not a boolean");
    bad("/api/v0/add?hash=blake3", &body, "sha2-256");
    bad("/api/v0/add", "--B--\r\n", "nothing to add");
    // a bad argument with a large upload: the error comes back (no broken pipe while the client
    // is still writing the body)
    let big = [
        part("big.bin", "application/octet-stream", &"x".repeat(24 << 20)),
        "--B--\r\n".to_string(),
    ]
    .concat();
    bad("/api/v0/add?hash=blake3", &big, "sha2-256");
    bad("/api/v0/dag/import?pin-roots=maybe", &big, "not a boolean");
    bad("/api/v0/block/put?mhtype=md5", &big, "sha2-256");
    bad(
        "/api/v0/add",
        &[part("..%2Fescape", "text/plain", "x"), "--B--\r\n".into()].concat(),
        "..",
    );
    let split = [
        part("a%2Fx", "text/plain", "x"),
        part("b", "text/plain", "y"),
        part("a%2Fy", "text/plain", "z"),
        "--B--\r\n".into(),
    ];
    // found after the first line went out: the stream ends with Kubo's error object
    let (status, text) = post(&base, "/api/v0/add", &ct, split.concat().as_bytes());
    assert_eq!(status, 200, "{text}");
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["Type"], "error", "{text}");
    assert!(
        last["Message"].as_str().unwrap().contains("were closed"),
        "{text}"
    );
    bad("/api/v0/add", "--B\r\ngarbage", "request body");
    let (status, _) = post(&base, "/api/v0/add", &[], b"not multipart");
    assert_eq!(status, 400);
    assert_client_error(&base, "/api/v0/get", "required");
    assert_client_error(&base, "/api/v0/get?arg=zzz", "invalid CID");
    assert_client_error(
        &base,
        "/api/v0/get?arg=QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR&compress=true",
        "compress",
    );
    assert_client_error(
        &base,
        "/api/v0/ls?arg=QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR&offline=true",
        "not found",
    );
    assert!(d.stop());
}

#[test]
fn get_through_the_daemon_fetches_what_only_a_peer_has() {
    if !in_loopback_netns("get_through_the_daemon_fetches_what_only_a_peer_has") {
        return;
    }
    let a_repo = Wanda::init();
    let src = make_tree(&a_repo);
    let root = a_repo
        .ok(&["add", "-Q", "-r", src.to_str().unwrap()])
        .trim()
        .to_string();
    // two daemons in one namespace: each needs its own gateway port
    let gw = [("addresses.gateway", "/ip4/127.0.0.1/tcp/0")];
    let a = Daemon::start_existing(a_repo, &gw);
    let b = Daemon::start(&gw);
    b.w.ok(&["swarm", "connect", &a.addr()]);
    let out = b.w.path("fetched");
    b.w.ok(&["get", &root, "-o", out.to_str().unwrap()]);
    let mut want = tree(&src);
    want.retain(|(p, _)| !p.starts_with(".hidden"));
    assert_eq!(tree(&out), want);
    // an add through B's daemon then serves A: `cat` on A fetches it back
    let f = b.w.path("new.bin");
    write(&f, &seed_bytes("new", 600_000));
    let cid =
        b.w.ok(&["add", "-Q", f.to_str().unwrap()])
            .trim()
            .to_string();
    let got = a.w.cmd().args(["cat", &cid]).output().unwrap();
    assert!(got.stdout == seed_bytes("new", 600_000), "bytes differ");
    assert!(a.stop() && b.stop());
}
