//! Talking to a running daemon over its Kubo-compatible RPC (`$REPO/api`).
//!
//! Credentials: `--api-auth SECRET` or `$WANDA_API_AUTH` (Kubo's `AuthSecret` syntax:
//! `bearer:TOKEN` or `basic:USER:PASSWORD`) is sent as the `Authorization` header of every call.
//! Without one, the CLI uses a credential of the repo's own `api.authorizations` that covers
//! the whole RPC (`owner` first): whoever can read the repo's config owns the node anyway.

pub mod multipart;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::OnceLock;

static AUTH: OnceLock<String> = OnceLock::new();

/// Sets the credential sent with every call (once, at start-up): `secret`, else one of the
/// repo's own credentials that covers the RPC.
pub fn set_auth(secret: Option<&str>, repo: &Path) {
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        let _ = AUTH.set(wanda_gateway::rpc::header_value(secret));
        return;
    }
    let Ok(cfg) =
        wanda_node::repo::read_config_doc(repo).and_then(|d| wanda_node::repo::node_config(&d))
    else {
        return;
    };
    let covers_rpc = |a: &&wanda_node::repo::config::ApiAuthorization| {
        wanda_gateway::auth::covers(&a.allowed_paths, "/api/v0/id")
            && wanda_gateway::auth::covers(&a.allowed_paths, "/api/v0/add")
    };
    let auths = &cfg.api.authorizations;
    if let Some(a) = auths
        .get(crate::commands::auth::OWNER)
        .filter(covers_rpc)
        .or_else(|| auths.values().find(covers_rpc))
    {
        let _ = AUTH.set(wanda_gateway::rpc::header_value(&a.auth_secret));
    }
}

/// The daemon's RPC base URL if `$REPO/api` exists and a process holds the repo lock. Like
/// Kubo, an `api` file left by a daemon that died (kill -9, power loss) is ignored: the command
/// then works on the repo directly.
pub fn api_url(repo: &Path) -> Option<String> {
    let text = std::fs::read_to_string(repo.join("api")).ok()?;
    if !wanda_node::repo::RepoLock::is_held(repo) {
        return None;
    }
    let addr = multiaddr_to_socket(text.trim()).ok()?;
    Some(format!("http://{addr}"))
}

/// `/ip4/A/tcp/P` or `/ip6/A/tcp/P` → a socket address.
pub fn multiaddr_to_socket(ma: &str) -> Result<std::net::SocketAddr> {
    let parts: Vec<&str> = ma.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["ip4", ip, "tcp", port] => Ok(format!("{ip}:{port}").parse()?),
        ["ip6", ip, "tcp", port] => Ok(format!("[{ip}]:{port}").parse()?),
        _ => bail!("`{ma}` is not an /ip4|ip6/…/tcp/… address"),
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

fn url(base: &str, cmd: &str, args: &[(&str, &str)]) -> String {
    let mut u = format!("{base}/api/v0/{cmd}");
    for (i, (k, v)) in args.iter().enumerate() {
        u.push(if i == 0 { '?' } else { '&' });
        u.push_str(k);
        u.push('=');
        u.push_str(&percent_encode(v));
    }
    u
}

/// Percent-encodes everything but RFC 3986 unreserved bytes.
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A request body.
pub enum Body<'a> {
    /// No body.
    Empty,
    /// Bytes (e.g. `pubsub/pub`).
    Bytes(&'a [u8]),
    /// A streamed multipart body (`add`, `block/put`, `dag/import`).
    Multipart(multipart::MultipartBody),
}

fn send(
    base: &str,
    cmd: &str,
    args: &[(&str, &str)],
    body: Body<'_>,
) -> Result<ureq::http::Response<ureq::Body>> {
    let mut req = agent().post(url(base, cmd, args));
    if let Some(auth) = AUTH.get() {
        req = req.header("Authorization", auth);
    }
    let sent = match body {
        Body::Empty => req.send_empty(),
        Body::Bytes(b) => req.send(b),
        Body::Multipart(m) => req
            .header("Content-Type", m.content_type())
            .send(ureq::SendBody::from_owned_reader(m)),
    };
    let mut resp = sent.with_context(|| format!("cannot reach the daemon at {base}"))?;
    if !resp.status().is_success() {
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        let msg = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["Message"].as_str().map(str::to_string))
            .unwrap_or(text);
        return Err(anyhow!(msg));
    }
    Ok(resp)
}

/// Calls `cmd` and parses the JSON answer.
pub fn call(base: &str, cmd: &str, args: &[(&str, &str)], body: Option<&[u8]>) -> Result<Value> {
    let body = body.map_or(Body::Empty, Body::Bytes);
    let mut resp = send(base, cmd, args, body)?;
    let text = resp.body_mut().read_to_string()?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_str(&text)?)
}

/// Calls a streaming command; `on_line` gets each JSON line until the stream ends or it
/// returns `false`.
pub fn call_stream(
    base: &str,
    cmd: &str,
    args: &[(&str, &str)],
    on_line: impl FnMut(Value) -> Result<bool>,
) -> Result<()> {
    call_stream_with(base, cmd, args, Body::Empty, on_line)
}

/// [`call_stream`] with a request body. A `{"Message","Type":"error"}` line (an error after
/// the stream started) ends the call with that error.
pub fn call_stream_with(
    base: &str,
    cmd: &str,
    args: &[(&str, &str)],
    body: Body<'_>,
    mut on_line: impl FnMut(Value) -> Result<bool>,
) -> Result<()> {
    let resp = send(base, cmd, args, body)?;
    let reader = BufReader::new(resp.into_body().into_reader());
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(&line)?;
        if value["Type"] == "error"
            && let Some(msg) = value["Message"].as_str()
        {
            bail!("{msg}");
        }
        if !on_line(value)? {
            break;
        }
    }
    Ok(())
}

/// The daemon's URL, or Kubo's "online mode" error.
pub fn require_daemon(repo: &Path) -> Result<String> {
    api_url(repo).ok_or_else(|| {
        anyhow!("this command must be run in online mode. Try running 'wanda daemon' first")
    })
}

/// Calls a command whose answer is raw bytes (e.g. `cat`); returns the body as a reader.
pub fn call_raw(base: &str, cmd: &str, args: &[(&str, &str)]) -> Result<impl Read + use<>> {
    Ok(send(base, cmd, args, Body::Empty)?
        .into_body()
        .into_reader())
}

/// Copies a raw response body (from [`call_raw`]) to stdout and flushes, in 256 KiB chunks:
/// `io::copy`'s 8 KiB buffer made one `write` per 8 KiB (12,800 for a 100 MiB `cat`).
pub fn copy_to_stdout(mut body: impl Read) -> Result<()> {
    use std::io::Write;
    let mut buf = vec![0u8; 256 << 10];
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    loop {
        let n = match body.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        out.write_all(&buf[..n])?;
    }
    out.flush()?;
    Ok(())
}
