//! Commands that need the running daemon (or, for `id`, work offline too).

use crate::cli::{PubsubCommand, RoutingCommand, SwarmCommand};
use crate::rpc_client::{api_url, call, call_stream, require_daemon};
use anyhow::Result;
use base64::Engine;
use std::io::{Read, Write};
use std::path::Path;

pub fn id(dir: &Path) -> Result<()> {
    let value = match api_url(dir) {
        Some(base) => call(&base, "id", &[], None)?,
        None => {
            let repo = wanda_node::repo::Repo::open(dir)?;
            serde_json::json!({
                "ID": repo.config().identity.peer_id,
                "PublicKey": base64::engine::general_purpose::STANDARD
                    .encode(repo.key().public().encode_protobuf()),
                "Addresses": [],
                "AgentVersion": wanda_node::net::AGENT_VERSION,
                "ProtocolVersion": "ipfs/0.1.0",
                "Protocols": [],
            })
        }
    };
    println!("{}", serde_json::to_string_pretty(&value)?);
    Ok(())
}

fn strings(v: &serde_json::Value) -> Vec<String> {
    v["Strings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

pub fn swarm(dir: &Path, cmd: SwarmCommand) -> Result<()> {
    let base = require_daemon(dir)?;
    match cmd {
        SwarmCommand::Peers => {
            let v = call(&base, "swarm/peers", &[], None)?;
            for p in v["Peers"].as_array().into_iter().flatten() {
                println!(
                    "{}/p2p/{}",
                    p["Addr"].as_str().unwrap_or_default(),
                    p["Peer"].as_str().unwrap_or_default()
                );
            }
        }
        SwarmCommand::Connect { addr } => {
            let v = call(&base, "swarm/connect", &[("arg", &addr)], None)?;
            strings(&v).iter().for_each(|s| println!("{s}"));
        }
        SwarmCommand::Disconnect { addr } => {
            let v = call(&base, "swarm/disconnect", &[("arg", &addr)], None)?;
            strings(&v).iter().for_each(|s| println!("{s}"));
        }
        SwarmCommand::Addrs => {
            let v = call(&base, "swarm/addrs/listen", &[], None)?;
            strings(&v).iter().for_each(|s| println!("{s}"));
        }
    }
    Ok(())
}

fn mb(topic: &str) -> String {
    format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(topic.as_bytes())
    )
}

fn mb_decode(s: &str) -> Vec<u8> {
    s.strip_prefix('u')
        .and_then(|b| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(b)
                .ok()
        })
        .unwrap_or_default()
}

pub fn pubsub(dir: &Path, cmd: PubsubCommand) -> Result<()> {
    let base = require_daemon(dir)?;
    match cmd {
        PubsubCommand::Pub { topic, data } => {
            let bytes = match data {
                Some(d) => d.into_bytes(),
                None => {
                    let mut b = Vec::new();
                    std::io::stdin().read_to_end(&mut b)?;
                    b
                }
            };
            call(&base, "pubsub/pub", &[("arg", &mb(&topic))], Some(&bytes))?;
        }
        PubsubCommand::Sub { topic, count } => {
            let mut seen = 0usize;
            let stdout = std::io::stdout();
            call_stream(&base, "pubsub/sub", &[("arg", &mb(&topic))], |msg| {
                let mut out = stdout.lock();
                out.write_all(&mb_decode(msg["data"].as_str().unwrap_or_default()))?;
                out.write_all(b"\n")?;
                out.flush()?;
                seen += 1;
                Ok(count.is_none_or(|c| seen < c))
            })?;
        }
        PubsubCommand::Ls => {
            for t in strings(&call(&base, "pubsub/ls", &[], None)?) {
                println!("{}", String::from_utf8_lossy(&mb_decode(&t)));
            }
        }
        PubsubCommand::Peers { topic } => {
            let args = topic.as_deref().map(mb);
            let args: Vec<(&str, &str)> = args.iter().map(|t| ("arg", t.as_str())).collect();
            for p in strings(&call(&base, "pubsub/peers", &args, None)?) {
                println!("{p}");
            }
        }
    }
    Ok(())
}

pub fn routing(dir: &Path, cmd: RoutingCommand) -> Result<()> {
    let base = require_daemon(dir)?;
    match cmd {
        RoutingCommand::Provide { cid } => {
            call_stream(&base, "routing/provide", &[("arg", &cid)], |_| Ok(true))?;
        }
        RoutingCommand::Findprovs { cid, num_providers } => {
            let n = num_providers.to_string();
            call_stream(
                &base,
                "routing/findprovs",
                &[("arg", &cid), ("num-providers", &n)],
                |ev| {
                    for r in ev["Responses"].as_array().into_iter().flatten() {
                        println!("{}", r["ID"].as_str().unwrap_or_default());
                    }
                    Ok(true)
                },
            )?;
        }
    }
    Ok(())
}

/// `cat` through the daemon (fetches missing blocks from the network).
pub fn cat(base: &str, path: &str, offset: u64, length: Option<u64>, timeout: &str) -> Result<()> {
    let off = offset.to_string();
    let len = length.map(|l| l.to_string());
    let mut args = vec![
        ("arg", path),
        ("offset", off.as_str()),
        ("timeout", timeout),
    ];
    if let Some(l) = &len {
        args.push(("length", l.as_str()));
    }
    crate::rpc_client::copy_to_stdout(crate::rpc_client::call_raw(base, "cat", &args)?)
}
