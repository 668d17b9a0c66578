//! `GET /api/ipfs/peers?wanda_only=` and `POST /api/ipfs/peers/connect {multiaddr}`.

use super::IpfsRestContext;
use super::error::{RestError, RestResult, ok};
use super::params::{Query, object_body, required_str};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /api/ipfs/peers?wanda_only=true|false` → `{peers: [{peer_id, multiaddr, agent,
/// protocols, is_wanda}], count, wanda_only}`. Offline: no peers.
pub async fn list(
    State(ctx): State<Arc<IpfsRestContext>>,
    RawQuery(raw): RawQuery,
) -> RestResult<Response> {
    let q = Query::parse(raw.as_deref());
    let wanda_only = q.flag("wanda_only", false)?;
    let peers = match &ctx.node {
        Some(node) => node.peers().await.unwrap_or_default(),
        None => Vec::new(),
    };
    let list: Vec<Value> = peers
        .into_iter()
        .filter(|p| !wanda_only || p.is_wanda)
        .map(|p| {
            json!({
                "peer_id": p.peer,
                "multiaddr": p.addr,
                "agent": p.agent,
                "protocols": p.protocols,
                "is_wanda": p.is_wanda,
            })
        })
        .collect();
    Ok(ok(json!({
        "count": list.len(),
        "peers": list,
        "wanda_only": wanda_only,
    })))
}

/// `POST /api/ipfs/peers/connect {multiaddr}` → `{peer_id, multiaddr}` once connected; 503
/// `IPFS_PEER_UNREACHABLE` when the dial fails, times out, or the node is offline.
pub async fn connect(State(ctx): State<Arc<IpfsRestContext>>, body: Bytes) -> RestResult<Response> {
    let body = object_body(&body)?;
    let raw = required_str(&body, "multiaddr")?;
    let addr: libp2p::Multiaddr = raw
        .parse()
        .map_err(|e| RestError::invalid(format!("invalid multiaddr \"{raw}\": {e}")))?;
    let Some(node) = &ctx.node else {
        return Err(RestError::unreachable("the IPFS node is not running"));
    };
    let peer = tokio::time::timeout(ctx.connect_timeout, node.connect(addr))
        .await
        .map_err(|_| {
            RestError::unreachable(format!(
                "no connection to {raw} within {} s",
                ctx.connect_timeout.as_secs()
            ))
        })?
        .map_err(|e| RestError::unreachable(format!("cannot connect to {raw}: {e}")))?;
    Ok(ok(json!({"peer_id": peer.to_string(), "multiaddr": raw})))
}
