//! Kubo's RPC error body and our status mapping (client mistakes are 4xx).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An RPC error: Kubo's JSON body plus an HTTP status.
#[derive(Debug)]
pub struct RpcError {
    status: StatusCode,
    message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "Message")]
    message: &'a str,
    #[serde(rename = "Code")]
    code: u8,
    #[serde(rename = "Type")]
    kind: &'static str,
}

impl RpcError {
    /// 400: the request was wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        RpcError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
        }
    }

    /// 404: unknown command or missing content.
    pub fn not_found(message: impl Into<String>) -> Self {
        RpcError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// 405: the RPC is POST only (as in Kubo).
    pub fn method_not_allowed() -> Self {
        RpcError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            message: "405 - Method Not Allowed (the RPC API accepts POST only)".into(),
        }
    }

    /// 504: the network did not answer in time.
    pub fn timeout(message: impl Into<String>) -> Self {
        RpcError {
            status: StatusCode::GATEWAY_TIMEOUT,
            message: message.into(),
        }
    }

    /// 401: no or unknown credentials (`api.authorizations`).
    pub fn unauthorized(message: impl Into<String>) -> Self {
        RpcError {
            status: StatusCode::UNAUTHORIZED,
            message: message.into(),
        }
    }

    /// 403: valid credentials that do not cover this path.
    pub fn forbidden(message: impl Into<String>) -> Self {
        RpcError {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// Any status.
    pub fn with_status(status: StatusCode, message: impl Into<String>) -> Self {
        RpcError {
            status,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error as the last line of a JSON stream that has already started (Code 0).
    pub fn stream_line(&self) -> String {
        let body = Body {
            message: &self.message,
            code: 0,
            kind: "error",
        };
        format!("{}\n", serde_json::to_string(&body).unwrap_or_default())
    }

    /// The response.
    pub fn into_response_with_status(self) -> Response {
        self.into_response()
    }
}

impl From<wanda_node::Error> for RpcError {
    fn from(e: wanda_node::Error) -> Self {
        use wanda_node::Error as E;
        let status = match &e {
            E::BlockNotFound(_) | E::NoSuchLink { .. } => StatusCode::NOT_FOUND,
            E::Store(_) | E::Io { .. } | E::IoBare(_) => StatusCode::INTERNAL_SERVER_ERROR,
            E::FetchTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            _ => StatusCode::BAD_REQUEST,
        };
        RpcError {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for RpcError {
    fn into_response(self) -> Response {
        let code = if self.status.is_client_error() { 1 } else { 0 };
        let body = Json(Body {
            message: &self.message,
            code,
            kind: "error",
        });
        (self.status, body).into_response()
    }
}

/// Handler result.
pub type RpcResult<T> = Result<T, RpcError>;
