//! WANDA's HTTP API for the UI, on the main listener (next to the `/ipfs` gateway): the routes
//! and JSON envelope of the original Python backend (see docs/API.md), `/video_feed`, the
//! capture files, and Socket.IO. Any Origin may call it (CORS), as the UI may be served from
//! another port during development.

pub mod camera;
pub mod captures;
pub mod envelope;
pub mod mount;
pub mod peer_pins;
pub mod session;
pub mod socketio;
pub mod video;

use crate::app::App;
use axum::Router;
use axum::http::{Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use envelope::ApiError;
use std::sync::Arc;
use tower_http::cors::{Any, CorsLayer};

/// The main listener's router: the app's routes, `extra` (the `/ipfs` + `/ipns` gateway),
/// Socket.IO and CORS around all of it.
pub fn router(app: Arc<App>, extra: Router) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION]);
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
        .route("/api/network/peers/{peer_id}/pins", get(peer_pins::list))
        .route("/video_feed", get(video::video_feed))
        .route("/api/{*rest}", axum::routing::any(unknown_api))
        .with_state(app.clone())
        .merge(crate::ui::router());
    api.merge(extra).layer(socketio::layer(&app)).layer(cors)
}

async fn unknown_api(uri: axum::http::Uri, method: Method) -> impl IntoResponse {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        format!("no API route {method} {}", uri.path()),
    )
}
