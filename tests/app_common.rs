//! HTTP helpers for tests of the telescope app on a running daemon (main listener =
//! `$REPO/gateway`).

#![allow(dead_code)]

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// `http://127.0.0.1:PORT` of the daemon's main listener.
pub fn base_url(repo: &Path) -> String {
    let ma = std::fs::read_to_string(repo.join("gateway")).expect("$REPO/gateway");
    let parts: Vec<&str> = ma.trim().trim_matches('/').split('/').collect();
    assert_eq!(parts[0], "ip4", "{ma}");
    format!("http://{}:{}", parts[1], parts[3])
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// GET → (status, body bytes).
pub fn get(url: &str) -> (u16, Vec<u8>) {
    let mut r = agent().get(url).call().unwrap();
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(1 << 30)
        .read_to_vec()
        .unwrap();
    (status, body)
}

/// GET → (status, JSON).
pub fn get_json(url: &str) -> (u16, Value) {
    let (s, b) = get(url);
    (
        s,
        serde_json::from_slice(&b)
            .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&b))),
    )
}

/// POST a raw body with a JSON content type → (status, JSON).
pub fn post_raw(url: &str, body: &str) -> (u16, Value) {
    let mut r = agent()
        .post(url)
        .header("Content-Type", "application/json")
        .send(body)
        .unwrap();
    let status = r.status().as_u16();
    let b = r.body_mut().read_to_vec().unwrap();
    (
        status,
        serde_json::from_slice(&b)
            .unwrap_or_else(|e| panic!("{url}: not JSON ({e}): {}", String::from_utf8_lossy(&b))),
    )
}

/// POST JSON → (status, JSON).
pub fn post(url: &str, body: &Value) -> (u16, Value) {
    post_raw(url, &body.to_string())
}

/// Polls `f` until it returns `Some` or `secs` pass.
pub fn wait_for<T>(what: &str, secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sets a short exposure and starts a rapid session.
pub fn start_session(base: &str, name: &str, images: u32) -> Value {
    let (s, v) = post(
        &format!("{base}/api/camera/settings"),
        &serde_json::json!({"exposure_seconds": 0.01}),
    );
    assert_eq!(s, 200, "{v}");
    let (s, v) = post(
        &format!("{base}/api/session/start"),
        &serde_json::json!({"name": name, "total_images": images, "enable_tracking": true}),
    );
    assert_eq!(s, 200, "{v}");
    v
}

/// The `captures` entries of a folder listing.
pub fn captures(base: &str, folder: &str) -> Vec<Value> {
    let (s, v) = get_json(&format!("{base}/api/captures?folder={folder}"));
    assert_eq!(s, 200, "{v}");
    v["data"]["captures"].as_array().unwrap().clone()
}
