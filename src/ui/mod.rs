//! The built-in web UI: a single page (`/`) and its assets (`/ui/*`), embedded in the binary so
//! a browser pointed at the telescope gets the whole interface from `wanda daemon` or
//! `wanda demo` alone. The page is plain ES modules and CSS (no build step); it talks to WANDA's
//! API (docs/API.md), the IPFS REST routes and the Socket.IO namespaces. See docs/UI.md.

pub mod assets;

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Routes `/`, `/index.html` and `/ui/{*path}`; merge it into the main listener's router.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/ui/{*path}", get(asset))
}

async fn index() -> Response {
    serve(assets::INDEX)
}

async fn asset(Path(path): Path<String>) -> Response {
    match assets::find(&path) {
        Some(a) => serve(a),
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("no UI asset {path:?}\n"),
        )
            .into_response(),
    }
}

/// One embedded file with its type; `no-cache` so a browser revalidates after an upgrade.
fn serve(a: &'static assets::Asset) -> Response {
    (
        [
            (header::CONTENT_TYPE, a.content_type),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        a.body,
    )
        .into_response()
}
