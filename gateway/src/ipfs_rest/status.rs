//! `GET /api/ipfs/status` (the node at a glance) and `GET /api/ipfs/stats` (repo numbers).

use super::IpfsRestContext;
use super::error::{RestResult, blocking, ok};
use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;
use wanda_node::net::NodeHandle;
use wanda_node::store::{PinMode, StoreStats};

/// Repo numbers and pin counts, read on a blocking thread.
async fn repo(ctx: &IpfsRestContext) -> RestResult<(StoreStats, u64, u64)> {
    let store = ctx.store.clone();
    blocking(move || {
        let stats = store.stats()?;
        let pins = store.list_pins()?;
        let recursive = pins
            .iter()
            .filter(|(_, r)| r.mode == PinMode::Recursive)
            .count() as u64;
        Ok((stats, recursive, pins.len() as u64 - recursive))
    })
    .await
}

fn bandwidth(node: Option<&NodeHandle>) -> Value {
    let b = node.map(NodeHandle::bandwidth).unwrap_or_default();
    json!({
        "total_in": b.total_in,
        "total_out": b.total_out,
        "rate_in": b.rate_in,
        "rate_out": b.rate_out,
    })
}

fn repo_json(ctx: &IpfsRestContext, stats: &StoreStats) -> Value {
    let percent = if ctx.storage_max == 0 {
        0.0
    } else {
        (stats.disk_bytes as f64 * 1000.0 / ctx.storage_max as f64).round() / 10.0
    };
    json!({
        "size_bytes": stats.disk_bytes,
        "max_bytes": ctx.storage_max,
        "used_percent": percent,
        "full": stats.disk_bytes >= ctx.storage_max,
    })
}

/// `GET /api/ipfs/status` → `{online, peer_id, addresses, peers, wanda_peers,
/// repo: {size_bytes, max_bytes, used_percent, full}, bandwidth: {total_in, total_out,
/// rate_in, rate_out}}`.
pub async fn status(State(ctx): State<Arc<IpfsRestContext>>) -> RestResult<Response> {
    let (stats, _, _) = repo(&ctx).await?;
    let mut data = json!({
        "online": false,
        "peer_id": null,
        "addresses": [],
        "peers": 0,
        "wanda_peers": 0,
        "repo": repo_json(&ctx, &stats),
        "bandwidth": bandwidth(ctx.node.as_ref()),
    });
    if let Some(node) = &ctx.node {
        let id = node.peer_id();
        data["peer_id"] = json!(id.to_string());
        // a stopped node answers no command: it is offline
        if let (Ok(addrs), Ok(peers)) = (node.listen_addrs().await, node.peers().await) {
            data["online"] = json!(true);
            data["addresses"] = json!(
                addrs
                    .iter()
                    .map(|a| format!("{a}/p2p/{id}"))
                    .collect::<Vec<_>>()
            );
            data["peers"] = json!(peers.len());
            data["wanda_peers"] = json!(peers.iter().filter(|p| p.is_wanda).count());
        }
    }
    Ok(ok(data))
}

/// `GET /api/ipfs/stats` → `{blocks, bytes, disk_bytes, file_bytes, max_bytes,
/// pins: {recursive, direct, total}, bandwidth: {…}}`.
pub async fn stats(State(ctx): State<Arc<IpfsRestContext>>) -> RestResult<Response> {
    let (stats, recursive, direct) = repo(&ctx).await?;
    Ok(ok(json!({
        "blocks": stats.num_blocks,
        "bytes": stats.block_bytes,
        "disk_bytes": stats.disk_bytes,
        "file_bytes": stats.file_bytes,
        "max_bytes": ctx.storage_max,
        "pins": {"recursive": recursive, "direct": direct, "total": recursive + direct},
        "bandwidth": bandwidth(ctx.node.as_ref()),
        "limits": limits(ctx.node.as_ref()).await,
    })))
}

/// The node's defence counters (`null` offline): connections refused and trimmed, pub/sub
/// messages rejected or ignored, peers penalised.
async fn limits(node: Option<&NodeHandle>) -> Value {
    match node {
        Some(n) => match tokio::time::timeout(
            std::time::Duration::from_secs(2),
            crate::rpc::stats::limits_json(n),
        )
        .await
        {
            Ok(Ok(v)) => v,
            _ => Value::Null,
        },
        None => Value::Null,
    }
}
