//! Events the app emits for the UI (relayed on the Socket.IO namespaces `/ws/camera`,
//! `/ws/mount`, `/ws/session`, `/ws/ipfs`). Sending never blocks and never fails: with no
//! listener an event is dropped.

use serde_json::Value;
use tokio::sync::broadcast;

/// Socket.IO namespace of camera events.
pub const NS_CAMERA: &str = "/ws/camera";
/// Socket.IO namespace of mount events.
pub const NS_MOUNT: &str = "/ws/mount";
/// Socket.IO namespace of session events.
pub const NS_SESSION: &str = "/ws/session";
/// Socket.IO namespace of IPFS events.
pub const NS_IPFS: &str = "/ws/ipfs";

/// One event: namespace, name and JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub struct AppEvent {
    /// Socket.IO namespace.
    pub namespace: &'static str,
    /// Event name (WANDA's names, e.g. `session_update`, `ipfs_upload_complete`).
    pub name: String,
    /// Payload.
    pub data: Value,
}

/// Fan-out of [`AppEvent`]s. Cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<AppEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus that keeps the last 1024 events for slow listeners.
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
        }
    }

    /// Emits an event.
    pub fn emit(&self, namespace: &'static str, name: &str, data: Value) {
        tracing::debug!(namespace, name, "event");
        let _ = self.tx.send(AppEvent {
            namespace,
            name: name.to_string(),
            data,
        });
    }

    /// A new listener that sees every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AppEvent> {
        self.tx.subscribe()
    }
}
