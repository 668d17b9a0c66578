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
/// pub/sub messages rejected (invalid) and ignored (rate), peers penalised.
pub async fn limits(
    State(ctx): State<Arc<RpcContext>>,
) -> super::error::RpcResult<Json<wanda_node::net::NetStats>> {
    Ok(Json(ctx.node.stats().await?))
}
