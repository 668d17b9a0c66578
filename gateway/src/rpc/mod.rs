//! Kubo-compatible RPC: `POST /api/v0/<command>?arg=…`, JSON bodies, Kubo's error shape
//! `{"Message","Code","Type":"error"}`. Bad input is a 4xx, never a 500.

mod add;
mod auth;
mod blocks;
mod dag;
mod error;
mod files;
mod get;
mod id;
mod key;
mod ls;
mod multipart;
mod name;
mod params;
mod pin;
mod pubsub;
mod refs;
mod repo;
mod routing;
pub(crate) mod stats;
mod stream;
mod swarm;

pub use crate::auth::header_value;
pub use error::RpcError;

use crate::http::limits::{RequestLimits, limit_requests};
use crate::http::staging::{Staging, stage_body};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use std::sync::Arc;
use wanda_node::net::NodeHandle;
use wanda_node::store::Blockstore;

/// What RPC handlers can reach.
pub struct RpcContext {
    /// The running node.
    pub node: NodeHandle,
    /// The block store.
    pub store: Blockstore,
    /// The node's public key (protobuf encoding), for `id`.
    pub public_key: Vec<u8>,
    /// The repo directory, for `repo/stat`.
    pub repo_dir: std::path::PathBuf,
    /// `storage.max_storage` in bytes, for `repo/stat`.
    pub storage_max: u64,
    /// Credentials and trusted origins (none configured = open, loopback only).
    pub access: Arc<crate::auth::Access>,
    /// Uploads (`add`, `block/put`, `dag/import`) are staged here before they are imported.
    pub staging_dir: Option<std::path::PathBuf>,
    /// HTTP limits of this listener.
    pub limits: crate::http::HttpLimits,
}

fn refuse(status: StatusCode, _code: &'static str, message: String) -> Response {
    RpcError::with_status(status, message).into_response_with_status()
}

/// The RPC router.
pub fn router(ctx: Arc<RpcContext>) -> Router {
    let staging = {
        let store = ctx.store.clone();
        let max = ctx.storage_max;
        Arc::new(Staging {
            dir: ctx.staging_dir.clone(),
            room: Arc::new(move || {
                let used = store.stats().map_err(|e| e.to_string())?.disk_bytes;
                Ok(max.saturating_sub(used))
            }),
            refuse,
        })
    };
    let upload = tower::ServiceBuilder::new()
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(staging, stage_body));
    let limits = RequestLimits::new(
        ctx.limits.max_requests,
        ctx.limits.max_requests_per_client,
        |_| false,
        refuse,
    );
    Router::new()
        .route("/api/v0/id", post(id::id))
        .route("/api/v0/version", post(id::version))
        .route("/api/v0/cat", post(files::cat))
        .route("/api/v0/add", post(add::add).layer(upload.clone()))
        .route("/api/v0/get", post(get::get))
        .route("/api/v0/ls", post(ls::ls))
        .route("/api/v0/block/get", post(blocks::get))
        .route("/api/v0/block/put", post(blocks::put).layer(upload.clone()))
        .route("/api/v0/block/stat", post(blocks::stat))
        .route("/api/v0/block/rm", post(blocks::rm))
        .route("/api/v0/dag/export", post(dag::export))
        .route("/api/v0/dag/import", post(dag::import).layer(upload))
        .route("/api/v0/pin/add", post(pin::add))
        .route("/api/v0/pin/rm", post(pin::rm))
        .route("/api/v0/pin/ls", post(pin::ls))
        .route("/api/v0/refs", post(refs::refs))
        .route("/api/v0/refs/local", post(refs::local))
        .route("/api/v0/repo/stat", post(repo::stat))
        .route("/api/v0/repo/gc", post(repo::gc))
        .route("/api/v0/swarm/peers", post(swarm::peers))
        .route("/api/v0/swarm/connect", post(swarm::connect))
        .route("/api/v0/swarm/disconnect", post(swarm::disconnect))
        .route("/api/v0/swarm/addrs/listen", post(swarm::listen_addrs))
        .route("/api/v0/pubsub/pub", post(pubsub::publish))
        .route("/api/v0/pubsub/sub", post(pubsub::subscribe))
        .route("/api/v0/pubsub/ls", post(pubsub::ls))
        .route("/api/v0/pubsub/peers", post(pubsub::peers))
        .route("/api/v0/routing/provide", post(routing::provide))
        .route("/api/v0/routing/findprovs", post(routing::findprovs))
        .route("/api/v0/key/gen", post(key::generate))
        .route("/api/v0/key/list", post(key::list))
        .route("/api/v0/name/publish", post(name::publish))
        .route("/api/v0/name/resolve", post(name::resolve))
        .route("/api/v0/stats/bw", post(stats::bw))
        .route("/api/v0/stats/limits", post(stats::limits))
        .route("/api/v0/stats/bitswap", post(stats::bitswap))
        .fallback(unknown_command)
        .layer(middleware::from_fn_with_state(
            ctx.access.clone(),
            auth::require,
        ))
        .layer(middleware::from_fn(post_only))
        .layer(middleware::from_fn_with_state(
            ctx.limits.body,
            crate::http::limits::time_bodies,
        ))
        .layer(middleware::from_fn_with_state(limits, limit_requests))
        .with_state(ctx)
}

async fn post_only(req: Request, next: Next) -> Response {
    if req.method() != Method::POST && req.uri().path().starts_with("/api/v0/") {
        return RpcError::method_not_allowed().into_response_with_status();
    }
    next.run(req).await
}

async fn unknown_command(req: Request) -> Response {
    RpcError::not_found(format!("unknown command \"{}\"", req.uri().path()))
        .into_response_with_status()
}

/// Serves the RPC on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    ctx: Arc<RpcContext>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let opts = ctx.limits.serve.clone();
    crate::http::serve(listener, router(ctx), opts, shutdown).await
}
