//! `cat`: file content by `CID[/path]`, fetching missing blocks from the network.

use super::RpcContext;
use super::error::RpcResult;
use super::params::{block_source, number};
use super::stream::{Kind, respond};
use super::swarm::first_arg;
use axum::extract::{Query, State};
use axum::response::Response;
use std::sync::Arc;
use wanda_node::unixfs::{FileReader, resolve_path};

/// `POST /api/v0/cat?arg=<CID[/path]>[&offset=N][&length=N][&timeout=30s][&offline=true]`.
pub async fn cat(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let path = first_arg(&q, "ipfs-path")?.to_string();
    let offset = number::<u64>(&q, "offset")?.unwrap_or(0);
    let length = number::<u64>(&q, "length")?;
    let src = block_source(&ctx, &q)?;
    respond(Kind::Raw("text/plain"), move |out| {
        let src = &*src;
        let reader = resolve_path(src, &path).and_then(|r| FileReader::open(src, r.cid))?;
        reader.copy_range(offset, length, out)?;
        Ok(())
    })
    .await
}

/// Parses Kubo-style durations: `500ms`, `30s`, `2m`, `1h`.
pub use wanda_node::repo::config::parse_duration;
