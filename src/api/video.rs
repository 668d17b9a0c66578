//! `/video_feed`: the live view as MJPEG (`multipart/x-mixed-replace; boundary=frame`), about
//! 10 frames per second, one preview per client, ending when the client goes away.

use crate::app::App;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use wanda_hardware::camera::{MJPEG_CONTENT_TYPE, mjpeg_part};

/// Time between frames.
const FRAME_INTERVAL: Duration = Duration::from_millis(100);

/// `GET /video_feed`.
pub async fn video_feed(State(app): State<Arc<App>>) -> Response {
    let stream = futures::stream::unfold(app, |app| async move {
        let start = tokio::time::Instant::now();
        let camera = app.camera.clone();
        let frame = tokio::task::spawn_blocking(move || camera.preview()).await;
        let part = match frame {
            Ok(Ok(jpeg)) => mjpeg_part(&jpeg),
            Ok(Err(e)) => {
                tracing::debug!("preview frame: {e}");
                b"--frame\r\nContent-Type: image/jpeg\r\n\r\n\r\n".to_vec()
            }
            Err(_) => return None,
        };
        tokio::time::sleep_until(start + FRAME_INTERVAL).await;
        Some((Ok::<_, std::io::Error>(Bytes::from(part)), app))
    });
    (
        [
            (header::CONTENT_TYPE, MJPEG_CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-cache, no-store"),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}
