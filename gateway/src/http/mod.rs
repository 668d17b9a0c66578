//! What both HTTP listeners share: the accept loop ([`serve`]), limits on requests and bodies
//! ([`limits`]), staging of uploads ([`staging`]).

pub mod limits;
mod serve;
pub mod staging;

pub use serve::{ConnInfo, ServeOptions, canonical_ip, serve};

/// The limits of one listener.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Connections and request heads.
    pub serve: ServeOptions,
    /// How slowly request bodies may arrive.
    pub body: limits::BodyTimeouts,
    /// Requests in flight in all (429 beyond).
    pub max_requests: usize,
    /// Requests in flight from one client address (429 beyond).
    pub max_requests_per_client: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            serve: ServeOptions::default(),
            body: limits::BodyTimeouts::default(),
            max_requests: 256,
            max_requests_per_client: 32,
        }
    }
}
