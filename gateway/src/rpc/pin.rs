//! `pin/add|rm|ls`.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::params::{block_source, flag, value};
use super::stream::{Kind, respond};
use super::swarm::args;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use wanda_node::dag_walk::walk_unique;
use wanda_node::pinning::{PinFilter, pin_add, pin_ls, pin_rm};
use wanda_node::unixfs::resolve_path;

fn paths(q: &[(String, String)]) -> RpcResult<Vec<String>> {
    let paths: Vec<String> = args(q).into_iter().map(str::to_string).collect();
    if paths.is_empty() {
        return Err(RpcError::bad_request("argument \"ipfs-path\" is required"));
    }
    Ok(paths)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> RpcResult<T> + Send + 'static,
) -> RpcResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RpcError::bad_request(format!("interrupted: {e}")))?
}

/// `POST /api/v0/pin/add?arg=<CID[/path]>…[&recursive=true][&name=N][&offline=true]` →
/// `{"Pins":[…]}`. Without `offline`, missing blocks of the DAG are fetched first.
pub async fn add(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let paths = paths(&q)?;
    let recursive = flag(&q, "recursive", true)?;
    flag(&q, "progress", false)?;
    let name = value(&q, "name").map(str::to_string);
    let src = block_source(&ctx, &q)?;
    let store = ctx.store.clone();
    let pins = blocking(move || {
        let mut pins = Vec::new();
        for path in paths {
            let cid = resolve_path(&*src, &path)?.cid;
            if recursive {
                walk_unique(&*src, &cid, &mut HashSet::new(), &mut |_, _| Ok(()))?;
            } else {
                src.get_block(&cid)?;
            }
            pin_add(&store, &cid, recursive, name.clone())?;
            pins.push(cid.to_string());
        }
        Ok(pins)
    })
    .await?;
    Ok(Json(json!({ "Pins": pins })))
}

/// `POST /api/v0/pin/rm?arg=<CID[/path]>…` → `{"Pins":[…]}`.
pub async fn rm(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let paths = paths(&q)?;
    flag(&q, "recursive", true)?;
    let store = ctx.store.clone();
    let pins = blocking(move || {
        let mut pins = Vec::new();
        for path in paths {
            let cid = resolve_path(&store, &path)?.cid;
            pin_rm(&store, &cid)?;
            pins.push(cid.to_string());
        }
        Ok(pins)
    })
    .await?;
    Ok(Json(json!({ "Pins": pins })))
}

/// `POST /api/v0/pin/ls[?type=all|recursive|direct|indirect][&arg=<cid>…][&stream=true]` →
/// `{"Keys":{"<cid>":{"Type":…}}}`, or with `stream=true` one `{"Cid","Type"}` per line in
/// `wanda pin ls` order. With `arg`, only those CIDs (an unpinned one is an error).
pub async fn ls(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let filter: PinFilter = value(&q, "type")
        .unwrap_or("all")
        .parse()
        .map_err(|e: wanda_node::Error| RpcError::bad_request(e.to_string()))?;
    let stream = flag(&q, "stream", false)?;
    flag(&q, "quiet", false)?;
    let wanted: Vec<String> = args(&q).into_iter().map(str::to_string).collect();
    let store = ctx.store.clone();
    respond(Kind::Ndjson, move |out| {
        let pins = pin_ls(&store, filter)?;
        let mut selected = Vec::new();
        if wanted.is_empty() {
            selected.extend(pins.values().cloned());
        } else {
            for path in &wanted {
                let cid = resolve_path(&store, path)?.cid;
                let hit = pins.values().find(|(c, _)| c.hash() == cid.hash());
                let hit = hit
                    .ok_or_else(|| RpcError::bad_request(format!("path '{path}' is not pinned")))?;
                selected.push(hit.clone());
            }
        }
        if stream {
            for (cid, kind) in selected {
                out.json(&json!({"Cid": cid.to_string(), "Type": kind.to_string()}))?;
            }
        } else {
            let mut keys = Map::new();
            for (cid, kind) in selected {
                keys.insert(cid.to_string(), json!({"Type": kind.to_string()}));
            }
            out.json(&json!({ "Keys": keys }))?;
        }
        Ok(())
    })
    .await
}
