//! `routing/provide`, `routing/findprovs` (Kubo's streamed query events, one JSON per line).

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::swarm::first_arg;
use axum::extract::{Query, State};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Kubo's routing event type for "provider found".
const EVENT_PROVIDER: u8 = 4;

fn parse(q: &[(String, String)]) -> RpcResult<cid::Cid> {
    let raw = first_arg(q, "key")?;
    wanda_node::parse_cid(raw).map_err(|e| RpcError::bad_request(e.to_string()))
}

/// `POST /api/v0/routing/provide?arg=<cid>`: the block must be local, like Kubo.
pub async fn provide(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<String> {
    let cid = parse(&q)?;
    if !ctx.store.has(&cid)? {
        return Err(RpcError::not_found(format!(
            "block {cid} not found locally, cannot provide"
        )));
    }
    ctx.node.provide(cid).await?;
    Ok(format!(
        "{}\n",
        json!({"ID": "", "Type": 0, "Responses": null, "Extra": ""})
    ))
}

/// `POST /api/v0/routing/findprovs?arg=<cid>[&num-providers=N]`.
pub async fn findprovs(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<String> {
    let cid = parse(&q)?;
    let limit = q
        .iter()
        .find(|(k, _)| k == "num-providers")
        .map(|(_, v)| v.parse::<usize>())
        .transpose()
        .map_err(|_| RpcError::bad_request("num-providers must be a number"))?
        .unwrap_or(20);
    let found = ctx
        .node
        .find_providers(cid, limit, Duration::from_secs(30))
        .await?;
    let mut out = String::new();
    for peer in found {
        out.push_str(
            &json!({"ID": "", "Type": EVENT_PROVIDER, "Responses": [{"ID": peer.to_string(), "Addrs": []}], "Extra": ""})
                .to_string(),
        );
        out.push('\n');
    }
    Ok(out)
}
