//! `dag/export` (CAR v1 stream) and `dag/import` (multipart CAR files).

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::multipart::{checked_upload, entries};
use super::params::{block_source, flag};
use super::stream::{Kind, respond};
use super::swarm::first_arg;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use serde_json::json;
use std::sync::Arc;

/// `POST /api/v0/dag/export?arg=<cid>[&timeout=60s][&offline=true]` →
/// `application/vnd.ipld.car`, depth-first like Kubo.
pub async fn export(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let cid = wanda_node::parse_cid(first_arg(&q, "root")?)?;
    flag(&q, "progress", false)?;
    let src = block_source(&ctx, &q)?;
    respond(Kind::Raw("application/vnd.ipld.car"), move |out| {
        wanda_node::dag::export_car(&*src, &cid, out)?;
        Ok(())
    })
    .await
}

/// `POST /api/v0/dag/import[?pin-roots=true][&stats=false]` with CAR files as multipart parts →
/// `{"Root":{"Cid":{"/":…},"PinErrorMsg":""}}` per pinned root, then
/// `{"Stats":{"BlockCount","BlockBytesCount"}}` with `stats=true`.
pub async fn import(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> RpcResult<Response> {
    let checked = (|| Ok((flag(&q, "pin-roots", true)?, flag(&q, "stats", false)?)))();
    let ((pin_roots, stats), multipart) = checked_upload(checked, multipart).await?;
    let (mut parts, read_error) = entries(multipart);
    let store = ctx.store.clone();
    respond(Kind::Ndjson, move |out| {
        let (mut blocks, mut bytes, mut files) = (0u64, 0u64, 0u32);
        while let Some(name) = parts.next_file()? {
            let report =
                wanda_node::dag::import_car(&store, &mut parts, pin_roots).map_err(|e| {
                    read_error.take().unwrap_or_else(|| {
                        let e = RpcError::from(e);
                        if name.is_empty() {
                            e
                        } else {
                            RpcError::bad_request(format!("{name}: {}", e.message()))
                        }
                    })
                })?;
            blocks += report.blocks;
            bytes += report.block_bytes;
            files += 1;
            if pin_roots {
                for root in &report.roots {
                    out.json(
                        &json!({"Root": {"Cid": {"/": root.to_string()}, "PinErrorMsg": ""}}),
                    )?;
                }
            }
        }
        if let Some(e) = read_error.take() {
            return Err(e);
        }
        if files == 0 {
            return Err(RpcError::bad_request("argument \"path\" is required"));
        }
        if stats {
            out.json(&json!({"Stats": {"BlockCount": blocks, "BlockBytesCount": bytes}}))?;
        }
        Ok(())
    })
    .await
}
