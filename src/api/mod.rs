//! WANDA's HTTP API for the UI, on the main listener (next to the `/ipfs` gateway): the routes
//! and JSON envelope of the original Python backend (see docs/API.md), `/video_feed`, the
//! capture files, Socket.IO, and the login. Who may do what is decided in [`access`]; request
//! and body limits come from `wanda_gateway::http`.

pub mod access;
pub mod camera;
pub mod captures;
pub mod envelope;
pub mod login;
pub mod mount;
pub mod peer_pins;
pub mod session;
pub mod socketio;
pub mod video;

use crate::app::App;
use axum::Router;
use axum::http::{Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use envelope::ApiError;
use std::sync::Arc;
use wanda_gateway::auth::Access;
use wanda_gateway::http::HttpLimits;
use wanda_gateway::http::limits::{RequestLimits, limit_requests, time_bodies};

/// Largest body the app's JSON routes read (413 beyond).
const JSON_BODY_LIMIT: usize = 64 * 1024;

/// How the main listener is guarded.
pub struct MainListener {
    /// Credentials and trusted origins (shared with the RPC listener).
    pub rules: Arc<Access>,
    /// Request, body and connection limits.
    pub limits: HttpLimits,
    /// Visitors' reads stay local (`gateway.no_fetch`).
    pub no_fetch: bool,
    /// The listener's port (pairing links).
    pub port: u16,
}

/// The main listener's router: the app's routes, `extra` (the `/ipfs` + `/ipns` gateway and
/// `/api/ipfs/*`), the login, Socket.IO; around all of it the access guard, body timeouts and
/// request limits.
pub fn router(app: Arc<App>, extra: Router, main: MainListener) -> Router {
    let logins = login::Logins::new(app.db.clone(), app.config.http.login_lifetime());
    let access_state = Arc::new(access::AccessState {
        rules: main.rules.clone(),
        logins: logins.clone(),
        no_fetch: main.no_fetch,
    });
    let login_routes = Router::new()
        .route("/api/auth/status", get(login::status))
        .route("/api/auth/login", post(login::login))
        .route("/api/auth/logout", post(login::logout))
        .route("/api/auth/pair", post(login::pair))
        .with_state(Arc::new(login::LoginState {
            app: app.clone(),
            rules: main.rules,
            logins,
            port: main.port,
        }));
    let request_limits = RequestLimits::new(
        main.limits.max_requests,
        main.limits.max_requests_per_client,
        |path| path == "/video_feed",
        access::refuse,
    );
    let viewers = video::Viewers::new(app.config.http.max_video_viewers as usize);
    let api = Router::new()
        .route("/api/camera/status", get(camera::status))
        .route(
            "/api/camera/settings",
            axum::routing::post(camera::settings),
        )
        .route("/api/camera/capture", axum::routing::post(camera::capture))
        .route("/api/mount/status", get(mount::status))
        .route("/api/mount/tracking", axum::routing::post(mount::tracking))
        .route("/api/session/status", get(session::status))
        .route("/api/session/start", axum::routing::post(session::start))
        .route("/api/session/stop", axum::routing::post(session::stop))
        .route(
            "/api/session/config",
            get(session::get_config).post(session::save_config),
        )
        .route("/api/captures", get(captures::list))
        .route("/api/captures/folders", get(captures::folders))
        .route("/api/captures/{*path}", get(captures::file))
        .route("/captures/{*path}", get(captures::file))
        .route("/api/thumbnails/{*path}", get(captures::thumbnail))
        .route("/api/network/captures", get(captures::network))
        .route("/api/network/peers", get(captures::peers))
        .route("/api/network/stats", get(captures::network_stats))
        .route("/api/network/peers/{peer_id}/pins", get(peer_pins::list))
        .route("/video_feed", get(video::video_feed))
        .route("/api/{*rest}", axum::routing::any(unknown_api))
        .with_state(app.clone())
        // the app's bodies are small JSON objects
        .layer(axum::extract::DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::Extension(viewers))
        .merge(login_routes)
        .merge(crate::ui::router());
    api.merge(extra)
        .layer(socketio::layer(&app))
        .layer(from_fn_with_state(access_state, access::guard))
        .layer(from_fn_with_state(main.limits.body, time_bodies))
        .layer(from_fn_with_state(request_limits, limit_requests))
}

async fn unknown_api(uri: axum::http::Uri, method: Method) -> impl IntoResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("no API route {method} {}", uri.path()),
    )
}
