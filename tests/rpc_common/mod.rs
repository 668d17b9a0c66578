//! Helpers for the RPC tests: raw HTTP calls and offline-vs-daemon comparisons.
#![allow(dead_code)]

use crate::cli_common::{Daemon, Wanda};
use std::path::Path;

/// The daemon's RPC base URL (`http://127.0.0.1:PORT`).
pub fn base(d: &Daemon) -> String {
    let ma = std::fs::read_to_string(d.w.repo.join("api")).unwrap();
    let parts: Vec<&str> = ma.trim().trim_matches('/').split('/').collect();
    format!("http://{}:{}", parts[1], parts[3])
}

/// POSTs `path` (with query) and returns (status, body text).
pub fn post(base: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut req = agent.post(format!("{base}{path}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.send(body).unwrap();
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

/// Asserts a Kubo error body with a 4xx status whose message contains `needle`.
pub fn assert_client_error(base: &str, path: &str, needle: &str) {
    let (status, body) = post(base, path, &[], b"");
    assert!(
        (400..500).contains(&status),
        "{path}: status {status}, {body}"
    );
    let v: serde_json::Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{body}"));
    assert_eq!(v["Type"], "error", "{body}");
    let msg = v["Message"].as_str().unwrap();
    assert!(msg.contains(needle), "{path}: {msg:?} lacks {needle:?}");
}

/// Runs `args` on the offline repo and through the daemon; asserts equal stdout; returns it.
pub fn same(offline: &Wanda, d: &Daemon, args: &[&str]) -> String {
    let a = offline.ok(args);
    let b = d.w.ok(args);
    assert_eq!(a, b, "wanda {args:?}: offline vs daemon");
    a
}

/// Runs `args` on both; asserts both fail with `needle` in stderr.
pub fn both_fail(offline: &Wanda, d: &Daemon, args: &[&str], needle: &str) {
    offline.fails(args, needle);
    d.w.fails(args, needle);
}

/// A listing of a tree: relative path, kind and content (or link target).
pub fn tree(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    fn walk(root: &Path, at: &Path, out: &mut Vec<(String, String)>) {
        let rel = at.strip_prefix(root).unwrap().display().to_string();
        let meta = std::fs::symlink_metadata(at).unwrap();
        if meta.file_type().is_symlink() {
            let t = std::fs::read_link(at).unwrap();
            out.push((rel, format!("link {}", t.display())));
        } else if meta.is_dir() {
            out.push((rel, "dir".into()));
            let mut entries: Vec<_> = std::fs::read_dir(at).unwrap().flatten().collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                walk(root, &e.path(), out);
            }
        } else {
            let data = std::fs::read(at).unwrap();
            out.push((rel, format!("file {} {:x}", data.len(), simple_hash(&data))));
        }
    }
    walk(root, root, &mut out);
    out
}

fn simple_hash(data: &[u8]) -> u64 {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(data);
    u64::from_le_bytes(h[..8].try_into().unwrap())
}
