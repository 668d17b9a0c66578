//! `pubsub/pub|sub|ls|peers`. Topics and data travel multibase-encoded (`u` + base64url), as in
//! Kubo ≥ 0.11.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::swarm::first_arg;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt;
use serde_json::{Value, json};
use std::sync::Arc;

/// Encodes bytes as multibase base64url (`u…`).
pub fn multibase(bytes: &[u8]) -> String {
    format!("u{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Decodes a multibase topic (`u…`); plain text is accepted too.
fn topic_arg(q: &[(String, String)]) -> RpcResult<String> {
    let raw = first_arg(q, "topic")?;
    match raw.strip_prefix('u') {
        Some(b64) => URL_SAFE_NO_PAD
            .decode(b64)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| {
                RpcError::bad_request(format!("topic \"{raw}\" is not multibase base64url"))
            }),
        None => Ok(raw.to_string()),
    }
}

/// `POST /api/v0/pubsub/pub?arg=<topic>` with the data as a multipart file (Kubo) or raw body.
pub async fn publish(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
    req: Request,
) -> RpcResult<Json<Value>> {
    let topic = topic_arg(&q)?;
    let is_multipart = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let data = if is_multipart {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| RpcError::bad_request(format!("bad multipart body: {e}")))?;
        let field = mp
            .next_field()
            .await
            .map_err(|e| RpcError::bad_request(format!("bad multipart body: {e}")))?
            .ok_or_else(|| RpcError::bad_request("argument \"data\" is required"))?;
        field
            .bytes()
            .await
            .map_err(|e| RpcError::bad_request(format!("bad multipart body: {e}")))?
    } else {
        Bytes::from_request(req, &())
            .await
            .map_err(|e| RpcError::bad_request(format!("cannot read body: {e}")))?
    };
    ctx.node.publish(&topic, data.to_vec()).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v0/pubsub/sub?arg=<topic>`: one JSON message per line until the client leaves.
pub async fn subscribe(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let topic = topic_arg(&q)?;
    let rx = ctx.node.subscribe(&topic).await?;
    let stream = tokio_stream_from(rx).map(|m| {
        let line = json!({
            "from": m.from.unwrap_or_default(),
            "data": multibase(&m.data),
            "seqno": multibase(&m.seqno.unwrap_or(0).to_be_bytes()),
            "topicIDs": [multibase(m.topic.as_bytes())],
        });
        Ok::<_, std::convert::Infallible>(Bytes::from(format!("{line}\n")))
    });
    Response::builder()
        .header(CONTENT_TYPE, "application/json")
        .header("X-Chunked-Output", "1")
        .body(Body::from_stream(stream))
        .map_err(|e| RpcError::bad_request(e.to_string()))
}

fn tokio_stream_from(
    rx: tokio::sync::broadcast::Receiver<wanda_node::net::PubsubMessage>,
) -> impl futures::Stream<Item = wanda_node::net::PubsubMessage> {
    futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(m) => return Some((m, rx)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

/// `POST /api/v0/pubsub/ls`.
pub async fn ls(State(ctx): State<Arc<RpcContext>>) -> RpcResult<Json<Value>> {
    let topics: Vec<String> = ctx
        .node
        .topics()
        .await?
        .iter()
        .map(|t| multibase(t.as_bytes()))
        .collect();
    Ok(Json(json!({ "Strings": topics })))
}

/// `POST /api/v0/pubsub/peers[?arg=<topic>]`.
pub async fn peers(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Json<Value>> {
    let topic = if q.iter().any(|(k, _)| k == "arg") {
        Some(topic_arg(&q)?)
    } else {
        None
    };
    let peers: Vec<String> = ctx
        .node
        .topic_peers(topic.as_deref())
        .await?
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok(Json(json!({ "Strings": peers })))
}
