//! `id`, `version`, `stats/bw`.

use super::RpcContext;
use super::error::RpcResult;
use axum::Json;
use axum::extract::State;
use base64::Engine;
use serde_json::{Value, json};
use std::sync::Arc;

/// `POST /api/v0/id` — Kubo's shape.
pub async fn id(State(ctx): State<Arc<RpcContext>>) -> RpcResult<Json<Value>> {
    let peer = ctx.node.peer_id();
    let addrs: Vec<String> = ctx
        .node
        .listen_addrs()
        .await?
        .into_iter()
        .map(|a| format!("{a}/p2p/{peer}"))
        .collect();
    Ok(Json(json!({
        "ID": peer.to_string(),
        "PublicKey": base64::engine::general_purpose::STANDARD.encode(&ctx.public_key),
        "Addresses": addrs,
        "AgentVersion": wanda_node::net::AGENT_VERSION,
        "ProtocolVersion": "ipfs/0.1.0",
        "Protocols": ctx.node.protocols(),
    })))
}

/// `POST /api/v0/version`.
pub async fn version() -> Json<Value> {
    Json(json!({
        "Version": env!("CARGO_PKG_VERSION"),
        "Commit": "",
        "Repo": wanda_node::repo::REPO_VERSION.to_string(),
        "System": format!("{}/{}", std::env::consts::ARCH, std::env::consts::OS),
        "Golang": "",
    }))
}
