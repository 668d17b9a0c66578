//! Kubo-compatible RPC: `POST /api/v0/<command>?arg=…`, JSON bodies, Kubo's error shape
//! `{"Message","Code","Type":"error"}`. Bad input is a 4xx, never a 500.

mod error;
mod files;
mod id;
mod pubsub;
mod routing;
mod swarm;

pub use error::RpcError;

use axum::Router;
use axum::extract::Request;
use axum::http::Method;
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
}

/// The RPC router.
pub fn router(ctx: Arc<RpcContext>) -> Router {
    Router::new()
        .route("/api/v0/id", post(id::id))
        .route("/api/v0/version", post(id::version))
        .route("/api/v0/cat", post(files::cat))
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
        .fallback(unknown_command)
        .layer(middleware::from_fn(post_only))
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
    axum::serve(listener, router(ctx))
        .with_graceful_shutdown(shutdown)
        .await
}
