//! `/api/camera/status|settings|capture`.

use super::envelope::{ApiError, ApiResult, number, object_body, ok, truthy};
use crate::app::App;
use crate::app::events::NS_CAMERA;
use crate::app::local_save::StorageFull;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;
use wanda_hardware::camera::{MAX_EXPOSURE_US, MAX_GAIN};

/// WANDA's camera status payload (also the `/ws/camera` `status` event), plus `driver`,
/// `name`, `width`, `height`.
pub fn camera_status(app: &App) -> Value {
    let s = app.camera.status();
    let ui = app
        .camera_ui
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    json!({
        "mode": "still",
        "capture_status": ui.capture_status,
        "recording": s.capturing,
        "iso": s.iso,
        "gain": s.settings.gain,
        "exposure_seconds": s.settings.exposure_secs(),
        "night_vision_mode": ui.night_vision_mode,
        "night_vision_intensity": ui.night_vision_intensity,
        "save_raw": s.settings.save_raw,
        "skip_frames": ui.skip_frames,
        "driver": s.kind,
        "name": s.name,
        "width": s.width,
        "height": s.height,
    })
}

/// `GET /api/camera/status`.
pub async fn status(State(app): State<Arc<App>>) -> ApiResult {
    Ok(ok(camera_status(&app), "Camera status retrieved"))
}

/// `POST /api/camera/settings`: any of `exposure_seconds`, `iso`, `night_vision_mode`,
/// `night_vision_intensity`, `save_raw`, `skip_frames`. Nothing changes unless all are valid.
pub async fn settings(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = object_body(&body)?.unwrap_or_default();
    let mut settings = app.camera.settings();
    let mut ui = app
        .camera_ui
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut updates = Vec::new();
    let present = |k: &str| body.get(k).filter(|v| !v.is_null());
    if let Some(v) = present("exposure_seconds") {
        let s = number(v, "exposure_seconds")?;
        if s <= 0.0 {
            return Err(ApiError::validation(
                "exposure_seconds must be greater than 0",
            ));
        }
        let us = (s * 1e6).round();
        if us > MAX_EXPOSURE_US as f64 {
            return Err(ApiError::validation(format!(
                "exposure_seconds must be at most {}",
                MAX_EXPOSURE_US / 1_000_000
            )));
        }
        settings.exposure_us = (us as u64).max(1);
        updates.push("exposure_seconds");
    }
    if let Some(v) = present("iso") {
        let iso = number(v, "iso")?;
        if iso <= 0.0 {
            return Err(ApiError::validation("iso must be greater than 0"));
        }
        if iso / 100.0 > MAX_GAIN {
            return Err(ApiError::validation(format!(
                "iso must be at most {}",
                MAX_GAIN * 100.0
            )));
        }
        settings.gain = iso / 100.0;
        updates.push("iso");
    }
    if let Some(v) = body.get("night_vision_mode") {
        ui.night_vision_mode = truthy(v);
        updates.push("night_vision_mode");
    }
    if let Some(v) = present("night_vision_intensity") {
        ui.night_vision_intensity = number(v, "night_vision_intensity")?.clamp(1.0, 80.0);
        updates.push("night_vision_intensity");
    }
    if let Some(v) = body.get("save_raw") {
        settings.save_raw = truthy(v);
        updates.push("save_raw");
    }
    if let Some(v) = present("skip_frames") {
        let n = number(v, "skip_frames")?;
        if !(0.0..=1000.0).contains(&n) {
            return Err(ApiError::validation(
                "skip_frames must be between 0 and 1000",
            ));
        }
        ui.skip_frames = n as i64;
        updates.push("skip_frames");
    }
    settings.night_vision_gain = if ui.night_vision_mode {
        ui.night_vision_intensity
    } else {
        1.0
    };
    app.camera
        .set_settings(settings)
        .map_err(|e| ApiError::validation(e.to_string()))?;
    *app.camera_ui.lock().unwrap_or_else(|p| p.into_inner()) = ui;
    let status = camera_status(&app);
    app.events.emit(NS_CAMERA, "status", status.clone());
    Ok(ok(
        json!({
            "updates": updates,
            "exposure_seconds": status["exposure_seconds"],
            "iso": status["iso"],
        }),
        "Camera settings updated",
    ))
}

/// `POST /api/camera/capture`: one capture into the captures root; answers when it is saved.
pub async fn capture(State(app): State<Arc<App>>) -> ApiResult {
    match app.capture_single().await {
        Ok(row) => {
            let ui = app
                .camera_ui
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            Ok(ok(
                json!({
                    "capture_status": ui.capture_status,
                    "recording": false,
                    "filename": row.filename,
                    "path": row.rel_path,
                }),
                "Capture complete",
            ))
        }
        Err(e) if e.downcast_ref::<StorageFull>().is_some() => Err(ApiError::new(
            StatusCode::INSUFFICIENT_STORAGE,
            "STORAGE_FULL",
            format!("{e:#}"),
        )),
        Err(e) if app.sessions.is_running() => Err(ApiError::new(
            StatusCode::CONFLICT,
            "CAMERA_BUSY",
            format!("{e:#}"),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "CAPTURE_ERROR",
            format!("{e:#}"),
        )),
    }
}
