//! `stats/bw`: real byte counters of every libp2p connection, and recent rates.

use super::RpcContext;
use axum::Json;
use axum::extract::State;
use std::sync::Arc;
use wanda_node::net::Bandwidth;

/// `POST /api/v0/stats/bw` → `{"TotalIn","TotalOut","RateIn","RateOut"}`.
pub async fn bw(State(ctx): State<Arc<RpcContext>>) -> Json<Bandwidth> {
    Json(ctx.node.bandwidth())
}

/// `POST /api/v0/stats/limits` → the node's defence counters (WANDA's own command): established
/// connections, connections refused by the limits and trimmed by the connection manager,
/// pub/sub messages rejected (invalid) and ignored (rate), peers penalised, and what the
/// Bitswap server refused.
pub async fn limits(
    State(ctx): State<Arc<RpcContext>>,
) -> super::error::RpcResult<Json<serde_json::Value>> {
    Ok(Json(limits_json(&ctx.node).await?))
}

/// The counters of `stats/limits` as JSON (also in `/api/ipfs/stats`).
pub async fn limits_json(
    node: &wanda_node::net::NodeHandle,
) -> wanda_node::Result<serde_json::Value> {
    let net = node.stats().await?;
    let b = node.bitswap_stats().await?;
    let mut v = serde_json::to_value(net).unwrap_or_default();
    v["bitswap"] = serde_json::json!({
        "messages_refused": b.messages_refused,
        "entries_refused": b.entries_refused,
        "bad_frames": b.bad_frames,
        "frame_timeouts": b.frame_timeouts,
        "strikes": b.strikes,
        "peers_penalised": b.peers_penalised,
        "connections_denied": b.connections_denied,
        "penalised_now": b.penalised_now,
    });
    Ok(v)
}

/// `POST /api/v0/stats/bitswap` → Kubo's fields: `BlocksReceived`, `DataReceived`,
/// `BlocksSent`, `DataSent`, `DupBlksReceived`, `Wantlist` (CIDs we want), `Peers`.
pub async fn bitswap(
    State(ctx): State<Arc<RpcContext>>,
) -> super::error::RpcResult<Json<serde_json::Value>> {
    let b = ctx.node.bitswap_stats().await?;
    Ok(Json(serde_json::json!({
        "BlocksReceived": b.blocks_received,
        "DataReceived": b.bytes_received,
        "BlocksSent": b.blocks_sent,
        "DataSent": b.bytes_sent,
        "DupBlksReceived": b.duplicate_blocks,
        "DupDataReceived": 0,
        "MessagesReceived": 0,
        "ProvideBufLen": 0,
        "Wantlist": [],
        "WantlistLength": b.wanted,
        "Peers": b.ledgers.keys().map(|p| p.to_string()).collect::<Vec<_>>(),
    })))
}
