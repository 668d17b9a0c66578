//! Capture sessions (WANDA's rapid and timed modes): one at a time, each image saved through
//! the [`CaptureStore`] (publishing happens behind it), progress/ETA, stop, and
//! `session_metadata.json` kept current. Names are checked so a session can never write
//! outside its folder; a reused name continues the numbering instead of overwriting images.

use super::capture_store::CaptureStore;
use super::events::{EventBus, NS_SESSION};
use super::json_values::{finite_number, truthy};
use super::metadata::MetadataDb;
use super::rows::{SessionMode, SessionRow, SessionState, now_ms};
use super::session_dir::SessionDirs;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use wanda_hardware::{Camera, Capture, Mount};

/// Smallest gap between two captures (WANDA's 0.5 s).
const MIN_GAP: Duration = Duration::from_millis(500);

/// Why a session request was refused.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// Bad request field; the message names it.
    #[error("{0}")]
    Invalid(String),
    /// Another session is running.
    #[error("A session is already running")]
    AlreadyRunning,
    /// Storage or database failure.
    #[error("{0:#}")]
    Internal(#[from] anyhow::Error),
}

/// `POST /api/session/start` body.
#[derive(Debug, Clone, Deserialize)]
pub struct StartRequest {
    /// Session (and folder) name.
    #[serde(default)]
    pub name: Value,
    /// Images to take.
    #[serde(default)]
    pub total_images: Value,
    /// Use the camera's current settings (WANDA stores it; the camera's settings are used).
    #[serde(default)]
    pub use_current_settings: Value,
    /// Track with the mount while capturing.
    #[serde(default)]
    pub enable_tracking: Value,
    /// Timed mode over this many hours; null = rapid.
    #[serde(default)]
    pub total_time_hours: Value,
}

/// A validated start request.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionPlan {
    /// Sanitised name.
    pub name: String,
    /// Images.
    pub total_images: u32,
    /// Hours for timed mode.
    pub total_time_hours: Option<f64>,
    /// Tracking.
    pub enable_tracking: bool,
    /// Stored flag.
    pub use_current_settings: bool,
}

/// Checks a session name: trimmed, 1–100 characters, no `/`, `\`, `..`, leading `.`, or
/// control characters (it becomes a folder and a UnixFS directory entry).
pub fn sanitize_name(raw: &str) -> Result<String, SessionError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(SessionError::Invalid("Session name is required".into()));
    }
    if name.chars().count() > 100 {
        return Err(SessionError::Invalid(
            "Session name must be at most 100 characters".into(),
        ));
    }
    if name.contains(['/', '\\']) || name.starts_with('.') || name.chars().any(char::is_control) {
        return Err(SessionError::Invalid(format!(
            "Session name {name:?} must not contain '/', '\\\\' or control characters, nor start with '.'"
        )));
    }
    Ok(name.to_string())
}

fn number(v: &Value, field: &str) -> Result<f64, SessionError> {
    finite_number(v).ok_or_else(|| SessionError::Invalid(format!("{field} must be a number")))
}

impl StartRequest {
    /// Validates like WANDA (same messages), plus name sanitising and upper bounds.
    pub fn plan(&self) -> Result<SessionPlan, SessionError> {
        let name = match &self.name {
            Value::String(s) => sanitize_name(s)?,
            Value::Null => return Err(SessionError::Invalid("Session name is required".into())),
            other => sanitize_name(&other.to_string())?,
        };
        if self.total_images.is_null() {
            return Err(SessionError::Invalid("total_images is required".into()));
        }
        let total = number(&self.total_images, "total_images")?.trunc();
        if total <= 0.0 {
            return Err(SessionError::Invalid(
                "total_images must be greater than 0".into(),
            ));
        }
        if total > 100_000.0 {
            return Err(SessionError::Invalid(
                "total_images must be at most 100000".into(),
            ));
        }
        let hours = if self.total_time_hours.is_null() {
            None
        } else {
            let h = number(&self.total_time_hours, "total_time_hours")?;
            if h <= 0.0 {
                return Err(SessionError::Invalid(
                    "total_time_hours must be greater than 0".into(),
                ));
            }
            if h > 24.0 * 366.0 {
                return Err(SessionError::Invalid(
                    "total_time_hours must be at most a year".into(),
                ));
            }
            Some(h)
        };
        Ok(SessionPlan {
            name,
            total_images: total as u32,
            total_time_hours: hours,
            enable_tracking: truthy(&self.enable_tracking),
            use_current_settings: truthy(&self.use_current_settings),
        })
    }
}

/// WANDA's `"{h}h {m}m"` rendering of hours.
pub fn formatted_time(hours: f64) -> String {
    let h = hours.trunc() as u64;
    let m = ((hours - hours.trunc()) * 60.0) as u64;
    match (h, m) {
        (0, 0) => "0m".into(),
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

/// Runs sessions.
#[derive(Clone)]
pub struct Sessions {
    /// The camera.
    pub camera: Arc<dyn Camera>,
    /// The mount.
    pub mount: Arc<dyn Mount>,
    /// Saving.
    pub store: CaptureStore,
    /// Metadata files.
    pub dirs: SessionDirs,
    /// Database.
    pub db: MetadataDb,
    /// Events.
    pub events: EventBus,
    /// Serialises camera use between sessions and single captures.
    pub camera_lock: Arc<tokio::sync::Mutex<()>>,
    state: Arc<Mutex<Current>>,
}

#[derive(Default)]
struct Current {
    /// Name of the latest session (running or not).
    name: Option<String>,
    stop: Option<watch::Sender<bool>>,
    done: Option<watch::Receiver<bool>>,
}

/// Capture timeout for an exposure: exposure + 30 s, at least 60 s (WANDA's intended rule).
pub fn capture_timeout(exposure_us: u64) -> Duration {
    Duration::from_micros(exposure_us)
        .saturating_add(Duration::from_secs(30))
        .max(Duration::from_secs(60))
}

/// One still from `camera` on a blocking thread, failing after [`capture_timeout`]. The caller
/// holds the camera lock.
pub async fn capture_with_timeout(camera: Arc<dyn Camera>) -> anyhow::Result<Capture> {
    let timeout = capture_timeout(camera.settings().exposure_us);
    tokio::time::timeout(
        timeout,
        tokio::task::spawn_blocking(move || camera.capture()),
    )
    .await
    .map_err(|_| anyhow::anyhow!("capture did not finish within {} s", timeout.as_secs()))??
    .map_err(Into::into)
}

impl Sessions {
    /// Creates the runner. Marks sessions that were running when the process died.
    pub fn new(
        camera: Arc<dyn Camera>,
        mount: Arc<dyn Mount>,
        store: CaptureStore,
        dirs: SessionDirs,
        events: EventBus,
    ) -> anyhow::Result<Self> {
        let db = store.db.clone();
        let mut latest: Option<SessionRow> = None;
        for mut s in db.sessions()? {
            if s.state == SessionState::Running {
                s.state = SessionState::Interrupted;
                s.error = Some("the process stopped while the session ran".into());
                s.ended_at_ms = Some(now_ms());
                db.put_session(&s)?;
                let _ = dirs.write_metadata(&s.name);
            }
            if latest
                .as_ref()
                .is_none_or(|l| l.started_at_ms <= s.started_at_ms)
            {
                latest = Some(s);
            }
        }
        Ok(Self {
            camera,
            mount,
            store,
            dirs,
            db,
            events,
            camera_lock: Arc::new(tokio::sync::Mutex::new(())),
            state: Arc::new(Mutex::new(Current {
                name: latest.map(|s| s.name),
                ..Current::default()
            })),
        })
    }

    /// True while a session runs.
    pub fn is_running(&self) -> bool {
        let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        st.done.as_ref().is_some_and(|d| !*d.borrow())
    }

    /// WANDA's raw session status (plus `eta_seconds`, `cid`, `error`).
    pub fn raw_status(&self) -> Value {
        let name = self
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .name
            .clone();
        let row = name.and_then(|n| self.db.session(&n).ok().flatten());
        let running = self.is_running();
        let Some(s) = row else {
            return json!({
                "running": false, "status": "idle", "name": "", "total_images": 0,
                "images_captured": 0, "progress": 0, "elapsed_time": 0, "session_dir": "",
                "total_time_hours": null, "formatted_time": null, "estimated_completion": null,
                "eta_seconds": null, "cid": null, "error": null,
            });
        };
        let now = now_ms();
        let elapsed_ms = s.ended_at_ms.unwrap_or(now).saturating_sub(s.started_at_ms);
        let progress = if s.total_images == 0 {
            0.0
        } else {
            (f64::from(s.images_captured) / f64::from(s.total_images) * 1000.0).round() / 10.0
        };
        let remaining = s.total_images.saturating_sub(s.images_captured);
        let eta = if !running || remaining == 0 {
            None
        } else if let Some(h) = s.total_time_hours {
            Some((h * 3600.0 - elapsed_ms as f64 / 1000.0).max(0.0))
        } else if s.images_captured > 0 {
            Some(elapsed_ms as f64 / 1000.0 / f64::from(s.images_captured) * f64::from(remaining))
        } else {
            None
        };
        let dir_name = self
            .store
            .captures_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        json!({
            "running": running,
            "status": s.state.wanda_status(),
            "name": s.name,
            "total_images": s.total_images,
            "images_captured": s.images_captured,
            "progress": progress,
            "elapsed_time": elapsed_ms / 1000,
            "session_dir": format!("{dir_name}/{}", s.name),
            "total_time_hours": s.total_time_hours,
            "formatted_time": s.total_time_hours.map(formatted_time),
            "estimated_completion": s.total_time_hours.map(|h| s.started_at_ms / 1000 + (h * 3600.0) as u64),
            "eta_seconds": eta,
            "cid": s.cid,
            "error": s.error,
        })
    }

    /// The raw status plus `active`, `captured_images`, `remaining_time` (hours), as the UI
    /// reads it.
    pub fn status(&self) -> Value {
        transformed(self.raw_status())
    }

    /// Starts a session. Fails if one is running or the request is invalid.
    pub fn start(&self, req: &StartRequest) -> Result<Value, SessionError> {
        let plan = req.plan()?;
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.done.as_ref().is_some_and(|d| !*d.borrow()) {
            return Err(SessionError::AlreadyRunning);
        }
        let settings = self.camera.settings();
        let row = SessionRow {
            name: plan.name.clone(),
            mode: if plan.total_time_hours.is_some() {
                SessionMode::Timed
            } else {
                SessionMode::Rapid
            },
            total_images: plan.total_images,
            total_time_hours: plan.total_time_hours,
            enable_tracking: plan.enable_tracking,
            use_current_settings: plan.use_current_settings,
            exposure_us: settings.exposure_us,
            gain: settings.gain,
            state: SessionState::Running,
            started_at_ms: now_ms(),
            ended_at_ms: None,
            images_captured: 0,
            cid: self
                .db
                .session(&plan.name)
                .ok()
                .flatten()
                .and_then(|s| s.cid),
            dag_size: self
                .db
                .session(&plan.name)
                .ok()
                .flatten()
                .and_then(|s| s.dag_size),
            error: None,
            mount_tracking_stopped: false,
        };
        let dir = self.store.captures_dir.join(&row.name);
        std::fs::create_dir_all(&dir).map_err(|e| {
            SessionError::Internal(anyhow::anyhow!("Failed to create session directory: {e}"))
        })?;
        self.db.put_session(&row)?;
        self.dirs.write_metadata(&row.name)?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let (done_tx, done_rx) = watch::channel(false);
        st.name = Some(row.name.clone());
        st.stop = Some(stop_tx);
        st.done = Some(done_rx);
        drop(st);
        let me = self.clone();
        tokio::spawn(async move { me.run(row, stop_rx, done_tx).await });
        let raw = self.raw_status();
        self.events
            .emit(NS_SESSION, "session_start", transformed(raw.clone()));
        Ok(raw)
    }

    /// Stops the running session (waits up to 5 s for the current capture). Not an error when
    /// none runs.
    pub async fn stop(&self) -> Value {
        let (stop, done) = {
            let st = self.state.lock().unwrap_or_else(|p| p.into_inner());
            (st.stop.clone(), st.done.clone())
        };
        if let (Some(stop), Some(mut done)) = (stop, done)
            && !*done.borrow()
        {
            let _ = stop.send(true);
            let _ = tokio::time::timeout(Duration::from_secs(5), done.wait_for(|d| *d)).await;
        }
        self.raw_status()
    }

    async fn run(
        &self,
        mut row: SessionRow,
        mut stop: watch::Receiver<bool>,
        done: watch::Sender<bool>,
    ) {
        if row.enable_tracking
            && !self.mount.is_tracking()
            && let Err(e) = self.mount.start_tracking()
        {
            tracing::warn!("session {}: cannot start tracking: {e}", row.name);
        }
        let mut next_index = self.next_image_index(&row.name);
        let start = tokio::time::Instant::now();
        let spacing = row
            .total_time_hours
            .map(|h| Duration::from_secs_f64(h * 3600.0 / f64::from(row.total_images)));
        let mut outcome = SessionState::Completed;
        for k in 0..row.total_images {
            if *stop.borrow() {
                outcome = SessionState::Stopped;
                break;
            }
            if k > 0 {
                let wait_until = match spacing {
                    Some(s) => (start + s * k).max(tokio::time::Instant::now() + MIN_GAP),
                    None => tokio::time::Instant::now() + MIN_GAP,
                };
                tokio::select! {
                    _ = tokio::time::sleep_until(wait_until) => {}
                    _ = stop.changed() => { outcome = SessionState::Stopped; break; }
                }
            }
            let file = format!("image_{next_index:04}.jpg");
            match self.capture_one(&row.name, &file).await {
                Ok(()) => {
                    next_index += 1;
                    row.images_captured += 1;
                    if let Err(e) = self.save_row(&row) {
                        tracing::error!("session {}: {e:#}", row.name);
                    }
                    self.events
                        .emit(NS_SESSION, "session_progress", self.status());
                }
                Err(e) => {
                    tracing::error!("session {}: capture failed: {e:#}", row.name);
                    row.error = Some(format!("{e:#}"));
                    outcome = SessionState::Failed;
                    break;
                }
            }
        }
        row.state = outcome;
        row.ended_at_ms = Some(now_ms());
        if outcome != SessionState::Failed && row.enable_tracking && self.mount.is_tracking() {
            match self.mount.stop_tracking() {
                Ok(()) => row.mount_tracking_stopped = true,
                Err(e) => tracing::warn!("session {}: cannot stop tracking: {e}", row.name),
            }
        }
        if let Err(e) = self.save_row(&row) {
            tracing::error!("session {}: {e:#}", row.name);
        }
        // the session directory's metadata must show the final state
        self.store
            .dirs_dirty
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.store.wake.notify_one();
        // done before the final event, so a status fetched on it says "not running"
        let _ = done.send(true);
        let event = match outcome {
            SessionState::Completed => "session_complete",
            SessionState::Stopped => "session_stop",
            _ => "session_error",
        };
        let mut payload = self.status();
        if outcome == SessionState::Failed {
            payload["error"] = json!(row.error);
        }
        self.events.emit(NS_SESSION, event, payload);
    }

    fn save_row(&self, row: &SessionRow) -> anyhow::Result<()> {
        // everything but the CID fields, which the publisher owns
        self.db.update_session(&row.name, |cur| {
            let (cid, dag_size) = (cur.cid.take(), cur.dag_size.take());
            *cur = row.clone();
            cur.cid = cid;
            cur.dag_size = dag_size;
        })?;
        self.dirs.write_metadata(&row.name)?;
        Ok(())
    }

    /// One image: camera (with timeout) then durable save.
    async fn capture_one(&self, session: &str, file: &str) -> anyhow::Result<()> {
        let _cam = self.camera_lock.lock().await;
        let capture = capture_with_timeout(self.camera.clone()).await?;
        let store = self.store.clone();
        let (session, file) = (session.to_string(), file.to_string());
        tokio::task::spawn_blocking(move || store.save(&capture, Some(&session), &file)).await??;
        Ok(())
    }

    /// The next free `image_NNNN` number in a session folder (a reused name continues).
    fn next_image_index(&self, session: &str) -> u32 {
        let mut max = 0;
        if let Ok(rd) = std::fs::read_dir(self.store.captures_dir.join(session)) {
            for e in rd.flatten() {
                let n = e.file_name();
                let n = n.to_string_lossy();
                if let Some(num) = n
                    .strip_prefix("image_")
                    .and_then(|r| r.split('.').next())
                    .and_then(|d| d.parse::<u32>().ok())
                {
                    max = max.max(num);
                }
            }
        }
        max + 1
    }
}

/// Adds `active`, `captured_images` and `remaining_time` (hours) to a raw status.
pub fn transformed(mut raw: Value) -> Value {
    let running = raw["running"].as_bool().unwrap_or(false);
    let captured = raw["images_captured"].clone();
    let remaining_h = match (raw["total_time_hours"].as_f64(), running) {
        (Some(h), true) => (h - raw["elapsed_time"].as_f64().unwrap_or(0.0) / 3600.0).max(0.0),
        _ => 0.0,
    };
    raw["active"] = json!(running);
    raw["captured_images"] = captured;
    raw["remaining_time"] = json!(remaining_h);
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> StartRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn validation_messages_match_wanda() {
        let e = |v: Value| req(v).plan().unwrap_err().to_string();
        assert_eq!(e(json!({"total_images": 3})), "Session name is required");
        assert_eq!(
            e(json!({"name": "  ", "total_images": 3})),
            "Session name is required"
        );
        assert_eq!(e(json!({"name": "m31"})), "total_images is required");
        assert_eq!(
            e(json!({"name": "m31", "total_images": 0})),
            "total_images must be greater than 0"
        );
        assert_eq!(
            e(json!({"name": "m31", "total_images": 2, "total_time_hours": -1})),
            "total_time_hours must be greater than 0"
        );
        assert!(e(json!({"name": "m31", "total_images": "x"})).contains("must be a number"));
        for bad in ["../x", "a/b", ".hidden", "a\\b", "a\u{7}b"] {
            assert!(
                req(json!({"name": bad, "total_images": 1})).plan().is_err(),
                "{bad:?}"
            );
        }
        let p = req(
            json!({"name": " M42 run ", "total_images": 2.7, "enable_tracking": true,
                           "total_time_hours": "1.5"}),
        )
        .plan()
        .unwrap();
        assert_eq!(p.name, "M42 run");
        assert_eq!(p.total_images, 2);
        assert_eq!(p.total_time_hours, Some(1.5));
        assert!(p.enable_tracking && !p.use_current_settings);
    }

    #[test]
    fn formatted_times_and_timeouts() {
        assert_eq!(formatted_time(1.5), "1h 30m");
        assert_eq!(formatted_time(2.0), "2h");
        assert_eq!(formatted_time(0.25), "15m");
        assert_eq!(formatted_time(0.0), "0m");
        assert_eq!(capture_timeout(1_000_000), Duration::from_secs(60));
        assert_eq!(capture_timeout(200_000_000), Duration::from_secs(230));
    }
}
