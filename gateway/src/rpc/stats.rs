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
