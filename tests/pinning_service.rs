//! The remote pinning client against a small IPFS Pinning Service API server run by this test
//! (bearer auth, POST/GET /pins, requests go queued → pinned): each capture is requested once,
//! with its name and our origins, and its status followed to `pinned`; a wrong token is a clear
//! error on the capture. Runs inside its own network namespace with only `lo`.

mod app_common;
mod cli_common;

use app_common::*;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use cli_common::{Daemon, in_loopback_netns};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Stub {
    pins: Mutex<Vec<Value>>,
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer s3cret")
}

fn unauthorized() -> (StatusCode, Json<Value>) {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": {"reason": "UNAUTHORIZED", "details": "bad token"}})),
    )
}

async fn add(
    State(s): State<Arc<Stub>>,
    h: HeaderMap,
    Json(pin): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&h) {
        return unauthorized();
    }
    let mut pins = s.pins.lock().unwrap();
    let status = json!({
        "requestid": format!("r{}", pins.len() + 1),
        "status": "queued",
        "created": "2026-11-24T00:00:00Z",
        "pin": pin,
        "delegates": ["/ip4/127.0.0.1/tcp/1/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo"],
    });
    pins.push(status.clone());
    (StatusCode::ACCEPTED, Json(status))
}

async fn list(
    State(s): State<Arc<Stub>>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, Json<Value>) {
    if !authorized(&h) {
        return unauthorized();
    }
    let mut pins = s.pins.lock().unwrap();
    let mut results = Vec::new();
    for p in pins.iter_mut() {
        if q.get("cid").is_none_or(|c| p["pin"]["cid"] == c.as_str()) {
            results.push(p.clone());
            p["status"] = json!("pinned"); // the next look sees it pinned
        }
    }
    (
        StatusCode::OK,
        Json(json!({"count": results.len(), "results": results})),
    )
}

fn serve_stub(rt: &tokio::runtime::Runtime) -> (String, Arc<Stub>) {
    let stub = Arc::new(Stub::default());
    let app = axum::Router::new()
        .route("/psa/pins", get(list).post(add))
        .with_state(stub.clone());
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/psa"), stub)
}

#[test]
fn captures_are_pinned_remotely_and_followed_to_pinned() {
    if !in_loopback_netns("captures_are_pinned_remotely_and_followed_to_pinned") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (url, stub) = serve_stub(&rt);
    let d = Daemon::start(&[
        ("pinning_service.endpoint", url.as_str()),
        ("pinning_service.token", "s3cret"),
    ]);
    let base = base_url(&d.w.repo);
    start_session(&base, "remote", 2);
    let caps = wait_for("both captures pinned by the service", 60, || {
        let caps: Vec<Value> = captures(&base, "remote")
            .into_iter()
            .filter(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
            .collect();
        (caps.len() == 2 && caps.iter().all(|c| c["ipfs"]["remote_pin"] == "pinned"))
            .then_some(caps)
    });
    let pins = stub.pins.lock().unwrap().clone();
    assert_eq!(
        pins.len(),
        2,
        "one request per capture, never duplicated: {pins:?}"
    );
    for c in &caps {
        let cid = c["ipfs"]["cid"].as_str().unwrap();
        let p = pins
            .iter()
            .find(|p| p["pin"]["cid"] == cid)
            .expect("requested");
        assert_eq!(
            p["pin"]["name"],
            format!("remote/{}", c["name"].as_str().unwrap())
        );
        let origins = p["pin"]["origins"].as_array().unwrap();
        assert!(
            !origins.is_empty()
                && origins
                    .iter()
                    .all(|o| o.as_str().unwrap().contains("/p2p/")),
            "{origins:?}"
        );
    }

    // a wrong token: the capture stays local and says why
    let bad = Daemon::start(&[
        ("pinning_service.endpoint", url.as_str()),
        ("pinning_service.token", "wrong"),
    ]);
    let base = base_url(&bad.w.repo);
    start_session(&base, "denied", 1);
    let err = wait_for("the 401 reported on the capture", 60, || {
        captures(&base, "denied")
            .into_iter()
            .find(|c| c["name"] == "image_0001.jpg")
            .and_then(|c| c["ipfs"]["error"].as_str().map(str::to_string))
    });
    assert!(err.contains("refused the token (401)"), "{err}");
    assert_eq!(
        stub.pins.lock().unwrap().len(),
        2,
        "nothing was pinned with a wrong token"
    );
}
