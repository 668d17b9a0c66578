//! `key/gen`, `key/list`: named IPNS keys in `$REPO/keystore/` (Kubo's JSON shapes).

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::swarm::first_arg;
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use wanda_node::repo::keystore;

/// The repo's keystore.
pub fn keystore_dir(ctx: &RpcContext) -> PathBuf {
    keystore::dir(&ctx.repo_dir)
}

fn param<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `POST /api/v0/key/gen?arg=<name>[&type=ed25519]` → `{"Name","Id"}`.
pub async fn generate(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let name = first_arg(&q, "name")?.to_string();
    let kind = param(&q, "type").unwrap_or("ed25519").to_string();
    let dir = keystore_dir(&ctx);
    let key = tokio::task::spawn_blocking(move || {
        keystore::generate(&dir, &name, &kind).map(|k| (name, k))
    })
    .await
    .map_err(|e| RpcError::bad_request(e.to_string()))??;
    let id = wanda_node::ipns::IpnsName::from_public_key(&key.1.public());
    Ok(Json(json!({"Name": key.0, "Id": id.to_string()})))
}

/// `POST /api/v0/key/list` → `{"Keys":[{"Name","Id"}]}` (`self` first).
pub async fn list(State(ctx): State<Arc<RpcContext>>) -> RpcResult<Json<Value>> {
    let dir = keystore_dir(&ctx);
    let keys = tokio::task::spawn_blocking(move || keystore::list(&dir))
        .await
        .map_err(|e| RpcError::bad_request(e.to_string()))??;
    let keys: Vec<Value> = keys
        .into_iter()
        .map(|(n, id)| json!({"Name": n, "Id": id.to_string()}))
        .collect();
    Ok(Json(json!({ "Keys": keys })))
}
