//! The RPC's access rules, like Kubo's: a request whose `Origin` (or `Referer`) is a foreign
//! web page is refused (403) whatever it carries; with credentials configured
//! (`api.authorizations`) every request needs an `Authorization` header matching one (401
//! otherwise) whose `allowed_paths` cover the command (403 otherwise; `/api/v0/version` is
//! always allowed).

use super::error::RpcError;
use crate::auth::Access;
use crate::http::ConnInfo;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// Kubo's refusal message (with our config key names).
const DENIED: &str = "RPC Access Denied: Please provide a valid authorization token as defined \
                      in the api.authorizations configuration.";

/// Checks one request against the rules.
pub fn check(access: &Access, req: &Request) -> Result<(), RpcError> {
    let rules = access.current();
    let conn = req.extensions().get::<ConnInfo>();
    let origin = rules.origins.classify(req.headers(), conn);
    if let crate::auth::OriginKind::Foreign(o) = origin {
        return Err(RpcError::forbidden(format!(
            "RPC Access Denied: requests from the web page {o} are refused (cross-origin); \
             list trusted origins in api.allowed_origins"
        )));
    }
    if !rules.credentials.is_enabled() {
        return Ok(());
    }
    let path = req.uri().path();
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| RpcError::unauthorized(DENIED))?;
    let cred = rules
        .credentials
        .by_header(header)
        .ok_or_else(|| RpcError::unauthorized(DENIED))?;
    if path == "/api/v0/version" || cred.covers(path) {
        Ok(())
    } else {
        Err(RpcError::forbidden(format!(
            "{DENIED} (credential {} may not call {path})",
            cred.name
        )))
    }
}

/// The middleware: refuses requests the rules do not allow.
pub async fn require(State(access): State<Arc<Access>>, req: Request, next: Next) -> Response {
    match check(&access, &req) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response_with_status(),
    }
}
