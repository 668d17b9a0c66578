//! `name/publish`, `name/resolve`: IPNS over the DHT (Kubo's JSON shapes).

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::files::parse_duration;
use super::key::keystore_dir;
use super::swarm::args;
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use wanda_node::ipns::IpnsName;
use wanda_node::repo::keystore;

/// Kubo's defaults.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// How many `/ipns/` hops a resolve follows.
const MAX_DEPTH: usize = 32;

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

fn duration(q: &[(String, String)], key: &str, default: Duration) -> RpcResult<Duration> {
    match param(q, key) {
        None => Ok(default),
        Some(v) => parse_duration(v).ok_or_else(|| {
            RpcError::bad_request(format!(
                "{key} \"{v}\" is not a duration like 24h, 1m or 30s"
            ))
        }),
    }
}

/// `/ipfs/<cid>[/…]` (a bare CID gets the prefix), or `/ipns/<name>`; the CID must parse.
fn content_path(raw: &str) -> RpcResult<String> {
    let path = if raw.starts_with('/') {
        raw.to_string()
    } else {
        format!("/ipfs/{raw}")
    };
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    match (parts.next(), parts.next()) {
        (Some("ipfs"), Some(cid)) => {
            wanda_node::parse_cid(cid).map_err(|e| RpcError::bad_request(e.to_string()))?;
        }
        (Some("ipns"), Some(name)) => {
            name.parse::<IpnsName>()
                .map_err(|e| RpcError::bad_request(e.to_string()))?;
        }
        _ => {
            return Err(RpcError::bad_request(format!(
                "invalid path \"{raw}\": expected /ipfs/<cid> or /ipns/<name>"
            )));
        }
    }
    Ok(path)
}

/// `POST /api/v0/name/publish?arg=<path>[&key=<name>][&lifetime=24h][&ttl=1m]` → `{"Name","Value"}`.
pub async fn publish(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let raw = args(&q)
        .into_iter()
        .next()
        .ok_or_else(|| RpcError::bad_request("argument \"ipfs-path\" is required"))?;
    let value = content_path(raw)?;
    let lifetime = duration(&q, "lifetime", DEFAULT_LIFETIME)?;
    let ttl = duration(&q, "ttl", DEFAULT_TTL)?;
    let key_name = param(&q, "key").unwrap_or(keystore::SELF).to_string();
    let dir = keystore_dir(&ctx);
    let key = tokio::task::spawn_blocking(move || keystore::load(&dir, &key_name))
        .await
        .map_err(|e| RpcError::bad_request(e.to_string()))??;
    let name = ctx
        .node
        .publish_name(key, value.clone(), lifetime, ttl)
        .await?;
    Ok(Json(json!({"Name": name.to_string(), "Value": value})))
}

/// `POST /api/v0/name/resolve[?arg=<name>]` (default: this node's name) → `{"Path"}`.
/// Follows `/ipns/` values up to 32 hops.
pub async fn resolve(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let mut name = match args(&q).into_iter().next() {
        Some(raw) => raw
            .parse::<IpnsName>()
            .map_err(|e| RpcError::bad_request(e.to_string()))?,
        None => IpnsName::from_peer_id(ctx.node.peer_id()),
    };
    let recursive = param(&q, "recursive") != Some("false");
    for _ in 0..MAX_DEPTH {
        let resolved = ctx.node.resolve_name(&name).await?;
        match resolved.value.strip_prefix("/ipns/") {
            Some(next) if recursive => {
                let next = next.split('/').next().unwrap_or_default();
                name = next
                    .parse::<IpnsName>()
                    .map_err(|e| RpcError::bad_request(e.to_string()))?;
            }
            _ => return Ok(Json(json!({"Path": resolved.value}))),
        }
    }
    Err(RpcError::bad_request(format!(
        "could not resolve name: more than {MAX_DEPTH} /ipns/ hops"
    )))
}
