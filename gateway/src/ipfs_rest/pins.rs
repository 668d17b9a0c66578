//! `GET /api/ipfs/pins`, `POST /api/ipfs/pins`, `DELETE /api/ipfs/pins/{cid}`.

use super::IpfsRestContext;
use super::error::{RestError, RestResult, blocking, ok};
use super::params::{Query, cid, object_body, opt_bool, opt_str, required_str, seconds};
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use wanda_node::dag_walk::walk_unique;
use wanda_node::pinning::{PinFilter, pin_add, pin_ls, pin_rm};
use wanda_node::store::PinMode;

/// Page size when `limit` is not given.
const DEFAULT_LIMIT: u64 = 100;
/// Largest page.
const MAX_LIMIT: u64 = 10_000;

/// `GET /api/ipfs/pins?type=all|recursive|direct|indirect&limit=&offset=` →
/// `{pins: [{cid, type, name}], total, offset, limit}` in CID order.
pub async fn list(
    State(ctx): State<Arc<IpfsRestContext>>,
    RawQuery(raw): RawQuery,
) -> RestResult<Response> {
    let q = Query::parse(raw.as_deref());
    let filter: PinFilter = q
        .value("type")
        .unwrap_or("all")
        .parse()
        .map_err(|e: wanda_node::Error| RestError::invalid(e.to_string()))?;
    let limit = q.number("limit")?.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(RestError::invalid(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let offset = q.number("offset")?.unwrap_or(0);
    let store = ctx.store.clone();
    let (total, page) = blocking(move || {
        let names: HashMap<_, _> = store
            .list_pins()?
            .into_iter()
            .map(|(c, r)| (c.hash().to_bytes(), r.name))
            .collect();
        let pins = pin_ls(&store, filter)?;
        let page: Vec<Value> = pins
            .values()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .map(|(c, kind)| {
                let name = names.get(&c.hash().to_bytes()).cloned().flatten();
                json!({"cid": c.to_string(), "type": kind.to_string(), "name": name})
            })
            .collect();
        Ok((pins.len(), page))
    })
    .await?;
    Ok(ok(json!({
        "pins": page,
        "total": total,
        "offset": offset,
        "limit": limit,
    })))
}

/// `POST /api/ipfs/pins {cid, recursive = true, name?, timeout?}` → `{cid, type, name}`.
/// Missing blocks are fetched from peers first (each within `timeout` seconds, default the
/// context's fetch timeout): 504 `IPFS_TIMEOUT` when one does not arrive, 404
/// `IPFS_CID_NOT_FOUND` when the node is offline and a block is not local.
pub async fn add(State(ctx): State<Arc<IpfsRestContext>>, body: Bytes) -> RestResult<Response> {
    let body = object_body(&body)?;
    let root = cid(required_str(&body, "cid")?)?;
    let recursive = opt_bool(&body, "recursive", true)?;
    let name = opt_str(&body, "name")?;
    let timeout = match body.get("timeout") {
        None | Some(Value::Null) => ctx.fetch_timeout,
        Some(v) => seconds(v, "timeout")?,
    };
    let src = ctx.source(false, timeout);
    let store = ctx.store.clone();
    let pin_name = name.clone();
    blocking(move || {
        if recursive {
            walk_unique(&*src, &root, &mut HashSet::new(), &mut |_, _| Ok(()))?;
        } else {
            src.get_block(&root)?;
        }
        pin_add(&store, &root, recursive, pin_name)?;
        Ok(())
    })
    .await?;
    let kind = if recursive { "recursive" } else { "direct" };
    Ok(ok(
        json!({"cid": root.to_string(), "type": kind, "name": name}),
    ))
}

/// `DELETE /api/ipfs/pins/{cid}` → `{cid, type, name}` of the removed pin; 404
/// `IPFS_CID_NOT_FOUND` when it is not pinned, 400 when it is only pinned indirectly.
pub async fn remove(
    State(ctx): State<Arc<IpfsRestContext>>,
    path: Result<Path<String>, PathRejection>,
) -> RestResult<Response> {
    let Path(raw) = path.map_err(|e| RestError::invalid_cid(e.body_text()))?;
    let root = cid(&raw)?;
    let store = ctx.store.clone();
    let record = blocking(move || match pin_rm(&store, &root) {
        Ok(record) => Ok(record),
        Err(wanda_node::Error::Pin(msg)) => {
            // refused: pinned only indirectly (a 400), or not pinned at all (a 404)
            let indirect = pin_ls(&store, PinFilter::Indirect)?
                .values()
                .any(|(c, _)| c.hash() == root.hash());
            Err(if indirect {
                RestError::invalid(msg)
            } else {
                RestError::not_found(msg)
            })
        }
        Err(e) => Err(e.into()),
    })
    .await?;
    let kind = match record.mode {
        PinMode::Recursive => "recursive",
        PinMode::Direct => "direct",
    };
    Ok(ok(
        json!({"cid": root.to_string(), "type": kind, "name": record.name}),
    ))
}
