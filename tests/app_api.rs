//! Contract tests of WANDA's HTTP API (the routes of the original Python backend, which the
//! Next.js UI calls) on a running daemon with simulated hardware: shapes, envelopes, status
//! codes and error messages, plus a few hundred malformed requests that must all get a 4xx.
//! Runs inside its own network namespace with only `lo`.

mod app_common;
mod cli_common;

use app_common::*;
use cli_common::{Daemon, in_loopback_netns};
use serde_json::{Value, json};

fn err(v: &Value) -> (&str, &str) {
    assert_eq!(v["success"], false, "{v}");
    (v["code"].as_str().unwrap(), v["error"].as_str().unwrap())
}

fn camera(base: &str) {
    let (s, v) = get_json(&format!("{base}/api/camera/status"));
    assert_eq!(s, 200);
    assert_eq!(v["success"], true);
    assert_eq!(v["message"], "Camera status retrieved");
    for k in [
        "mode",
        "capture_status",
        "recording",
        "iso",
        "gain",
        "exposure_seconds",
        "night_vision_mode",
        "night_vision_intensity",
        "save_raw",
        "skip_frames",
    ] {
        assert!(v["data"].get(k).is_some(), "camera status lacks {k}: {v}");
    }
    assert_eq!(v["data"]["capture_status"], "Ready");
    let url = format!("{base}/api/camera/settings");
    let (s, v) = post(&url, &json!({}));
    assert_eq!((s, &v["data"]["updates"]), (200, &json!([])));
    let (s, v) = post(
        &url,
        &json!({"exposure_seconds": 0.2, "iso": 400, "night_vision_mode": true, "night_vision_intensity": 500}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["updates"],
        json!([
            "exposure_seconds",
            "iso",
            "night_vision_mode",
            "night_vision_intensity"
        ])
    );
    assert_eq!(v["data"]["exposure_seconds"], 0.2);
    assert_eq!(v["data"]["iso"], 400);
    let (_, st) = get_json(&format!("{base}/api/camera/status"));
    assert_eq!(st["data"]["night_vision_mode"], true);
    assert_eq!(
        st["data"]["night_vision_intensity"], 80.0,
        "intensity is clamped to 1..80"
    );
    for (body, msg) in [
        (
            json!({"exposure_seconds": -1}),
            "exposure_seconds must be greater than 0",
        ),
        (
            json!({"exposure_seconds": "x"}),
            "exposure_seconds must be a number",
        ),
        (
            json!({"exposure_seconds": 500}),
            "exposure_seconds must be at most 230",
        ),
        (json!({"iso": 0}), "iso must be greater than 0"),
        (json!({"iso": 1e9}), "iso must be at most 6400"),
    ] {
        let (s, v) = post(&url, &body);
        assert_eq!(s, 400, "{body}: {v}");
        assert_eq!(err(&v), ("VALIDATION_ERROR", msg));
    }
    let (_, st) = get_json(&format!("{base}/api/camera/status"));
    assert_eq!(
        st["data"]["exposure_seconds"], 0.2,
        "a refused change changes nothing"
    );
    for body in ["not json", "[1,2]", "42"] {
        let (s, v) = post_raw(&url, body);
        assert_eq!(s, 400);
        assert_eq!(
            err(&v),
            ("INVALID_REQUEST", "Request body must be valid JSON")
        );
    }
    post(
        &url,
        &json!({"exposure_seconds": 0.01, "night_vision_mode": false}),
    );
    // bodyless POST with a JSON content type, as the UI sends it
    let (s, v) = post_raw(&format!("{base}/api/camera/capture"), "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["message"], "Capture complete");
    assert_eq!(v["data"]["filename"], "capture_0001.jpg");
    assert!(
        v["data"]["capture_status"]
            .as_str()
            .unwrap()
            .contains("capture_0001.jpg")
    );
}

fn mount(base: &str) {
    let (s, v) = get_json(&format!("{base}/api/mount/status"));
    assert_eq!(s, 200);
    assert_eq!(v["data"]["tracking"], false);
    assert_eq!(v["data"]["direction"], true);
    let url = format!("{base}/api/mount/tracking");
    let (s, v) = post(
        &url,
        &json!({"action": "start", "speed": 2.0, "direction": "ccw"}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["tracking"], true);
    let (_, st) = get_json(&format!("{base}/api/mount/status"));
    assert_eq!(st["data"]["speed"], 2.0);
    assert_eq!(st["data"]["direction"], false);
    assert!(st["data"]["step_interval_s"].as_f64().unwrap() > 0.0);
    let (s, v) = post(&url, &json!({"action": "stop"}));
    assert_eq!((s, &v["data"]["tracking"]), (200, &json!(false)));
    for body in [json!({"action": "jump"}), json!({})] {
        let (s, v) = post(&url, &body);
        assert_eq!(s, 400);
        assert_eq!(
            err(&v),
            ("INVALID_ACTION", "action must be either 'start' or 'stop'")
        );
    }
    let (s, v) = post_raw(&url, "");
    assert_eq!((s, err(&v).0), (400, "INVALID_ACTION"));
    let (s, v) = post(&url, &json!({"action": "start", "speed": 50}));
    assert_eq!((s, err(&v).0), (400, "VALIDATION_ERROR"));
    let (s, v) = post(&url, &json!({"action": "start", "direction": "up"}));
    assert_eq!((s, err(&v).0), (400, "VALIDATION_ERROR"));
    let (_, st) = get_json(&format!("{base}/api/mount/status"));
    assert_eq!(
        st["data"]["tracking"], false,
        "refused starts do not start tracking"
    );
}

fn session(base: &str) {
    let (s, v) = get_json(&format!("{base}/api/session/status"));
    assert_eq!(s, 200);
    assert_eq!(v["data"]["active"], false);
    assert_eq!(v["data"]["status"], "idle");
    let url = format!("{base}/api/session/start");
    for (body, msg) in [
        (json!({"total_images": 3}), "Session name is required"),
        (json!({"name": "x"}), "total_images is required"),
        (
            json!({"name": "x", "total_images": 0}),
            "total_images must be greater than 0",
        ),
        (
            json!({"name": "x", "total_images": 2, "total_time_hours": 0}),
            "total_time_hours must be greater than 0",
        ),
    ] {
        let (s, v) = post(&url, &body);
        assert_eq!(s, 400, "{body}");
        assert_eq!(err(&v), ("VALIDATION_ERROR", msg));
    }
    for name in ["../etc", "a/b", ".hidden"] {
        let (s, v) = post(&url, &json!({"name": name, "total_images": 1}));
        assert_eq!((s, err(&v).0), (400, "VALIDATION_ERROR"), "{name}");
    }
    let (s, v) = post_raw(&url, "");
    assert_eq!((s, err(&v).0), (400, "INVALID_REQUEST"));
    // a timed session long enough to collide with a second start
    let (s, v) = post(
        &url,
        &json!({"name": "M42 run", "total_images": 3, "total_time_hours": 0.01}),
    );
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["session_status"]["running"], true);
    assert_eq!(v["data"]["session_status"]["formatted_time"], "0m");
    let (s, v) = post(&url, &json!({"name": "other", "total_images": 1}));
    assert_eq!(s, 409);
    assert_eq!(
        err(&v),
        ("SESSION_START_ERROR", "A session is already running")
    );
    let (_, v) = get_json(&format!("{base}/api/session/status"));
    assert_eq!(v["data"]["active"], true);
    assert_eq!(v["data"]["name"], "M42 run");
    assert!(v["data"]["remaining_time"].as_f64().unwrap() > 0.0);
    let (s, v) = post_raw(&format!("{base}/api/session/stop"), "");
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["data"]["session_status"]["running"], false);
    assert_eq!(v["data"]["session_status"]["status"], "completed");
    let (s, _) = post_raw(&format!("{base}/api/session/stop"), "");
    assert_eq!(s, 200, "stopping with nothing running is fine");

    let url = format!("{base}/api/session/config");
    let (s, v) = get_json(&url);
    assert_eq!(
        (s, &v["data"], &v["message"]),
        (200, &json!({}), &json!("No saved session config"))
    );
    let (s, v) = post(
        &url,
        &json!({"name": " Orion ", "totalImages": 12, "sessionMode": "timed", "totalTimeHours": 2}),
    );
    assert_eq!(s, 200, "{v}");
    let saved = json!({"name": "Orion", "totalImages": 12, "enableTracking": false, "useCurrentSettings": true, "sessionMode": "timed", "totalTimeHours": 2.0});
    assert_eq!(v["data"], saved);
    assert_eq!(get_json(&url).1["data"], saved);
    for (body, msg) in [
        (
            json!({"sessionMode": "weird"}),
            "sessionMode must be 'rapid' or 'timed'",
        ),
        (
            json!({"sessionMode": "timed"}),
            "totalTimeHours is required for timed mode",
        ),
        (
            json!({"totalImages": -2, "sessionMode": "rapid"}),
            "totalImages must be greater than 0",
        ),
    ] {
        let (s, v) = post(&url, &body);
        assert_eq!(s, 400, "{body}");
        assert_eq!(err(&v), ("VALIDATION_ERROR", msg));
    }
}

fn captures_routes(base: &str, repo: &std::path::Path) {
    let (s, v) = get_json(&format!("{base}/api/captures"));
    assert_eq!(s, 200);
    let files: Vec<&str> = v["data"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"capture_0001.jpg"), "{files:?}");
    assert!(
        files.contains(&"session_config.json"),
        "WANDA lists the saved form too: {files:?}"
    );
    let (s, v) = get_json(&format!("{base}/api/captures/folders"));
    assert_eq!(s, 200);
    assert_eq!(v["data"]["folders"], json!(["M42 run"]));
    let (_, v) = get_json(&format!("{base}/api/captures?folder=M42%20run"));
    let files = v["data"]["files"].as_array().unwrap();
    assert!(files.iter().any(|f| f == "image_0001.jpg"), "{v}");
    let disk = std::fs::read(repo.join("captures/capture_0001.jpg")).unwrap();
    for path in [
        "/api/captures/capture_0001.jpg",
        "/captures/capture_0001.jpg",
    ] {
        let (s, b) = get(&format!("{base}{path}"));
        assert_eq!((s, b == disk), (200, true), "{path}");
    }
    let disk = std::fs::read(repo.join("captures/M42 run/image_0001.jpg")).unwrap();
    for path in [
        "/api/captures/M42%20run/image_0001.jpg",
        "/captures/M42%20run%2Fimage_0001.jpg",
    ] {
        let (s, b) = get(&format!("{base}{path}"));
        assert_eq!((s, b == disk), (200, true), "{path}");
    }
    let (s, v) = get_json(&format!("{base}/api/captures/nope.jpg"));
    assert_eq!((s, err(&v).0), (404, "FILE_NOT_FOUND"));
    for bad in [
        "/api/captures/..%2Fconfig.toml",
        "/api/captures/a/b/c",
        "/captures/%2E%2E/config.toml",
        "/api/captures?folder=..",
    ] {
        let (s, v) = get_json(&format!("{base}{bad}"));
        assert_eq!(s, 400, "{bad}: {v}");
        assert_eq!(v["success"], false);
    }
    let (s, v) = get_json(&format!("{base}/api/nope"));
    assert_eq!((s, err(&v).0), (404, "NOT_FOUND"));
}

fn video_feed(base: &str) {
    let mut r = ureq::get(&format!("{base}/video_feed")).call().unwrap();
    assert_eq!(
        r.headers().get("content-type").unwrap().to_str().unwrap(),
        "multipart/x-mixed-replace; boundary=frame"
    );
    let mut buf = vec![0u8; 64];
    std::io::Read::read_exact(&mut r.body_mut().as_reader(), &mut buf).unwrap();
    assert!(
        buf.starts_with(b"--frame\r\nContent-Type: image/jpeg\r\n"),
        "{:?}",
        String::from_utf8_lossy(&buf)
    );
}

/// A preflight from `origin` for `method` → (allowed origin, allowed methods, credentials).
fn preflight(base: &str, origin: &str, method: &str) -> (String, String, String) {
    let r = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .build()
        .new_agent()
        .run(
            ureq::http::Request::builder()
                .method("OPTIONS")
                .uri(format!("{base}/api/camera/settings"))
                .header("Origin", origin)
                .header("Access-Control-Request-Method", method)
                .header("Access-Control-Request-Headers", "content-type")
                .body(())
                .unwrap(),
        )
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    let h = |n: &str| {
        r.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    (
        h("access-control-allow-origin"),
        h("access-control-allow-methods"),
        h("access-control-allow-credentials"),
    )
}

fn cors(base: &str) {
    // WANDA's Next.js frontend on the Pi itself (a loopback origin) may write, with cookies
    let (origin, methods, creds) = preflight(base, "http://localhost:3000", "POST");
    assert_eq!(origin, "http://localhost:3000");
    assert!(
        methods.contains("POST") && methods.contains("DELETE"),
        "{methods}"
    );
    assert_eq!(creds, "true");
    // another site's page may read, never write
    let (origin, methods, creds) = preflight(base, "https://evil.test", "POST");
    assert_eq!(origin, "*");
    assert!(
        !methods.contains("POST") && !methods.contains("DELETE"),
        "{methods}"
    );
    assert_eq!(creds, "");
}

fn malformed_requests_get_4xx(base: &str) {
    let bodies = [
        "",
        "{",
        "}",
        "null",
        "true",
        "[]",
        "\"s\"",
        "{\"a\":",
        "\u{0}",
        "{\"name\":null}",
        "{\"action\":1}",
        "{\"total_images\":\"many\"}",
        "{\"exposure_seconds\":[]}",
        "{\"iso\":{}}",
        "{\"totalImages\":null,\"sessionMode\":5}",
        "\u{ff}\u{fe}",
        "{\"speed\":\"fast\",\"action\":\"start\"}",
        "{\"total_time_hours\":\"NaN\",\"name\":\"n\",\"total_images\":1}",
    ];
    let routes = [
        "/api/camera/settings",
        "/api/mount/tracking",
        "/api/session/start",
        "/api/session/config",
    ];
    let mut n = 0;
    for r in routes {
        for b in bodies {
            let url = format!("{base}{r}");
            let resp = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .new_agent()
                .post(&url)
                .header("Content-Type", "application/json")
                .send(b)
                .unwrap();
            let s = resp.status().as_u16();
            // a valid combination may succeed; nothing may be a server error
            assert!(s < 500, "{r} with {b:?} gave {s}");
            n += 1;
        }
    }
    for p in [
        "/api/captures/%00",
        "/api/captures/%ff%fe",
        "/api/captures/a%2F..%2F..%2Fb",
        "/captures/.wanda-tmp-x",
        "/api/thumbnails/..%2F..%2Fconfig.toml",
        "/api/captures?folder=%2Fetc",
        "/api/captures?folder=a%2F..%2F..",
    ] {
        for _ in 0..10 {
            let (s, _) = get(&format!("{base}{p}"));
            assert!((400..500).contains(&s), "{p} gave {s}");
            n += 1;
        }
    }
    assert!(n >= 100, "{n}");
    // any session started by the flood is stopped so the daemon shuts down promptly
    post_raw(&format!("{base}/api/session/stop"), "");
}

#[test]
fn wanda_api_contract() {
    if !in_loopback_netns("wanda_api_contract") {
        return;
    }
    let d = Daemon::start(&[]);
    let base = base_url(&d.w.repo);
    camera(&base);
    mount(&base);
    session(&base);
    captures_routes(&base, &d.w.repo);
    video_feed(&base);
    cors(&base);
    malformed_requests_get_4xx(&base);
}
