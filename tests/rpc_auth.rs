//! RPC credentials (`api.authorizations`): 401 without or with a wrong secret, 403 outside the
//! allowed paths, the CLI sends `--api-auth` / `$WANDA_API_AUTH`, and the daemon serves beyond
//! loopback only with a credential. Each test runs in a loopback-only network namespace.

mod cli_common;
mod rpc_common;

use cli_common::{Daemon, Wanda, in_loopback_netns, write};
use rpc_common::{base, post};

const FULL: &str = r#"{"auth_secret":"bearer:s3cret","allowed_paths":["/api/v0"]}"#;
const CAT_ONLY: &str = r#"{"auth_secret":"basic:reader:pw","allowed_paths":["/api/v0/cat"]}"#;

fn start_with_auth() -> Daemon {
    let w = Wanda::init();
    w.ok(&["config", "--json", "api.authorizations.full", FULL]);
    w.ok(&["config", "--json", "api.authorizations.reader", CAT_ONLY]);
    Daemon::start_existing(w, &[])
}

fn message(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{body}"));
    assert_eq!(v["Type"], "error");
    v["Message"].as_str().unwrap().to_string()
}

#[test]
fn credentials_are_required_and_limited_to_their_paths() {
    if !in_loopback_netns("credentials_are_required_and_limited_to_their_paths") {
        return;
    }
    let d = start_with_auth();
    let base = base(&d);
    let (status, body) = post(&base, "/api/v0/id", &[], b"");
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("RPC Access Denied"), "{body}");
    let (status, _) = post(
        &base,
        "/api/v0/id",
        &[("Authorization", "Bearer wrong")],
        b"",
    );
    assert_eq!(status, 401);
    let (status, body) = post(
        &base,
        "/api/v0/id",
        &[("Authorization", "Bearer s3cret")],
        b"",
    );
    assert_eq!(status, 200, "{body}");
    // basic credential limited to cat: version is always allowed, everything else is 403
    let basic = [("Authorization", "Basic cmVhZGVyOnB3")];
    let (status, body) = post(&base, "/api/v0/pin/ls", &basic, b"");
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("/api/v0/pin/ls"), "{body}");
    assert_eq!(post(&base, "/api/v0/version", &basic, b"").0, 200);
    let (status, body) = post(&base, "/api/v0/cat", &basic, b"");
    assert_eq!(status, 400, "authorized, then a normal bad request: {body}");
    // unknown commands need a credential too
    assert_eq!(post(&base, "/api/v0/nope", &[], b"").0, 401);
    // the CLI: a wrong secret is refused; without one it uses the repo's own full credential;
    // the flag and the environment variable choose another
    d.w.fails(
        &["--api-auth", "bearer:wrong", "pin", "ls"],
        "RPC Access Denied",
    );
    d.w.ok(&["pin", "ls"]);
    let f = d.w.path("f.txt");
    write(&f, b"authorized bytes");
    let cid =
        d.w.ok(&[
            "--api-auth",
            "bearer:s3cret",
            "add",
            "-Q",
            f.to_str().unwrap(),
        ])
        .trim()
        .to_string();
    let out =
        d.w.cmd()
            .env("WANDA_API_AUTH", "basic:reader:pw")
            .args(["cat", &cid])
            .output()
            .unwrap();
    assert_eq!(out.stdout, b"authorized bytes");
    let out =
        d.w.cmd()
            .env("WANDA_API_AUTH", "basic:reader:pw")
            .args(["pin", "ls"])
            .output()
            .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("may not call /api/v0/pin/ls"));
    assert!(d.stop());
}

#[test]
fn daemon_serves_beyond_loopback_only_with_a_credential() {
    if !in_loopback_netns("daemon_serves_beyond_loopback_only_with_a_credential") {
        return;
    }
    let w = Wanda::init();
    w.ok(&["config", "addresses.api", "/ip4/0.0.0.0/tcp/0"]);
    w.ok(&["config", "addresses.swarm", r#"["/ip4/127.0.0.1/tcp/0"]"#]);
    w.fails(&["daemon"], "api.authorizations");
    assert!(!w.repo.join("api").exists());
    // with a credential it starts (inside this namespace 0.0.0.0 is only `lo`)
    w.ok(&["config", "--json", "api.authorizations.full", FULL]);
    let mut child = w
        .cmd()
        .arg("daemon")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !w.repo.join("api").exists() {
        assert!(std::time::Instant::now() < deadline, "daemon did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let api = std::fs::read_to_string(w.repo.join("api")).unwrap();
    assert!(api.starts_with("/ip4/0.0.0.0/tcp/"), "{api}");
    w.fails(&["--api-auth", "bearer:wrong", "id"], "RPC Access Denied");
    assert!(
        w.ok(&["id"]).contains("12D3KooW"),
        "the repo's own credential"
    );
    assert!(
        w.ok(&["--api-auth", "bearer:s3cret", "id"])
            .contains("12D3KooW")
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn bad_credentials_config_is_refused_naming_the_key() {
    let w = Wanda::init();
    w.fails(
        &["config", "api.authorizations.ci.auth_secret", "s3cret"],
        "api.authorizations.ci.auth_secret",
    );
    w.fails(
        &["config", "api.authorizations.ci.allowed_paths", "/admin"],
        "api.authorizations.ci.allowed_paths",
    );
    w.ok(&["config", "api.authorizations.ci.auth_secret", "bearer:x"]);
    w.ok(&[
        "config",
        "api.authorizations.ci.allowed_paths",
        r#"["/api/v0/cat"]"#,
    ]);
    assert_eq!(
        w.ok(&["config", "api.authorizations.ci.auth_secret"])
            .trim(),
        "bearer:x"
    );
}
