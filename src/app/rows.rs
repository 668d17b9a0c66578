//! The rows of the app's metadata database (the seed's CAPTURE, SESSION, PEER and PIN_STATUS
//! tables, plus the publish queue). Stored as JSON values so fields can be added without a
//! migration; every field added later must have a serde default.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Unix milliseconds as WANDA's naive ISO time (`2025-10-13T21:04:05.123000`, UTC): the
/// node's RFC 3339 formatter, without the zone and with microseconds as Python prints them.
pub fn iso_time(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(ms / 1000);
    let date_time = wanda_node::ipns::format_rfc3339(t)
        .map(|s| s.trim_end_matches('Z').to_string())
        .unwrap_or_else(|_| "9999-12-31T23:59:59".into());
    format!("{date_time}.{:06}", (ms % 1000) * 1000)
}

/// One captured file (CAPTURE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureRow {
    /// Database id (increasing).
    pub id: u64,
    /// Session folder name; `None` for a single capture.
    pub session: Option<String>,
    /// File name inside its folder.
    pub filename: String,
    /// Path relative to the captures directory (`session/file.jpg` or `file.jpg`).
    pub rel_path: String,
    /// Thumbnail path relative to the captures directory, if one was made.
    pub thumbnail: Option<String>,
    /// `jpeg` or the raw format's extension (`dng`, `pgm`).
    pub kind: String,
    /// Bytes.
    pub size: u64,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// Exposure, microseconds.
    pub exposure_us: u64,
    /// Analogue gain.
    pub gain: f64,
    /// Capture time, Unix milliseconds.
    pub captured_at_ms: u64,
    /// UnixFS CID once added.
    pub cid: Option<String>,
    /// Cumulative DAG size of `cid` (the Tsize a directory link needs).
    #[serde(default)]
    pub dag_size: Option<u64>,
    /// Pinned in the local node.
    pub is_pinned: bool,
    /// Announced to the network (DHT provide + gossipsub).
    pub is_synced: bool,
    /// True while the local file exists (false after `keep_last_local` removed it).
    pub local: bool,
    /// Last publish error, if the latest attempt failed.
    pub publish_error: Option<String>,
}

/// How a session spaces its captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionMode {
    /// One capture after another.
    Rapid,
    /// Captures spread evenly over `total_time_hours`.
    Timed,
}

/// Lifecycle of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    /// Capturing.
    Running,
    /// All images taken.
    Completed,
    /// Stopped by the user.
    Stopped,
    /// Ended by an error (see `error`).
    Failed,
    /// The process died while it ran (found at startup).
    Interrupted,
}

/// One capture session (SESSION).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionRow {
    /// Sanitised name = folder name.
    pub name: String,
    /// Rapid or timed.
    pub mode: SessionMode,
    /// Images planned.
    pub total_images: u32,
    /// Planned duration (timed mode).
    pub total_time_hours: Option<f64>,
    /// Mount tracking during the session.
    pub enable_tracking: bool,
    /// Whether the camera's current settings were used (else the session's own).
    pub use_current_settings: bool,
    /// Exposure used, microseconds.
    pub exposure_us: u64,
    /// Gain used.
    pub gain: f64,
    /// State.
    pub state: SessionState,
    /// Start, Unix milliseconds.
    pub started_at_ms: u64,
    /// End, Unix milliseconds.
    pub ended_at_ms: Option<u64>,
    /// Images saved so far.
    pub images_captured: u32,
    /// CID of the session directory (captures + metadata), once published.
    pub cid: Option<String>,
    /// Cumulative DAG size of `cid`.
    #[serde(default)]
    pub dag_size: Option<u64>,
    /// The error that ended the session.
    pub error: Option<String>,
    /// True once the session stopped the mount's tracking (WANDA's `mount_tracking_stopped`).
    #[serde(default)]
    pub mount_tracking_stopped: bool,
}

impl SessionState {
    /// WANDA's status word: `running`, `completed` or `error`.
    pub fn wanda_status(self) -> &'static str {
        match self {
            SessionState::Running => "running",
            SessionState::Completed | SessionState::Stopped => "completed",
            SessionState::Failed | SessionState::Interrupted => "error",
        }
    }
}

/// A known peer (PEER).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerRow {
    /// Peer id.
    pub peer_id: String,
    /// Last known address.
    pub multiaddr: String,
    /// Last seen, Unix milliseconds.
    pub last_seen_ms: u64,
    /// Location the peer reported, if any.
    pub location: Option<String>,
    /// A WANDA telescope (not just any IPFS peer).
    pub is_wanda_node: bool,
    /// How many of its captures we hold.
    pub images_shared: u64,
    /// Bytes of its captures we fetched and pinned (`replication.max_space_per_peer`).
    #[serde(default)]
    pub bytes_replicated: u64,
}

/// Who pins one of our captures (PIN_STATUS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinStatusRow {
    /// The pinned CID.
    pub cid: String,
    /// The peer that pins it (our own peer id for the local pin).
    pub peer_id: String,
    /// `pinned`, `queued`, `failed`.
    pub status: String,
    /// Last update, Unix milliseconds.
    pub updated_ms: u64,
}

/// What remains to be done for one capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PublishStage {
    /// Add to the node (and pin), update the session directory.
    Add,
    /// Provide on the DHT and announce on gossipsub.
    Announce,
    /// Ask the remote pinning service for a copy and follow it until pinned or failed.
    Remote,
}

/// A durable publish job (the queue survives kill -9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublishJob {
    /// The capture's id.
    pub capture_id: u64,
    /// Next step.
    pub stage: PublishStage,
    /// Failed attempts of the current stage.
    pub attempts: u32,
    /// Not before this time (Unix ms).
    pub not_before_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000000");
        assert_eq!(iso_time(1_700_000_000_123), "2023-11-14T22:13:20.123000");
        assert_eq!(iso_time(951_782_400_000), "2000-02-29T00:00:00.000000");
    }
}

/// A web UI login (`$REPO/app.redb`, table `login`), found by the hash of its cookie.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginRow {
    /// The credential it was made with (`api.authorizations.NAME`).
    pub credential: String,
    /// That credential's fingerprint then: a changed secret ends the login.
    pub fingerprint: String,
    /// When it was made (ms since the epoch).
    pub created_ms: u64,
    /// When it ends.
    pub expires_ms: u64,
}
