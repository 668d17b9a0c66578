//! WANDA's IPFS REST routes (`/api/ipfs/*`) for the telescope UI, in WANDA's JSON envelope
//! (see docs/API.md, "IPFS"): node status and repo statistics, pins, content by CID, adding
//! content, peers. They sit on the main listener next to the gateway and the app's API; the
//! Kubo RPC (`/api/v0/*`) stays on its own listener.
//!
//! Everything here is a thin layer over the node: pins through `wanda_node::pinning`, repo
//! numbers from `Blockstore::stats`, imports through `Importer` + `StoreSink`, missing blocks
//! through `NetworkBlocks`, peers and bandwidth from `NodeHandle`.

mod content;
mod error;
mod params;
mod peers;
mod pins;
mod status;
mod upload;

pub use error::{RestError, RestResult};

use crate::http::staging::{Staging, stage_body};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use std::sync::Arc;
use std::time::Duration;
use wanda_node::blocks::BlockSource;
use wanda_node::net::{NetworkBlocks, NodeHandle};
use wanda_node::store::Blockstore;

/// Default time to wait for one block from the network.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// Default time to wait for a dial (`POST /api/ipfs/peers/connect`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// What the IPFS REST handlers can reach.
pub struct IpfsRestContext {
    /// The block store (pins, content, repo numbers).
    pub store: Blockstore,
    /// The running node; `None` = offline (local content only, no peers).
    pub node: Option<NodeHandle>,
    /// `storage.max_storage` in bytes: adds that would take the repo beyond it are refused.
    pub storage_max: u64,
    /// How long to wait for one block from the network (a request's `timeout` overrides it).
    pub fetch_timeout: Duration,
    /// How long a dial may take.
    pub connect_timeout: Duration,
    /// Where uploads are staged before they are imported (`None`: the system's temporary
    /// folder — tests only).
    pub staging_dir: Option<std::path::PathBuf>,
}

impl IpfsRestContext {
    /// A context over `store` and `node` with default timeouts.
    pub fn new(store: Blockstore, node: Option<NodeHandle>, storage_max: u64) -> Self {
        IpfsRestContext {
            store,
            node,
            storage_max,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            staging_dir: None,
        }
    }

    /// Where reads get blocks: the store, then the network (when a node runs and `offline`
    /// is false), waiting `timeout` per block. Call from async code; use the source on a
    /// blocking thread.
    fn source(&self, offline: bool, timeout: Duration) -> Box<dyn BlockSource + Send + Sync> {
        match (&self.node, offline) {
            (Some(node), false) => Box::new(NetworkBlocks::new(
                self.store.clone(),
                node.clone(),
                tokio::runtime::Handle::current(),
                timeout,
            )),
            _ => Box::new(self.store.clone()),
        }
    }
}

/// The `/api/ipfs/*` router. Merge it with the app's API router: its routes are more specific
/// than a catch-all `/api/{*rest}`, so they win.
pub fn router(ctx: Arc<IpfsRestContext>) -> Router {
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
    Router::new()
        .route("/api/ipfs/status", json_405(get(status::status)))
        .route("/api/ipfs/stats", json_405(get(status::stats)))
        .route("/api/ipfs/pins", json_405(get(pins::list).post(pins::add)))
        .route("/api/ipfs/pins/{cid}", json_405(delete(pins::remove)))
        .route(
            "/api/ipfs/content",
            json_405(post(upload::add))
                .layer::<_, std::convert::Infallible>(middleware::from_fn_with_state(
                    staging, stage_body,
                ))
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/api/ipfs/content/{cid}", json_405(get(content::get)))
        .route("/api/ipfs/peers", json_405(get(peers::list)))
        .route("/api/ipfs/peers/connect", json_405(post(peers::connect)))
        .with_state(ctx)
}

/// Refusals of the shared HTTP layers (staging, limits) in this envelope.
pub fn refuse(status: StatusCode, code: &'static str, message: String) -> Response {
    let code = match code {
        "STORAGE_FULL" => "IPFS_STORAGE_FULL",
        other => other,
    };
    RestError::new(status, code, message).into_response()
}

/// Other methods on a known path get WANDA's envelope (405 `METHOD_NOT_ALLOWED`).
fn json_405(route: MethodRouter<Arc<IpfsRestContext>>) -> MethodRouter<Arc<IpfsRestContext>> {
    route.fallback(|method: Method, uri: Uri| async move {
        RestError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("{method} is not allowed on {}", uri.path()),
        )
        .into_response()
    })
}
