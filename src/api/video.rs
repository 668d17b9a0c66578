//! `/video_feed`: the live view as MJPEG (`multipart/x-mixed-replace; boundary=frame`), about
//! 10 frames per second, one preview per client, ending when the client goes away.

use super::access::Caller;
use super::envelope::ApiError;
use crate::app::App;
use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wanda_hardware::camera::{MJPEG_CONTENT_TYPE, mjpeg_part};

/// Time between frames.
const FRAME_INTERVAL: Duration = Duration::from_millis(100);

/// Streams the owner may watch beyond the visitors' cap.
const OWNER_EXTRA: usize = 2;

/// Who is watching: visitors share `http.max_video_viewers` streams; the owner may take
/// [`OWNER_EXTRA`] more, so visitors cannot lock the owner out of the live view.
#[derive(Clone)]
pub struct Viewers {
    visitors: Arc<Semaphore>,
    owner_extra: Arc<Semaphore>,
}

impl Viewers {
    /// `max` visitor streams.
    pub fn new(max: usize) -> Self {
        Viewers {
            visitors: Arc::new(Semaphore::new(max)),
            owner_extra: Arc::new(Semaphore::new(OWNER_EXTRA)),
        }
    }

    fn admit(&self, owner: bool) -> Option<OwnedSemaphorePermit> {
        self.visitors.clone().try_acquire_owned().ok().or_else(|| {
            owner
                .then(|| self.owner_extra.clone().try_acquire_owned().ok())
                .flatten()
        })
    }
}

/// `GET /video_feed`.
pub async fn video_feed(
    State(app): State<Arc<App>>,
    Extension(viewers): Extension<Viewers>,
    caller: Option<Extension<Caller>>,
) -> Response {
    let owner = caller.is_some_and(|Extension(c)| c.is_owner());
    let Some(permit) = viewers.admit(owner) else {
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_VIEWERS",
            "the live view has as many viewers as it allows (http.max_video_viewers); try again later",
        )
        .into_response();
    };
    let stream = futures::stream::unfold((app, permit), |(app, permit)| async move {
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
        Some((Ok::<_, std::io::Error>(Bytes::from(part)), (app, permit)))
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
