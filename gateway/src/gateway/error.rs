//! Gateway errors: an HTTP status and a one-line, plain-text message.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wanda_node::Error as NodeError;

/// Where a request may get blocks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locality {
    /// The store, then the network.
    Network,
    /// The store only: the client sent `Cache-Control: only-if-cached`.
    OnlyIfCached,
    /// The store only: a visitor's request ([`super::LocalOnly`]).
    Visitor,
}

impl Locality {
    /// Whether the network may be asked.
    pub fn may_fetch(self) -> bool {
        self == Locality::Network
    }
}

/// A failed gateway request. Bad input is always a 4xx; 5xx is reserved for the network
/// (502 bad IPNS record, 504 timeout) and the local store failing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayError {
    /// The status to answer with.
    pub status: StatusCode,
    /// What went wrong, for the response body.
    pub message: String,
}

impl GatewayError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        GatewayError {
            status,
            message: message.into(),
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// Maps a node error met while reading content. A request kept local turns "not here"
    /// into 412 Precondition Failed (`Cache-Control: only-if-cached`) or, for a visitor
    /// ([`super::LocalOnly`]), a 404 that says why.
    pub fn from_node(e: NodeError, locality: Locality) -> Self {
        match e {
            NodeError::BlockNotFound(cid) if locality == Locality::OnlyIfCached => Self::new(
                StatusCode::PRECONDITION_FAILED,
                format!("block {cid} is not in the local store (only-if-cached)"),
            ),
            NodeError::BlockNotFound(cid) if locality == Locality::Visitor => {
                Self::not_found(format!(
                    "block {cid} is not held by this telescope; it serves visitors from its own store only \
                 (gateway.no_fetch), so it does not fetch it from the network"
                ))
            }
            NodeError::BlockNotFound(cid) => {
                Self::not_found(format!("block {cid} was not found and cannot be retrieved"))
            }
            NodeError::FetchTimeout(cid) => Self::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("timed out retrieving {cid} from the network"),
            ),
            e @ NodeError::NoSuchLink { .. } => Self::not_found(e.to_string()),
            e @ (NodeError::InvalidCid { .. } | NodeError::InvalidInput(_)) => {
                Self::bad_request(e.to_string())
            }
            e @ NodeError::WrongNodeType { .. } => {
                Self::new(StatusCode::NOT_ACCEPTABLE, e.to_string())
            }
            e @ (NodeError::Decode { .. } | NodeError::HashMismatch { .. }) => {
                Self::new(StatusCode::BAD_GATEWAY, e.to_string())
            }
            e => Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

impl std::fmt::Display for GatewayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl std::error::Error for GatewayError {}

impl From<NodeError> for GatewayError {
    fn from(e: NodeError) -> Self {
        Self::from_node(e, Locality::Network)
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, format!("{}\n", self.message)).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        resp.headers_mut().insert(
            "X-Content-Type-Options",
            HeaderValue::from_static("nosniff"),
        );
        resp
    }
}

/// Result alias for gateway handlers.
pub type GwResult<T> = Result<T, GatewayError>;
