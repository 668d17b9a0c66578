//! Bearer/basic credentials for the RPC, like Kubo's `API.Authorizations`: with at least one
//! configured, every request needs an `Authorization` header matching one of them (401
//! otherwise) whose `allowed_paths` cover the command (403 otherwise; `/api/v0/version` is
//! always allowed).

use super::error::RpcError;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use std::sync::Arc;
use wanda_node::repo::config::ApiConfig;

/// Kubo's refusal message (with our config key names).
const DENIED: &str = "RPC Access Denied: Please provide a valid authorization token as defined \
                      in the api.authorizations configuration.";

/// The configured credentials, as the `Authorization` header values they expect.
#[derive(Debug, Clone, Default)]
pub struct Authorizations {
    /// (header value, allowed path prefixes).
    entries: Vec<(String, Vec<String>)>,
}

/// The `Authorization` header value for a secret written like Kubo's `AuthSecret`:
/// `bearer:TOKEN` → `Bearer TOKEN`, `basic:USER:PASS` → `Basic base64(USER:PASS)`; without a
/// prefix, `USER:PASS` is basic and anything else a bearer token.
pub fn header_value(secret: &str) -> String {
    let basic = |up: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(up)
        )
    };
    match secret.split_once(':') {
        Some(("bearer", token)) => format!("Bearer {token}"),
        Some(("basic", user_pass)) => basic(user_pass),
        Some(_) => basic(secret),
        None => format!("Bearer {secret}"),
    }
}

impl Authorizations {
    /// From the `api` config section.
    pub fn from_config(api: &ApiConfig) -> Self {
        Authorizations {
            entries: api
                .authorizations
                .values()
                .map(|a| (header_value(&a.auth_secret), a.allowed_paths.clone()))
                .collect(),
        }
    }

    /// Whether any credential is configured (the RPC may then listen beyond loopback).
    pub fn is_enabled(&self) -> bool {
        !self.entries.is_empty()
    }

    /// Checks a request's header against `path`.
    pub fn check(&self, header: Option<&str>, path: &str) -> Result<(), RpcError> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let header = header.ok_or_else(|| RpcError::unauthorized(DENIED))?;
        let allowed = self
            .entries
            .iter()
            .filter(|(expected, _)| constant_time_eq(expected.as_bytes(), header.as_bytes()))
            .map(|(_, paths)| paths)
            .next()
            .ok_or_else(|| RpcError::unauthorized(DENIED))?;
        let covered = path == "/api/v0/version"
            || allowed.iter().any(|prefix| {
                path == prefix
                    || path
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            });
        if covered {
            Ok(())
        } else {
            Err(RpcError::forbidden(format!(
                "{DENIED} (this credential may not call {path})"
            )))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The middleware: refuses requests the credentials do not allow.
pub async fn require(
    State(auth): State<Arc<Authorizations>>,
    req: Request,
    next: Next,
) -> Response {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match auth.check(header, req.uri().path()) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response_with_status(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wanda_node::repo::config::ApiAuthorization;

    fn auths() -> Authorizations {
        let mut api = ApiConfig::default();
        api.authorizations.insert(
            "all".into(),
            ApiAuthorization {
                auth_secret: "bearer:tok".into(),
                allowed_paths: vec!["/api/v0".into()],
            },
        );
        api.authorizations.insert(
            "cat".into(),
            ApiAuthorization {
                auth_secret: "basic:u:p".into(),
                allowed_paths: vec!["/api/v0/cat".into()],
            },
        );
        Authorizations::from_config(&api)
    }

    #[test]
    fn secrets_become_header_values_like_kubo() {
        assert_eq!(header_value("bearer:abc"), "Bearer abc");
        assert_eq!(header_value("basic:u:p"), "Basic dTpw");
        assert_eq!(header_value("u:p"), "Basic dTpw");
        assert_eq!(header_value("abc"), "Bearer abc");
    }

    #[test]
    fn requests_are_checked_against_credentials_and_paths() {
        let a = auths();
        let status = |h: Option<&str>, p: &str| a.check(h, p).err().map(|e| e.status().as_u16());
        assert_eq!(status(None, "/api/v0/id"), Some(401));
        assert_eq!(status(Some("Bearer nope"), "/api/v0/id"), Some(401));
        assert_eq!(status(Some("Bearer tok"), "/api/v0/pin/add"), None);
        assert_eq!(status(Some("Basic dTpw"), "/api/v0/cat"), None);
        assert_eq!(status(Some("Basic dTpw"), "/api/v0/catalog"), Some(403));
        assert_eq!(status(Some("Basic dTpw"), "/api/v0/add"), Some(403));
        assert_eq!(status(Some("Basic dTpw"), "/api/v0/version"), None);
        assert!(Authorizations::default().check(None, "/api/v0/add").is_ok());
    }
}
