//! Who may do what on the main listener (docs/API.md, "Access"):
//!
//! - Reads stay open: `GET`/`HEAD` anywhere, Socket.IO, `/video_feed` (capped).
//! - Every change of state (any other method, outside `/socket.io/`) needs the owner: a
//!   credential from `api.authorizations` in the `Authorization` header, a web UI login (the
//!   `wanda_login` cookie, made with such a credential), or a request from this very host whose
//!   page — if any — is a loopback one (a local reverse proxy, a frontend served on the Pi).
//!   Without one: 401; with one that does not cover the route: 403.
//! - A change of state whose `Origin` (or `Referer`) is a foreign page is refused (403)
//!   whatever it carries (cross-site requests, DNS rebinding); JSON routes need
//!   `Content-Type: application/json` (415), so no HTML form can post to them.
//! - CORS never lets a foreign page write: it gets `*` for reads only; trusted origins get
//!   their own origin back, with credentials.
//! - Everything but the UI's own pages is served with `Content-Security-Policy: sandbox …`:
//!   HTML from the gateway runs in an opaque origin, cannot read the UI's cookies and its
//!   requests carry `Origin: null` (refused). The UI's pages cannot be framed.
//! - Visitors' reads are answered from the local store only (`gateway.no_fetch`).

use super::envelope::ApiError;
use super::login::Logins;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use wanda_gateway::auth::{Access, AccessSnapshot, OriginKind};
use wanda_gateway::http::ConnInfo;

/// Name of the login cookie.
pub const LOGIN_COOKIE: &str = "wanda_login";

/// The sandbox gateway content (and every other non-UI response) runs in: scripts may run,
/// but in an opaque origin — no access to the UI's cookies, storage or API.
pub const SANDBOX: &str =
    "sandbox allow-scripts allow-forms allow-popups allow-downloads allow-modals";

/// How the owner was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// A request from this host (no foreign page behind it).
    Local,
    /// A credential in the `Authorization` header.
    Credential,
    /// The web UI's login cookie.
    Login,
}

impl Via {
    /// As shown by `/api/auth/status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Via::Local => "local",
            Via::Credential => "credential",
            Via::Login => "login",
        }
    }
}

/// Who is calling (a request extension set by [`guard`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// The owner, or someone holding one of the owner's credentials.
    Owner {
        /// How they were recognised.
        via: Via,
        /// The credential's name (`None` for local requests).
        credential: Option<String>,
        /// The routes it covers (`["/"]` for local requests).
        allowed_paths: Vec<String>,
    },
    /// Anyone else.
    Visitor {
        /// An `Authorization` header was sent but matches no credential.
        bad_credential: bool,
    },
}

impl Caller {
    /// Whether this caller may change what `path` controls.
    pub fn covers(&self, path: &str) -> bool {
        match self {
            Caller::Owner { allowed_paths, .. } => wanda_gateway::auth::covers(allowed_paths, path),
            Caller::Visitor { .. } => false,
        }
    }

    /// Whether this is the owner (any credential).
    pub fn is_owner(&self) -> bool {
        matches!(self, Caller::Owner { .. })
    }
}

/// What the guard needs.
pub struct AccessState {
    /// Credentials and trusted origins (shared with the RPC listener).
    pub rules: Arc<Access>,
    /// Web UI logins.
    pub logins: Logins,
    /// Visitors' reads stay local (`gateway.no_fetch`).
    pub no_fetch: bool,
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Decides who is calling.
pub fn identify(
    state: &AccessState,
    rules: &AccessSnapshot,
    headers: &HeaderMap,
    conn: Option<&ConnInfo>,
    origin: &OriginKind,
) -> Caller {
    let mut bad_credential = false;
    if let Some(h) = headers.get(header::AUTHORIZATION) {
        match h.to_str().ok().and_then(|h| rules.credentials.by_header(h)) {
            Some(c) => {
                return Caller::Owner {
                    via: Via::Credential,
                    credential: Some(c.name.clone()),
                    allowed_paths: c.allowed_paths.clone(),
                };
            }
            None => bad_credential = true,
        }
    }
    if !origin.is_foreign()
        && let Some(token) = cookie(headers, LOGIN_COOKIE)
        && let Some(c) = state.logins.check(token, &rules.credentials)
    {
        return Caller::Owner {
            via: Via::Login,
            credential: Some(c.name.clone()),
            allowed_paths: c.allowed_paths.clone(),
        };
    }
    if !bad_credential && conn.is_some_and(ConnInfo::same_host) && origin.trusted_locally() {
        return Caller::Owner {
            via: Via::Local,
            credential: None,
            allowed_paths: vec!["/".into()],
        };
    }
    Caller::Visitor { bad_credential }
}

/// Whether a request changes state (needs the owner). Socket.IO's long-polling POSTs only
/// carry its transport (no client event changes anything).
pub fn is_write(method: &Method, path: &str) -> bool {
    !(matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        || path.starts_with("/socket.io/")
        || path == "/socket.io")
}

/// Writes anyone may make (from a page that is not foreign): logging in and out.
fn open_write(path: &str) -> bool {
    path == "/api/auth/login" || path == "/api/auth/logout"
}

/// Writes whose body is not JSON: uploads.
fn raw_body_route(path: &str) -> bool {
    path == "/api/ipfs/content"
}

/// Whether the request's body is acceptable for a JSON route: `application/json` (or
/// `…+json`), or no body at all.
fn json_body(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_TYPE) {
        Some(ct) => {
            let ct = ct.to_str().unwrap_or("").to_ascii_lowercase();
            let mime = ct.split(';').next().unwrap_or("").trim();
            mime == "application/json"
                || (mime.starts_with("application/") && mime.ends_with("+json"))
        }
        None => {
            let empty_length = headers
                .get(header::CONTENT_LENGTH)
                .is_none_or(|v| v.as_bytes() == b"0");
            empty_length && headers.get(header::TRANSFER_ENCODING).is_none()
        }
    }
}

/// The UI's own pages (not sandboxed; never framed).
fn ui_page(path: &str) -> bool {
    path == "/" || path == "/index.html" || path.starts_with("/ui/")
}

/// The gateway, which sets its own CORS headers (`*`, read-only).
fn gateway_path(path: &str) -> bool {
    path == "/ipfs" || path == "/ipns" || path.starts_with("/ipfs/") || path.starts_with("/ipns/")
}

/// CORS headers for a request from `origin` (never for a foreign page's writes).
fn cors(headers: &mut HeaderMap, origin: Option<&HeaderValue>, kind: &OriginKind) {
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    let Some(origin) = origin else {
        return;
    };
    if kind.is_foreign() {
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    } else {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
}

fn preflight(origin: Option<&HeaderValue>, kind: &OriginKind) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    cors(h, origin, kind);
    let methods = if kind.is_foreign() {
        "GET, HEAD, OPTIONS"
    } else {
        "GET, HEAD, POST, DELETE, OPTIONS"
    };
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(methods),
    );
    if !kind.is_foreign() {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Content-Type, Authorization"),
        );
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    resp
}

/// The refusal for a write the caller may not make.
fn refusal(caller: &Caller, rules: &AccessSnapshot, path: &str) -> ApiError {
    match caller {
        Caller::Visitor {
            bad_credential: true,
        } => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_INVALID",
            "the credential sent in the Authorization header is not one of this telescope's \
             (api.authorizations); check it, or log in again",
        ),
        Caller::Visitor { .. } if !rules.credentials.is_enabled() => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
            "only the owner may change this telescope, and no owner credential is set up: on \
             the telescope, run `wanda auth owner` and log in with the token it prints",
        ),
        Caller::Visitor { .. } => ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
            "only the owner may change this telescope: log in (the web UI's Log in button) or \
             send the owner's credential in the Authorization header",
        ),
        Caller::Owner { credential, .. } => ApiError::new(
            StatusCode::FORBIDDEN,
            "FORBIDDEN",
            format!(
                "credential {} may not call {path}: add the route to \
                 api.authorizations.{0}.allowed_paths, or use the owner's credential",
                credential.as_deref().unwrap_or("?")
            ),
        ),
    }
}

/// The middleware.
pub async fn guard(
    State(state): State<Arc<AccessState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let rules = state.rules.current();
    let conn = req.extensions().get::<ConnInfo>().copied();
    let origin = rules.origins.classify(req.headers(), conn.as_ref());
    let origin_value = req.headers().get(header::ORIGIN).cloned();
    let path = req.uri().path().to_string();
    let method = req.method().clone();

    if method == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
        && !gateway_path(&path)
    {
        return preflight(origin_value.as_ref(), &origin);
    }
    let caller = identify(&state, &rules, req.headers(), conn.as_ref(), &origin);
    if is_write(&method, &path) {
        if let OriginKind::Foreign(o) = &origin {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "CROSS_SITE_REFUSED",
                format!(
                    "{method} {path} from the web page {o} was refused: pages of other sites may \
                     not change this telescope (trusted origins go in api.allowed_origins)"
                ),
            )
            .into_response();
        }
        if !open_write(&path) && !caller.covers(&path) {
            return refusal(&caller, &rules, &path).into_response();
        }
        if !raw_body_route(&path) && !json_body(req.headers()) {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the body as JSON with Content-Type: application/json",
            )
            .into_response();
        }
    } else if state.no_fetch && !caller.is_owner() {
        req.extensions_mut()
            .insert(wanda_gateway::gateway::LocalOnly);
    }
    req.extensions_mut().insert(caller);
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if !gateway_path(&path) {
        cors(h, origin_value.as_ref(), &origin);
    }
    if ui_page(&path) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    } else if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(SANDBOX),
        );
    }
    resp
}

/// A response with status 4xx/5xx in the envelope, for shared layers (limits, staging).
pub fn refuse(status: StatusCode, code: &'static str, message: String) -> Response {
    ApiError::new(status, code, message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn writes_are_every_method_but_reads_outside_socket_io() {
        assert!(is_write(&Method::POST, "/api/session/start"));
        assert!(is_write(&Method::DELETE, "/api/ipfs/pins/x"));
        assert!(is_write(&Method::PUT, "/ipfs/x"));
        assert!(!is_write(&Method::GET, "/api/session/status"));
        assert!(!is_write(&Method::OPTIONS, "/api/session/start"));
        assert!(!is_write(&Method::POST, "/socket.io/"));
    }

    #[test]
    fn json_routes_take_json_or_nothing() {
        assert!(json_body(&headers(&[("content-type", "application/json")])));
        assert!(json_body(&headers(&[(
            "content-type",
            "Application/JSON; charset=utf-8"
        )])));
        assert!(json_body(&headers(&[(
            "content-type",
            "application/merge-patch+json"
        )])));
        assert!(json_body(&headers(&[])));
        assert!(json_body(&headers(&[("content-length", "0")])));
        // what an HTML form or a no-cors fetch can send
        for ct in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
        ] {
            assert!(!json_body(&headers(&[("content-type", ct)])), "{ct}");
        }
        assert!(!json_body(&headers(&[("content-length", "12")])));
        assert!(!json_body(&headers(&[("transfer-encoding", "chunked")])));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = headers(&[("cookie", "a=1; wanda_login=abc; b=2"), ("cookie", "c=3")]);
        assert_eq!(cookie(&h, LOGIN_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), Some("3"));
        assert_eq!(cookie(&h, "d"), None);
    }

    #[test]
    fn owners_cover_their_prefixes() {
        let owner = |p: &[&str]| Caller::Owner {
            via: Via::Credential,
            credential: Some("x".into()),
            allowed_paths: p.iter().map(|s| s.to_string()).collect(),
        };
        assert!(owner(&["/"]).covers("/api/mount/tracking"));
        let s = owner(&["/api/session", "/api/ipfs/pins"]);
        assert!(s.covers("/api/session/start") && s.covers("/api/ipfs/pins/bafy"));
        assert!(!s.covers("/api/sessions") && !s.covers("/api/mount/tracking"));
        assert!(
            !Caller::Visitor {
                bad_credential: false
            }
            .covers("/api/session/start")
        );
    }
}
