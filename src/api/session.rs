//! `/api/session/status|start|stop|config`.

use super::envelope::{ApiError, ApiResult, number, object_body, ok, truthy};
use crate::app::App;
use crate::app::session::{SessionError, StartRequest};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// File of the saved session form, in the captures root (as WANDA).
pub const SESSION_CONFIG: &str = "session_config.json";

/// `GET /api/session/status`.
pub async fn status(State(app): State<Arc<App>>) -> ApiResult {
    Ok(ok(app.sessions.status(), "Session status retrieved"))
}

/// `POST /api/session/start`.
pub async fn start(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = object_body(&body)?.ok_or_else(ApiError::invalid_request)?;
    let req: StartRequest =
        serde_json::from_value(Value::Object(body)).map_err(|_| ApiError::invalid_request())?;
    match app.sessions.start(&req) {
        Ok(raw) => Ok(ok(json!({ "session_status": raw }), "Session started")),
        Err(SessionError::Invalid(m)) => Err(ApiError::validation(m)),
        Err(e @ SessionError::AlreadyRunning) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "SESSION_START_ERROR",
            e.to_string(),
        )),
        Err(SessionError::Internal(e)) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "SESSION_START_ERROR",
            format!("{e:#}"),
        )),
    }
}

/// `POST /api/session/stop` (not an error when nothing runs).
pub async fn stop(State(app): State<Arc<App>>) -> ApiResult {
    let raw = app.sessions.stop().await;
    Ok(ok(json!({ "session_status": raw }), "Session stopped"))
}

/// `GET /api/session/config`: the saved form, or `{}`.
pub async fn get_config(State(app): State<Arc<App>>) -> ApiResult {
    let path = app.store.captures_dir.join(SESSION_CONFIG);
    match std::fs::read(&path) {
        Ok(bytes) => {
            let v: Value = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "CONFIG_PARSE_ERROR",
                    format!("Invalid config file format: {e}"),
                )
            })?;
            Ok(ok(v, "Session config retrieved"))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(ok(json!({}), "No saved session config"))
        }
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "CONFIG_ERROR",
            e.to_string(),
        )),
    }
}

/// Normalises the saved form like WANDA (camelCase keys, same messages).
pub fn normalize_config(body: &serde_json::Map<String, Value>) -> Result<Value, ApiError> {
    let get = |k: &str| body.get(k).filter(|v| !v.is_null());
    let name = match get("name") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(other) => other.to_string(),
        None => String::new(),
    };
    let total = match get("totalImages") {
        Some(v) => number(v, "totalImages")?.trunc(),
        None => 10.0,
    };
    if total <= 0.0 {
        return Err(ApiError::validation("totalImages must be greater than 0"));
    }
    if total > 100_000.0 {
        return Err(ApiError::validation("totalImages must be at most 100000"));
    }
    let mode = match get("sessionMode") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            return Err(ApiError::validation(
                "sessionMode must be 'rapid' or 'timed'",
            ));
        }
        None => "timed".into(),
    };
    if mode != "rapid" && mode != "timed" {
        return Err(ApiError::validation(
            "sessionMode must be 'rapid' or 'timed'",
        ));
    }
    let hours = if mode == "timed" {
        let v = get("totalTimeHours")
            .ok_or_else(|| ApiError::validation("totalTimeHours is required for timed mode"))?;
        let h = number(v, "totalTimeHours")?;
        if h <= 0.0 {
            return Err(ApiError::validation(
                "totalTimeHours must be greater than 0",
            ));
        }
        json!(h)
    } else {
        Value::Null
    };
    Ok(json!({
        "name": name,
        "totalImages": total as u64,
        "enableTracking": get("enableTracking").is_some_and(truthy),
        "useCurrentSettings": body.get("useCurrentSettings").is_none_or(truthy),
        "sessionMode": mode,
        "totalTimeHours": hours,
    }))
}

/// `POST /api/session/config`: validates and saves the form.
pub async fn save_config(State(app): State<Arc<App>>, body: Bytes) -> ApiResult {
    let body = object_body(&body)?.ok_or_else(ApiError::invalid_request)?;
    let cfg = normalize_config(&body)?;
    let dir = app.store.captures_dir.clone();
    let bytes = serde_json::to_vec_pretty(&cfg).expect("json");
    let path = dir.join(SESSION_CONFIG);
    let tmp = dir.join(format!(
        "{}{SESSION_CONFIG}",
        crate::app::local_save::TEMP_PREFIX
    ));
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(&tmp, &bytes)?;
        std::fs::File::open(&tmp)?.sync_all()?;
        std::fs::rename(&tmp, &path)
    };
    write().map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "CONFIG_SAVE_ERROR",
            e.to_string(),
        )
    })?;
    Ok(ok(cfg, "Session config saved"))
}
