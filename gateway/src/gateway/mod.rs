//! The IPFS path gateway and trustless gateway (<https://specs.ipfs.tech/http-gateways/>):
//! `GET|HEAD /ipfs/{cid}[/path]` and `/ipns/{name}[/path]`.
//!
//! - Path gateway: UnixFS files (sniffed `Content-Type`, single and multiple `Range`s),
//!   directories (`index.html` or an HTML listing), `?filename=`, `?download=true`.
//! - Trustless gateway: `?format=raw|car|ipns-record` or the matching `Accept` types, with
//!   `dag-scope`, `entity-bytes`, `order=dfs` and `dups`.
//! - Blocks missing locally are fetched over Bitswap when a node runs (and cached, unpinned);
//!   `Cache-Control: only-if-cached` keeps a request local (412 when it is not).
//!
//! Every handler resolves content on a blocking thread ([`source::GatewayBlocks`]) and streams
//! bodies through a channel, so a slow network fetch never blocks the async runtime.

pub(crate) mod body;
mod car;
mod dagjson;
mod dir;
mod error;
mod file;
mod filewalk;
mod handler;
mod headers;
mod ipns;
mod names;
mod range;
mod request;
mod resolve;
mod sniff;
mod source;

pub use error::{GatewayError, Locality};
pub use names::{NameError, NameFuture, NameSource, NoNames, StaticNames};
pub use range::{ByteRange, RangeError, parse_range};
pub use sniff::content_type;

use axum::Router;
use axum::routing::any;
use std::sync::Arc;
use std::time::Duration;
use wanda_node::net::NodeHandle;
use wanda_node::store::Blockstore;

/// A request extension: answer from the local store only — no Bitswap, no DHT name lookup
/// (a missing block is a 404 that says why). The main listener adds it to visitors' requests
/// when `gateway.no_fetch` is on, so the telescope is not an open gateway for the Internet.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalOnly;

/// Default time to wait for one block from the network.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// What gateway handlers can reach.
pub struct GatewayContext {
    /// Local blocks (fetched blocks are cached here, unpinned).
    pub store: Blockstore,
    /// The running node, for Bitswap retrieval of missing blocks; `None` = local only.
    pub node: Option<NodeHandle>,
    /// Where `/ipns/` names are looked up.
    pub names: Arc<dyn NameSource>,
    /// How long to wait for one block from the network before answering 504.
    pub fetch_timeout: Duration,
}

impl GatewayContext {
    /// A context serving only `store` (no network, no names).
    pub fn local(store: Blockstore) -> Self {
        GatewayContext {
            store,
            node: None,
            names: Arc::new(NoNames),
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }
}

/// The gateway router: `/ipfs/*` and `/ipns/*` (any method; GET, HEAD and OPTIONS are served,
/// others get 405). Merge it with other routes on one listener.
pub fn router(ctx: Arc<GatewayContext>) -> Router {
    Router::new()
        .route("/ipfs", any(handler::handle))
        .route("/ipfs/", any(handler::handle))
        .route("/ipfs/{*rest}", any(handler::handle))
        .route("/ipns", any(handler::handle))
        .route("/ipns/", any(handler::handle))
        .route("/ipns/{*rest}", any(handler::handle))
        .with_state(ctx)
}
