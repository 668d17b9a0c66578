//! `repo/stat` and `repo/gc`.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::params::flag;
use super::stream::{Kind, respond};
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;

/// `POST /api/v0/repo/stat[?size-only=true]` → Kubo's `{"RepoSize","StorageMax","NumObjects",
/// "RepoPath","Version"}` plus WANDA's `BlockBytes` (content bytes of all blocks).
pub async fn stat(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let size_only = flag(&q, "size-only", false)?;
    flag(&q, "human", false)?;
    let store = ctx.store.clone();
    let stats = tokio::task::spawn_blocking(move || store.stats())
        .await
        .map_err(|e| RpcError::bad_request(e.to_string()))??;
    if size_only {
        return Ok(Json(
            json!({"RepoSize": stats.disk_bytes, "StorageMax": ctx.storage_max}),
        ));
    }
    Ok(Json(json!({
        "RepoSize": stats.disk_bytes,
        "StorageMax": ctx.storage_max,
        "NumObjects": stats.num_blocks,
        "BlockBytes": stats.block_bytes,
        "RepoPath": ctx.repo_dir.display().to_string(),
        "Version": format!("wanda-repo@{}", wanda_node::repo::REPO_VERSION),
    })))
}

/// `POST /api/v0/repo/gc` → `{"Key":{"/":<cid>}}` per removed block (CIDv1 raw of its
/// multihash, as blocks are stored by multihash).
pub async fn gc(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    flag(&q, "quiet", false)?;
    flag(&q, "stream-errors", false)?;
    let store = ctx.store.clone();
    respond(Kind::Ndjson, move |out| {
        let report = wanda_node::gc::collect_garbage(&store)?;
        for mh in &report.removed {
            let mh = cid::multihash::Multihash::<64>::from_bytes(mh)
                .map_err(|e| RpcError::bad_request(e.to_string()))?;
            let cid = cid::Cid::new_v1(wanda_node::ipld::RAW, mh);
            out.json(&json!({"Key": {"/": cid.to_string()}}))?;
        }
        Ok(())
    })
    .await
}
