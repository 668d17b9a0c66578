//! WANDA's JSON envelope for the IPFS routes: `{"success":true,"data":…}` on success,
//! `{"success":false,"code":…,"error":…}` on failure, and how node errors map to codes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A success response (HTTP 200).
pub fn ok(data: Value) -> Response {
    Json(json!({ "success": true, "data": data })).into_response()
}

/// An error answer: HTTP status, WANDA code and a human message.
#[derive(Debug)]
pub struct RestError {
    /// HTTP status.
    pub status: StatusCode,
    /// WANDA error code, e.g. `IPFS_INVALID_CID`.
    pub code: &'static str,
    /// Human message.
    pub error: String,
}

/// Result of an IPFS REST handler.
pub type RestResult<T = Response> = Result<T, RestError>;

impl RestError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, error: impl Into<String>) -> Self {
        RestError {
            status,
            code,
            error: error.into(),
        }
    }

    /// 400 `INVALID_REQUEST`: a malformed body or parameter.
    pub fn invalid(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", error)
    }

    /// 400 `IPFS_INVALID_CID`.
    pub fn invalid_cid(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "IPFS_INVALID_CID", error)
    }

    /// 404 `IPFS_CID_NOT_FOUND`.
    pub fn not_found(error: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "IPFS_CID_NOT_FOUND", error)
    }

    /// 504 `IPFS_TIMEOUT`.
    pub fn timeout(error: impl Into<String>) -> Self {
        Self::new(StatusCode::GATEWAY_TIMEOUT, "IPFS_TIMEOUT", error)
    }

    /// 507 `IPFS_STORAGE_FULL`.
    pub fn storage_full(error: impl Into<String>) -> Self {
        Self::new(StatusCode::INSUFFICIENT_STORAGE, "IPFS_STORAGE_FULL", error)
    }

    /// 503 `IPFS_PEER_UNREACHABLE`.
    pub fn unreachable(error: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "IPFS_PEER_UNREACHABLE",
            error,
        )
    }

    /// 500 `IPFS_ERROR`: the store itself failed (never caused by input).
    pub fn internal(error: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "IPFS_ERROR", error)
    }
}

impl From<wanda_node::Error> for RestError {
    fn from(e: wanda_node::Error) -> Self {
        use wanda_node::Error as E;
        let msg = e.to_string();
        match e {
            E::InvalidCid { .. } => RestError::invalid_cid(msg),
            E::BlockNotFound(_) | E::NoSuchLink { .. } => RestError::not_found(msg),
            E::FetchTimeout(_) => RestError::timeout(msg),
            E::WrongNodeType { .. }
            | E::Decode { .. }
            | E::HashMismatch { .. }
            | E::Pin(_)
            | E::InvalidInput(_)
            | E::Car(_)
            | E::UnknownConfigKey(_)
            | E::BadConfigValue { .. } => RestError::invalid(msg),
            E::NotInitialized(_)
            | E::AlreadyInitialized(_)
            | E::Locked { .. }
            | E::Io { .. }
            | E::IoBare(_)
            | E::Store(_) => RestError::internal(msg),
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "success": false, "code": self.code, "error": self.error })),
        )
            .into_response()
    }
}

/// Runs `f` on a blocking thread (store reads, DAG walks, network fetches through
/// `NetworkBlocks`).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> RestResult<T> + Send + 'static,
) -> RestResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| RestError::internal(format!("interrupted: {e}")))?
}
