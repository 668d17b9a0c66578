//! `GET /api/network/peers/{peer_id}/pins?after=&limit=`: a page of a connected peer's pins,
//! asked over `/wanda/pins/1.0.0` (docs/NETWORK.md). Bad input is 400; a peer we cannot ask is
//! 502, one that does not answer in time 504.

use super::envelope::{ApiError, ApiResult, ok};
use crate::app::App;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use wanda_node::net::{MAX_PIN_PAGE, PeerPinsError};

/// `?after=CID&limit=N`.
#[derive(Debug, Deserialize)]
pub struct PinsQuery {
    after: Option<String>,
    limit: Option<String>,
}

/// The HTTP answer for a failed request to the peer.
fn peer_error(e: PeerPinsError) -> ApiError {
    let (status, code) = match &e {
        PeerPinsError::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "VALIDATION_ERROR"),
        PeerPinsError::NotConnected(_) => (StatusCode::BAD_GATEWAY, "PEER_NOT_CONNECTED"),
        PeerPinsError::Unsupported(_) => (StatusCode::BAD_GATEWAY, "PEER_PROTOCOL_UNSUPPORTED"),
        PeerPinsError::Unreachable(..) => (StatusCode::BAD_GATEWAY, "PEER_UNREACHABLE"),
        PeerPinsError::Refused(..) => (StatusCode::BAD_GATEWAY, "PEER_REFUSED"),
        PeerPinsError::BadResponse(..) => (StatusCode::BAD_GATEWAY, "PEER_BAD_RESPONSE"),
        PeerPinsError::Timeout(..) => (StatusCode::GATEWAY_TIMEOUT, "PEER_TIMEOUT"),
        PeerPinsError::Stopped => (StatusCode::SERVICE_UNAVAILABLE, "NODE_OFFLINE"),
    };
    ApiError::new(status, code, e.to_string())
}

/// `GET /api/network/peers/{peer_id}/pins`: `{peer_id, pins: [{cid, kind, name, ours}], count,
/// next}` — `kind` is `recursive` or `direct`, `ours` whether the CID is one of our captures,
/// `next` the `after` of the following page (null on the last one). `limit` is 1–1000
/// (default 1000).
pub async fn list(
    State(app): State<Arc<App>>,
    UrlPath(peer_id): UrlPath<String>,
    Query(q): Query<PinsQuery>,
) -> ApiResult {
    let peer: libp2p::PeerId = peer_id
        .parse()
        .map_err(|e| ApiError::validation(format!("invalid peer id `{peer_id}`: {e}")))?;
    let after = q
        .after
        .filter(|a| !a.is_empty())
        .map(|a| {
            wanda_node::parse_cid(&a)
                .map_err(|e| ApiError::validation(format!("after must be a CID: {e}")))
        })
        .transpose()?;
    let limit = match q.limit.as_deref().filter(|l| !l.is_empty()) {
        None => MAX_PIN_PAGE,
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_PIN_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "limit must be a whole number from 1 to {MAX_PIN_PAGE}"
                ))
            })?,
    };
    let Some(node) = app.node.as_ref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NODE_OFFLINE",
            "the node is not running, so no peer can be asked",
        ));
    };
    if peer == node.peer_id() {
        return Err(ApiError::validation(
            "that is this node's own peer id; its pins are at /api/ipfs/pins",
        ));
    }
    let page = node
        .peer_pins(peer, after, limit)
        .await
        .map_err(peer_error)?;
    let ours: HashSet<String> = app
        .db
        .captures()
        .map(|rows| rows.into_iter().filter_map(|r| r.cid).collect())
        .unwrap_or_default();
    let pins: Vec<_> = page
        .pins
        .iter()
        .map(|p| {
            let cid = p.cid.to_string();
            json!({ "ours": ours.contains(&cid), "cid": cid, "kind": p.kind, "name": p.name })
        })
        .collect();
    Ok(ok(
        json!({
            "peer_id": peer.to_string(),
            "count": pins.len(),
            "pins": pins,
            "next": page.next.map(|c| c.to_string()),
        }),
        "Peer pins retrieved",
    ))
}
