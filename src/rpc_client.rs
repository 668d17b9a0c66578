//! Talking to a running daemon over its Kubo-compatible RPC (`$REPO/api`).

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// The daemon's RPC base URL if `$REPO/api` exists.
pub fn api_url(repo: &Path) -> Option<String> {
    let text = std::fs::read_to_string(repo.join("api")).ok()?;
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

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn send(
    base: &str,
    cmd: &str,
    args: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<ureq::http::Response<ureq::Body>> {
    let req = agent().post(url(base, cmd, args));
    let mut resp = match body {
        Some(b) => req.send(b),
        None => req.send_empty(),
    }
    .with_context(|| format!("cannot reach the daemon at {base}"))?;
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
    mut on_line: impl FnMut(Value) -> Result<bool>,
) -> Result<()> {
    let resp = send(base, cmd, args, None)?;
    let reader = BufReader::new(resp.into_body().into_reader());
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        if !on_line(serde_json::from_str(&line)?)? {
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
pub fn call_raw(base: &str, cmd: &str, args: &[(&str, &str)]) -> Result<impl std::io::Read> {
    Ok(send(base, cmd, args, None)?.into_body().into_reader())
}
