//! `swarm/peers|connect|disconnect|addrs/listen`.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use std::sync::Arc;

/// All `arg=` values of a Kubo-style query, in order.
pub fn args(q: &[(String, String)]) -> Vec<&str> {
    q.iter()
        .filter(|(k, _)| k == "arg")
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The first `arg`, or a 400 naming what is missing.
pub fn first_arg<'a>(q: &'a [(String, String)], what: &str) -> RpcResult<&'a str> {
    args(q)
        .into_iter()
        .next()
        .ok_or_else(|| RpcError::bad_request(format!("argument \"{what}\" is required")))
}

/// `POST /api/v0/swarm/peers`.
pub async fn peers(State(ctx): State<Arc<RpcContext>>) -> RpcResult<Json<Value>> {
    let peers: Vec<Value> = ctx
        .node
        .peers()
        .await?
        .into_iter()
        .map(|p| {
            json!({"Addr": p.addr, "Peer": p.peer, "Latency": "", "Muxer": "", "Direction": 0,
                   "Streams": null, "Identify": {"AgentVersion": p.agent, "Protocols": p.protocols}})
        })
        .collect();
    Ok(Json(json!({ "Peers": peers })))
}

/// `POST /api/v0/swarm/connect?arg=<multiaddr>`.
pub async fn connect(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let mut out = Vec::new();
    let list = args(&q);
    if list.is_empty() {
        return Err(RpcError::bad_request("argument \"address\" is required"));
    }
    for raw in list {
        let addr: libp2p::Multiaddr = raw
            .parse()
            .map_err(|e| RpcError::bad_request(format!("invalid multiaddr \"{raw}\": {e}")))?;
        let peer = ctx.node.connect(addr).await?;
        out.push(format!("connect {peer} success"));
    }
    Ok(Json(json!({ "Strings": out })))
}

/// `POST /api/v0/swarm/disconnect?arg=<multiaddr with /p2p/>`.
pub async fn disconnect(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let raw = first_arg(&q, "address")?;
    let peer = raw
        .rsplit("/p2p/")
        .next()
        .and_then(|p| p.parse::<libp2p::PeerId>().ok())
        .ok_or_else(|| {
            RpcError::bad_request(format!("\"{raw}\" does not name a peer (/p2p/<id>)"))
        })?;
    ctx.node.disconnect(peer).await?;
    Ok(Json(
        json!({ "Strings": [format!("disconnect {peer} success")] }),
    ))
}

/// `POST /api/v0/swarm/addrs/listen`.
pub async fn listen_addrs(State(ctx): State<Arc<RpcContext>>) -> RpcResult<Json<Value>> {
    let addrs: Vec<String> = ctx
        .node
        .listen_addrs()
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(Json(json!({ "Strings": addrs })))
}
