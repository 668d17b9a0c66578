//! The `wanda` CLI end to end: repo, config, add/cat/get/ls, blocks, CAR, pins, GC.

mod cli_common;

use cli_common::{Wanda, seed_bytes, write};

#[test]
fn init_writes_config_and_identity_and_refuses_twice() {
    let w = Wanda::uninit();
    let out = w.ok(&["init"]);
    assert!(out.contains("peer identity: 12D3KooW"), "{out}");
    assert!(w.repo.join("config.toml").is_file());
    assert!(w.repo.join("keystore/self.key").is_file());
    w.fails(&["init"], "already exists");
    w.fails(&["init", "--profile", "galaxy"], "unknown profile");
}

#[test]
fn commands_without_a_repo_say_how_to_make_one() {
    let w = Wanda::uninit();
    w.fails(&["pin", "ls"], "wanda init");
}

#[test]
fn config_reads_writes_and_refuses_unknown_keys_and_bad_values() {
    let w = Wanda::init();
    assert_eq!(w.ok(&["config", "network.profile"]).trim(), "local");
    assert_eq!(
        w.ok(&["config", "addresses.api"]).trim(),
        "/ip4/127.0.0.1/tcp/5001"
    );
    w.ok(&["config", "storage.max_storage", "20GB"]);
    assert_eq!(w.ok(&["config", "storage.max_storage"]).trim(), "20GB");
    w.ok(&[
        "config",
        "network.bootstrap",
        r#"["/ip4/127.0.0.1/tcp/4002/p2p/12D3KooWLQzUv2FHWGVPXTXSZpdHs7oHbXub2G5WC8Tx4NQhyd2d"]"#,
    ]);
    assert!(w.ok(&["config", "show"]).contains("tcp/4002"));
    w.fails(
        &["config", "storage.max_storag", "1GB"],
        "storage.max_storag",
    );
    w.fails(
        &["config", "storage.gc_watermark", "500"],
        "storage.gc_watermark",
    );
    w.fails(
        &["config", "storage.gc_watermark", "lots"],
        "storage.gc_watermark",
    );
    w.fails(
        &["config", "addresses.gateway", "localhost:80"],
        "addresses.gateway",
    );
    w.fails(&["config", "no.such.key"], "no.such.key");
    assert_eq!(
        w.ok(&["config", "storage.gc_watermark"]).trim(),
        "90",
        "refused writes change nothing"
    );
}

#[test]
fn add_cat_round_trip_with_kubo_output() {
    let w = Wanda::init();
    let data = seed_bytes("cli", 1_000_000);
    let file = w.path("photo.jpg");
    write(&file, &data);
    let out = w.ok(&["add", file.to_str().unwrap()]);
    let mut parts = out.split_whitespace();
    assert_eq!(parts.next(), Some("added"));
    let cid = parts.next().unwrap().to_string();
    assert_eq!(parts.next(), Some("photo.jpg"));
    assert!(cid.starts_with("Qm"));
    let cat = w.cmd().args(["cat", &cid]).output().unwrap();
    assert!(cat.stdout == data);
    assert_eq!(w.ok(&["add", "-Q", file.to_str().unwrap()]).trim(), cid);
    assert!(w.ok(&["pin", "ls", "--type", "recursive"]).contains(&cid));
    let part = w
        .cmd()
        .args(["cat", &cid, "-o", "10", "-l", "5"])
        .output()
        .unwrap();
    assert_eq!(part.stdout, &data[10..15]);
    let stdin_out = {
        use std::io::Write;
        let mut child = w
            .cmd()
            .args(["add", "--cid-version", "1"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(b"hello").unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    // stdin: the name is the CID, like Kubo
    let fields: Vec<_> = stdin_out.split_whitespace().collect();
    assert_eq!(fields[1], fields[2]);
    assert!(fields[1].starts_with("bafkrei"));
}

#[test]
fn only_hash_and_pin_false_store_or_pin_nothing() {
    let w = Wanda::init();
    let file = w.path("f.bin");
    write(&file, &seed_bytes("nh", 300_000));
    let before = w.snapshot();
    let cid = w
        .ok(&["add", "-n", "-Q", file.to_str().unwrap()])
        .trim()
        .to_string();
    assert_eq!(w.snapshot(), before);
    w.fails(&["cat", &cid], "not found locally");
    let cid2 = w
        .ok(&["add", "--pin=false", "-Q", file.to_str().unwrap()])
        .trim()
        .to_string();
    assert_eq!(cid, cid2);
    assert!(!w.ok(&["pin", "ls"]).contains(&cid));
    w.ok(&["repo", "gc"]);
    w.fails(&["cat", &cid], "not found locally");
}

#[test]
fn directories_wrap_get_ls_refs() {
    let w = Wanda::init();
    let dir = w.path("night");
    write(&dir.join("m31.jpg"), &seed_bytes("m31", 400_000));
    write(&dir.join("sub/m42.jpg"), &seed_bytes("m42", 10));
    w.fails(&["add", dir.to_str().unwrap()], "-r");
    let out = w.ok(&["add", "-r", "-w", dir.to_str().unwrap()]);
    let lines: Vec<_> = out.lines().collect();
    assert!(
        lines.iter().any(|l| l.ends_with(" night/sub/m42.jpg")),
        "{out}"
    );
    assert!(lines[lines.len() - 2].ends_with(" night"), "{out}");
    let root = lines
        .last()
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let ls = w.ok(&["ls", &root]);
    assert!(ls.trim().ends_with("night/"), "{ls}");
    let ls = w.ok(&["ls", &format!("{root}/night")]);
    assert!(ls.contains(" 400000 m31.jpg"), "{ls}");
    assert!(ls.contains(" sub/"), "{ls}");
    let out_dir = w.path("restored");
    w.ok(&[
        "get",
        &format!("{root}/night"),
        "-o",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(out_dir.join("sub/m42.jpg")).unwrap(),
        seed_bytes("m42", 10)
    );
    assert_eq!(
        std::fs::read(out_dir.join("m31.jpg")).unwrap(),
        seed_bytes("m31", 400_000)
    );
    let refs = w.ok(&["refs", "-r", &root]);
    assert_eq!(refs.lines().count(), 6, "{refs}"); // night, m31 root + 2 leaves, sub, m42
}

#[test]
fn blocks_put_get_stat_rm() {
    let w = Wanda::init();
    let f = w.path("b");
    write(&f, b"block bytes");
    let cid = w
        .ok(&["block", "put", f.to_str().unwrap()])
        .trim()
        .to_string();
    assert!(cid.starts_with("bafkrei"));
    assert_eq!(
        w.cmd()
            .args(["block", "get", &cid])
            .output()
            .unwrap()
            .stdout,
        b"block bytes"
    );
    assert!(w.ok(&["block", "stat", &cid]).contains("Size: 11"));
    assert!(w.ok(&["block", "rm", &cid]).contains("removed"));
    w.fails(&["block", "stat", &cid], "not found");
    w.fails(&["block", "rm", &cid], "not found");
    w.fails(
        &[
            "block",
            "put",
            "--cid-codec",
            "dag-cbor",
            f.to_str().unwrap(),
        ],
        "cannot decode",
    );
}

#[test]
fn dag_export_import_round_trip_between_repos() {
    let a = Wanda::init();
    let b = Wanda::init();
    let file = a.path("x");
    write(&file, &seed_bytes("car", 700_000));
    let cid = a
        .ok(&["add", "-Q", file.to_str().unwrap()])
        .trim()
        .to_string();
    let car = a
        .cmd()
        .args(["dag", "export", &cid])
        .output()
        .unwrap()
        .stdout;
    let car_path = b.path("x.car");
    std::fs::write(&car_path, &car).unwrap();
    let out = b.ok(&["dag", "import", car_path.to_str().unwrap()]);
    assert!(
        out.contains(&format!("Pinned root\t{cid}\tsuccess")),
        "{out}"
    );
    assert_eq!(
        b.cmd().args(["cat", &cid]).output().unwrap().stdout,
        seed_bytes("car", 700_000)
    );
    assert_eq!(
        b.cmd()
            .args(["dag", "export", &cid])
            .output()
            .unwrap()
            .stdout,
        car
    );
}

#[test]
fn pins_and_gc() {
    let w = Wanda::init();
    let f = w.path("p");
    write(&f, &seed_bytes("pin", 600_000));
    let cid = w
        .ok(&["add", "-Q", "--pin=false", f.to_str().unwrap()])
        .trim()
        .to_string();
    assert!(w.ok(&["pin", "add", &cid]).contains("pinned"));
    assert_eq!(w.ok(&["pin", "ls", "-t", "indirect"]).lines().count(), 3);
    w.fails(&["pin", "ls", "-t", "sideways"], "invalid pin type");
    assert_eq!(w.ok(&["repo", "gc", "-q"]).trim(), "0");
    w.ok(&["pin", "rm", &cid]);
    w.fails(&["pin", "rm", &cid], "not pinned");
    assert_eq!(w.ok(&["repo", "gc", "-q"]).trim(), "4");
    assert!(
        w.ok(&["repo", "verify"])
            .contains("verified repo integrity")
    );
    assert!(w.ok(&["repo", "stat"]).contains("NumObjects: 0"));
}

#[test]
fn optional_value_flags_do_not_swallow_the_path() {
    // `--raw-leaves FILE` is the flag plus a path (Kubo's syntax), `--pin=false` takes a value
    let w = Wanda::init();
    let f = w.path("one");
    write(&f, b"x");
    let cid = w
        .ok(&["add", "-Q", "--raw-leaves", f.to_str().unwrap()])
        .trim()
        .to_string();
    assert!(cid.starts_with("bafkrei"), "{cid}");
    let cid = w
        .ok(&[
            "add",
            "-Q",
            "--raw-leaves=false",
            "--pin=false",
            f.to_str().unwrap(),
        ])
        .trim()
        .to_string();
    assert!(cid.starts_with("Qm"), "{cid}");
    assert!(!w.ok(&["pin", "ls"]).contains(&cid));
}
