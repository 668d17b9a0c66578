//! `block/get|put|stat|rm`: raw blocks.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::multipart::{checked_upload, entries};
use super::params::{block_source, flag, value};
use super::stream::{Kind, respond};
use super::swarm::{args, first_arg};
use axum::Json;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use cid::Cid;
use multihash_codetable::{Code, MultihashDigest};
use serde_json::{Value, json};
use std::io::Read;
use std::sync::Arc;
use wanda_node::parse_cid;
use wanda_node::store::{PinMode, PinRecord};

/// Largest block `block/put` accepts (Kubo's limit).
pub const MAX_BLOCK: usize = 2 << 20;

fn cid_arg(q: &[(String, String)]) -> RpcResult<Cid> {
    parse_cid(first_arg(q, "cid")?).map_err(RpcError::from)
}

/// `POST /api/v0/block/get?arg=<cid>[&timeout=60s][&offline=true]` → the raw bytes.
pub async fn get(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let cid = cid_arg(&q)?;
    let src = block_source(&ctx, &q)?;
    respond(Kind::Raw("application/octet-stream"), move |out| {
        let block = src.get_block(&cid)?;
        out.send(Bytes::from(block))
    })
    .await
}

/// `POST /api/v0/block/stat?arg=<cid>[&offline=true]` → `{"Key","Size"}`.
pub async fn stat(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let cid = cid_arg(&q)?;
    let size = match ctx.store.size(&cid)? {
        Some(size) => size,
        None => {
            let src = block_source(&ctx, &q)?;
            tokio::task::spawn_blocking(move || src.get_block(&cid).map(|b| b.len() as u64))
                .await
                .map_err(|e| RpcError::bad_request(e.to_string()))??
        }
    };
    Ok(Json(json!({"Key": cid.to_string(), "Size": size})))
}

/// Multicodec by name (`cid-codec`), or by Kubo's deprecated `format`.
fn codec(q: &[(String, String)]) -> RpcResult<u64> {
    let name = match (value(q, "cid-codec"), value(q, "format")) {
        (Some(c), _) => c,
        (None, Some("cbor")) => "dag-cbor",
        (None, Some("protobuf")) => "dag-pb",
        (None, Some(f)) => f,
        (None, None) => "raw",
    };
    Ok(match name {
        "raw" => wanda_node::ipld::RAW,
        "dag-pb" => wanda_node::ipld::DAG_PB,
        "dag-cbor" => wanda_node::ipld::DAG_CBOR,
        "dag-json" => wanda_node::ipld::DAG_JSON,
        other => {
            return Err(RpcError::bad_request(format!(
                "unsupported cid-codec \"{other}\" (raw, dag-pb, dag-cbor, dag-json)"
            )));
        }
    })
}

/// `POST /api/v0/block/put[?cid-codec=raw][&mhtype=sha2-256][&pin=false]`, one block per
/// multipart file → `{"Key","Size"}` per block (CIDv1).
pub async fn put(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> RpcResult<Response> {
    let checked = (|| {
        let codec = codec(&q)?;
        if let Some(m) = value(&q, "mhtype").filter(|m| *m != "sha2-256") {
            return Err(RpcError::bad_request(format!(
                "mhtype \"{m}\" is not supported (sha2-256)"
            )));
        }
        Ok((codec, flag(&q, "pin", false)?))
    })();
    let ((codec, pin), multipart) = checked_upload(checked, multipart).await?;
    let (mut parts, read_error) = entries(multipart);
    let store = ctx.store.clone();
    respond(Kind::Ndjson, move |out| {
        let mut any = false;
        while let Some(name) = parts.next_file()? {
            let mut data = Vec::new();
            (&mut parts)
                .take(MAX_BLOCK as u64 + 1)
                .read_to_end(&mut data)
                .map_err(|e| {
                    read_error
                        .take()
                        .unwrap_or(RpcError::bad_request(e.to_string()))
                })?;
            if data.len() > MAX_BLOCK {
                return Err(RpcError::bad_request(format!(
                    "block {name:?} is larger than the 2 MiB limit"
                )));
            }
            let cid = Cid::new_v1(codec, Code::Sha2_256.digest(&data));
            if codec != wanda_node::ipld::RAW {
                wanda_node::dag_walk::block_links(&cid, &data)?;
            }
            store.put(&cid, &data)?;
            if pin {
                store.put_pin(
                    &cid,
                    &PinRecord {
                        mode: PinMode::Direct,
                        name: None,
                    },
                )?;
            }
            out.json(&json!({"Key": cid.to_string(), "Size": data.len()}))?;
            any = true;
        }
        if let Some(e) = read_error.take() {
            return Err(e);
        }
        if !any {
            return Err(RpcError::bad_request("argument \"data\" is required"));
        }
        Ok(())
    })
    .await
}

/// `POST /api/v0/block/rm?arg=<cid>…[&force=true][&quiet=true]` → `{"Hash","Error"}` per block
/// (`Error` empty on success; pinned blocks are refused). The status is 200 either way, as in
/// Kubo; clients report the errors.
pub async fn rm(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let cids = args(&q)
        .into_iter()
        .map(|a| parse_cid(a).map_err(RpcError::from))
        .collect::<RpcResult<Vec<Cid>>>()?;
    if cids.is_empty() {
        return Err(RpcError::bad_request("argument \"cid\" is required"));
    }
    let force = flag(&q, "force", false)?;
    let quiet = flag(&q, "quiet", false)?;
    let store = ctx.store.clone();
    respond(Kind::Ndjson, move |out| {
        let pinned = store.list_pins()?;
        for cid in cids {
            let error = if pinned.iter().any(|(p, _)| p.hash() == cid.hash()) {
                format!("cannot remove {cid}: pinned")
            } else if store.remove(&cid)? {
                String::new()
            } else if force {
                continue;
            } else {
                format!("{cid}: block not found")
            };
            if !(quiet && error.is_empty()) {
                out.json(&json!({"Hash": cid.to_string(), "Error": error}))?;
            }
        }
        Ok(())
    })
    .await
}
