//! WANDA's JSON envelope: `{"success":true,"data":…,"message":…}` on success,
//! `{"success":false,"code":…,"error":…}` on failure, and body parsing that tolerates what
//! the Next.js client sends (a JSON content type on bodyless POSTs).

use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A success response.
pub fn ok(data: Value, message: &str) -> Response {
    Json(json!({ "success": true, "data": data, "message": message })).into_response()
}

/// An error response with WANDA's code.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// WANDA error code, e.g. `VALIDATION_ERROR`.
    pub code: &'static str,
    /// Human message (shown verbatim by the UI).
    pub error: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: &'static str, error: impl Into<String>) -> Self {
        Self {
            status,
            code,
            error: error.into(),
        }
    }

    /// 400 `VALIDATION_ERROR`.
    pub fn validation(error: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", error)
    }

    /// 400 `INVALID_REQUEST`: the body is not a JSON object.
    pub fn invalid_request() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            "Request body must be valid JSON",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({ "success": false, "code": self.code, "error": self.error })),
        )
            .into_response()
    }
}

/// Result of an API handler.
pub type ApiResult = Result<Response, ApiError>;

/// The body as a JSON object; `None` when empty. Anything else is `INVALID_REQUEST`.
pub fn object_body(body: &Bytes) -> Result<Option<serde_json::Map<String, Value>>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        _ => Err(ApiError::invalid_request()),
    }
}

pub use crate::app::json_values::truthy;

/// A finite number from a JSON number or numeric string; the error names the field.
pub fn number(v: &Value, field: &str) -> Result<f64, ApiError> {
    crate::app::json_values::finite_number(v)
        .ok_or_else(|| ApiError::validation(format!("{field} must be a number")))
}
