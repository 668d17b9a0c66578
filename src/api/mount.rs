//! `/api/mount/status|tracking`. `speed` is a multiple of the sidereal rate (what the UI's
//! slider says); `direction` true means clockwise (not reversed).

use super::envelope::{ApiError, ApiResult, number, object_body, ok};
use crate::app::App;
use crate::app::events::NS_MOUNT;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// Slowest and fastest speeds the API accepts, × sidereal.
const SPEED_RANGE: (f64, f64) = (0.1, 10.0);

/// WANDA's mount payload `{status, tracking, direction, speed}` plus our details.
pub fn mount_status(app: &App) -> Value {
    let s = app.mount.status();
    let driver = s.driver.clone();
    let state = match (&s.error, s.tracking) {
        (Some(e), _) => format!("{driver} mount error: {e}"),
        (None, true) => format!("{driver} mount tracking at {:.2}× sidereal", s.speed),
        (None, false) if s.steps == 0 => format!("{driver} mount ready"),
        (None, false) => format!("{driver} mount stopped"),
    };
    json!({
        "status": state,
        "tracking": s.tracking,
        "direction": !s.reverse,
        "speed": s.speed,
        "driver": driver,
        "hemisphere": s.hemisphere,
        "steps": s.steps,
        "step_interval_s": s.step_interval_s,
        "steps_per_axis_rev": s.steps_per_axis_rev,
        "error": s.error,
    })
}

/// `GET /api/mount/status`.
pub async fn status(State(app): State<Arc<App>>) -> ApiResult {
    Ok(ok(mount_status(&app), "Mount status retrieved"))
}

fn direction(v: &Value) -> Result<Option<bool>, ApiError> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "cw" | "clockwise" => Ok(Some(true)),
            "ccw" | "counterclockwise" | "counter-clockwise" => Ok(Some(false)),
            other => Err(ApiError::validation(format!(
                "direction {other:?} is not cw or ccw"
            ))),
        },
        _ => Err(ApiError::validation(
            "direction must be cw, ccw or a boolean",
        )),
    }
}

/// `POST /api/mount/tracking {action: start|stop, speed?, direction?}`.
pub async fn tracking(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = object_body(&body).ok().flatten().unwrap_or_default();
    let action = body.get("action").and_then(Value::as_str).unwrap_or("");
    let fail = |e: String| {
        app.events
            .emit(NS_MOUNT, "mount_error", json!({ "error": e }));
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "MOUNT_ERROR", e)
    };
    match action {
        "start" => {
            let speed = match body.get("speed").filter(|v| !v.is_null()) {
                Some(v) => {
                    let s = number(v, "speed")?;
                    if !(SPEED_RANGE.0..=SPEED_RANGE.1).contains(&s) {
                        return Err(ApiError::validation(format!(
                            "speed must be between {} and {} × sidereal",
                            SPEED_RANGE.0, SPEED_RANGE.1
                        )));
                    }
                    Some(s)
                }
                None => None,
            };
            let dir = direction(body.get("direction").unwrap_or(&Value::Null))?;
            if let Some(s) = speed {
                app.mount.set_speed(s).map_err(|e| fail(e.to_string()))?;
            }
            if let Some(cw) = dir {
                app.mount
                    .set_reverse(!cw)
                    .map_err(|e| fail(e.to_string()))?;
            }
            app.mount
                .start_tracking()
                .map_err(|e| fail(e.to_string()))?;
            let st = mount_status(&app);
            app.events.emit(NS_MOUNT, "tracking_start", st.clone());
            Ok(ok(
                json!({"status": st["status"], "tracking": st["tracking"]}),
                "Tracking action applied",
            ))
        }
        "stop" => {
            app.mount.stop_tracking().map_err(|e| fail(e.to_string()))?;
            let st = mount_status(&app);
            app.events.emit(NS_MOUNT, "tracking_stop", st.clone());
            Ok(ok(
                json!({"status": st["status"], "tracking": st["tracking"]}),
                "Tracking action applied",
            ))
        }
        _ => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ACTION",
            "action must be either 'start' or 'stop'",
        )),
    }
}
