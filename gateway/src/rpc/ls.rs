//! `ls`: directory entries with Kubo's `{"Objects":[{"Hash","Links":[…]}]}` shape.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::params::block_source;
use super::swarm::args;
use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use std::sync::Arc;
use wanda_node::store::Blockstore;
use wanda_node::unixfs::{ListEntry, NodeKind, list_directory, node_kind, resolve_path};

/// Kubo's UnixFS type numbers in `ls` output.
const TYPE_DIRECTORY: u8 = 1;
const TYPE_FILE: u8 = 2;
const TYPE_SYMLINK: u8 = 4;
/// Not UnixFS (another codec, or dag-pb without UnixFS data).
const TYPE_OTHER: u8 = 0;

/// One link: type and size come from the child block when it is local; a child that is not
/// local is reported as a file of its link's cumulative size (`Tsize`), as `wanda ls` does.
fn link(store: &Blockstore, entry: &ListEntry) -> wanda_node::Result<Value> {
    let (kind, size) = match store.get(&entry.cid)? {
        Some(block) => match node_kind(&entry.cid, &block) {
            NodeKind::File(s) | NodeKind::Raw(s) => (TYPE_FILE, s),
            NodeKind::Directory | NodeKind::HamtShard => (TYPE_DIRECTORY, 0),
            NodeKind::Symlink => (TYPE_SYMLINK, 0),
            NodeKind::Other => (TYPE_OTHER, 0),
        },
        None => (TYPE_FILE, entry.tsize),
    };
    Ok(
        json!({"Name": entry.name, "Hash": entry.cid.to_string(), "Size": size, "Type": kind,
              "Target": ""}),
    )
}

/// `POST /api/v0/ls?arg=<CID[/path]>…[&timeout=60s][&offline=true]`: the directory itself may
/// be fetched from the network; its entries are described from local blocks.
pub async fn ls(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let paths: Vec<String> = args(&q).into_iter().map(str::to_string).collect();
    if paths.is_empty() {
        return Err(RpcError::bad_request("argument \"ipfs-path\" is required"));
    }
    let src = block_source(&ctx, &q)?;
    let store = ctx.store.clone();
    let objects = tokio::task::spawn_blocking(move || -> RpcResult<Vec<Value>> {
        let src = &*src;
        let mut objects = Vec::new();
        for path in paths {
            let resolved = resolve_path(src, &path)?;
            let links = list_directory(src, &resolved.cid)?
                .iter()
                .map(|e| link(&store, e))
                .collect::<wanda_node::Result<Vec<_>>>()?;
            objects.push(json!({"Hash": path, "Links": links}));
        }
        Ok(objects)
    })
    .await
    .map_err(|e| RpcError::bad_request(format!("ls was interrupted: {e}")))??;
    Ok(Json(json!({ "Objects": objects })))
}
