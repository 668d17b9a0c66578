//! `get`: a file or directory tree as a tar stream (Kubo's `get` body), fetching missing blocks
//! from the network.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::params::{block_source, flag};
use super::stream::{Kind, respond};
use super::swarm::first_arg;
use axum::extract::{Query, State};
use axum::response::Response;
use std::sync::Arc;
use wanda_node::unixfs::{export_tar, resolve_path};

/// `POST /api/v0/get?arg=<CID[/path]>[&timeout=60s][&offline=true]` → `application/x-tar`
/// whose top entry is the last path segment, or the CID. `archive` is accepted (the body is
/// always a tar); `compress=true` is refused.
pub async fn get(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let path = first_arg(&q, "ipfs-path")?.to_string();
    flag(&q, "archive", false)?;
    if flag(&q, "compress", false)? {
        return Err(RpcError::bad_request(
            "compress is not supported; fetch the tar and compress it locally",
        ));
    }
    let src = block_source(&ctx, &q)?;
    respond(Kind::Raw("application/x-tar"), move |out| {
        let src = &*src;
        let resolved = resolve_path(src, &path)?;
        let name = resolved
            .segments
            .last()
            .cloned()
            .unwrap_or_else(|| resolved.cid.to_string());
        export_tar(src, &resolved.cid, &name, out)?;
        Ok(())
    })
    .await
}
