//! `refs` (links below a CID, optionally recursive) and `refs/local` (every stored block).

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::params::{block_source, flag, number, value};
use super::stream::{Kind, respond};
use super::swarm::args;
use axum::extract::{Query, State};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;
use wanda_node::dag_walk;
use wanda_node::unixfs::resolve_path;

/// `POST /api/v0/refs?arg=<CID[/path]>…[&recursive=true][&unique=true][&max-depth=N]
/// [&edges=true][&format=<src> <dst>][&offline=true]` → `{"Ref","Err"}` per link, depth-first.
pub async fn refs(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let paths: Vec<String> = args(&q).into_iter().map(str::to_string).collect();
    if paths.is_empty() {
        return Err(RpcError::bad_request("argument \"ipfs-path\" is required"));
    }
    let recursive = flag(&q, "recursive", false)?;
    let unique = flag(&q, "unique", false)?;
    let edges = flag(&q, "edges", false)?;
    let max_depth = number::<i64>(&q, "max-depth")?.unwrap_or(-1);
    let format = match (value(&q, "format"), edges) {
        (Some(f), false) => f.to_string(),
        (Some(_), true) => {
            return Err(RpcError::bad_request(
                "using format argument with edges is not allowed",
            ));
        }
        (None, true) => "<src> -> <dst>".to_string(),
        (None, false) => "<dst>".to_string(),
    };
    let depth = match (recursive, max_depth) {
        (false, _) => Some(1),
        (true, d) if d < 0 => None,
        (true, d) => Some(d as usize),
    };
    let src = block_source(&ctx, &q)?;
    respond(Kind::Ndjson, move |out| {
        let src = &*src;
        for path in paths {
            let root = resolve_path(src, &path)?.cid;
            let mut sent = Ok(());
            dag_walk::refs(src, &root, unique, depth, &mut |parent, child| {
                let line = format
                    .replace("<src>", &parent.to_string())
                    .replace("<dst>", &child.to_string());
                sent = out.json(&json!({"Ref": line, "Err": ""}));
                match &sent {
                    Ok(()) => Ok(()),
                    Err(_) => Err(wanda_node::Error::InvalidInput("client went away".into())),
                }
            })?;
            sent?;
        }
        Ok(())
    })
    .await
}

/// `POST /api/v0/refs/local` → `{"Ref","Err"}` for every block in the store.
pub async fn local(State(ctx): State<Arc<RpcContext>>) -> RpcResult<Response> {
    let store = ctx.store.clone();
    respond(Kind::Ndjson, move |out| {
        for cid in store.all_cids()? {
            out.json(&json!({"Ref": cid.to_string(), "Err": ""}))?;
        }
        Ok(())
    })
    .await
}
