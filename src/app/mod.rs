//! The telescope app: camera and mount, sessions, and the storage router that saves every
//! capture locally first and publishes it to the embedded IPFS node behind the camera's back.
//!
//! Flow (see docs/ARCHITECTURE.md): camera → [`capture_store`] (atomic durable save,
//! CAPTURE row + publish job in one transaction, then the thumbnail) → [`publisher`] (add + pin,
//! session directory, root directory, provide, gossipsub) → events for the UI.

pub mod capture_store;
pub mod config;
pub mod devices;
pub mod discovery;
pub mod events;
pub mod json_values;
pub mod local_save;
pub mod metadata;
pub mod peers;
pub mod pinning_service;
pub mod publisher;
pub mod recovery;
pub mod replication;
pub mod rows;
pub mod session;
pub mod session_dir;
pub mod thumbnail;

use anyhow::{Context, Result};
use capture_store::CaptureStore;
use config::AppConfig;
use events::{EventBus, NS_CAMERA};
use metadata::{METADATA_FILE, MetadataDb};
use publisher::Publisher;
use rows::CaptureRow;
use serde_json::json;
use session::Sessions;
use session_dir::SessionDirs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use wanda_hardware::{Camera, Mount};
use wanda_node::net::NodeHandle;
use wanda_node::store::Blockstore;

/// What the app needs from the node side.
pub struct NodeParts {
    /// The block store.
    pub store: Blockstore,
    /// The running network node, if any.
    pub node: Option<NodeHandle>,
    /// Our peer id.
    pub peer_id: String,
    /// The node's key ("self"), which names the root of all sessions over IPNS.
    pub key: Option<libp2p::identity::Keypair>,
    /// Gossipsub topic of announcements.
    pub topic: String,
    /// Base URL of our gateway, e.g. `http://127.0.0.1:8080`.
    pub gateway_url: Option<String>,
    /// Unpinned blocks are collected once the store holds more than this many bytes
    /// (`storage.max_storage × storage.gc_watermark %`); `None` = never.
    pub gc_threshold: Option<u64>,
}

/// Camera state WANDA's API exposes beyond [`wanda_hardware::CameraSettings`].
#[derive(Debug, Clone)]
pub struct CameraUiState {
    /// Human status of the last single capture (`Ready`, `Capturing...`, …).
    pub capture_status: String,
    /// Night vision switch.
    pub night_vision_mode: bool,
    /// Night vision digital gain (1–80) used when the switch is on.
    pub night_vision_intensity: f64,
    /// WANDA's `skip_frames` (stored, reported).
    pub skip_frames: i64,
}

/// The running app.
pub struct App {
    /// Config sections.
    pub config: AppConfig,
    /// Camera.
    pub camera: Arc<dyn Camera>,
    /// Mount.
    pub mount: Arc<dyn Mount>,
    /// Metadata database.
    pub db: MetadataDb,
    /// Events.
    pub events: EventBus,
    /// Saving captures.
    pub store: CaptureStore,
    /// Session and root directories.
    pub dirs: SessionDirs,
    /// Sessions.
    pub sessions: Sessions,
    /// Camera state for the UI.
    pub camera_ui: Mutex<CameraUiState>,
    /// The node side.
    pub node: Option<NodeHandle>,
    /// The block store.
    pub blocks: Blockstore,
    /// Our gateway's base URL.
    pub gateway_url: Option<String>,
    /// What replication refused.
    pub replication: Arc<replication::ReplicationStats>,
    stop_publisher: watch::Sender<bool>,
    publisher_task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// Resolves `captures.dir` against the repo.
pub fn captures_dir(repo: &Path, cfg: &AppConfig) -> PathBuf {
    let p = PathBuf::from(&cfg.captures.dir);
    if p.is_absolute() { p } else { repo.join(p) }
}

impl App {
    /// Opens devices and the metadata database, recovers from a crash, starts the publish
    /// worker. Must run inside a tokio runtime.
    pub fn start(
        repo: &Path,
        config: AppConfig,
        camera: Arc<dyn Camera>,
        mount: Arc<dyn Mount>,
        parts: NodeParts,
    ) -> Result<Arc<App>> {
        if !config.pinning_service.endpoint.is_empty() && config.pinning_service.token.is_empty() {
            anyhow::bail!(
                "pinning_service.endpoint is set but pinning_service.token is empty: set the \
                 service's access token (wanda config pinning_service.token TOKEN)"
            );
        }
        let captures_dir = captures_dir(repo, &config);
        std::fs::create_dir_all(&captures_dir)
            .with_context(|| format!("cannot create {}", captures_dir.display()))?;
        let db = MetadataDb::open(&repo.join(METADATA_FILE))?;
        let events = EventBus::new();
        let wake = Arc::new(Notify::new());
        let store = CaptureStore {
            captures_dir: captures_dir.clone(),
            thumbs_dir: repo.join("thumbnails"),
            db: db.clone(),
            events: events.clone(),
            wake: wake.clone(),
            dirs_dirty: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            publish: config.publish.enabled,
            min_free: config::parse_size(&config.captures.min_free_space)?,
            thumbnail_px: config.captures.thumbnail_px,
            store: parts.store.clone(),
        };
        let (removed, requeued) = recovery::recover(&store)?;
        if removed + requeued > 0 {
            tracing::info!(
                "recovery: removed {removed} temporary files, queued {requeued} unrecorded captures"
            );
        }
        let dirs = SessionDirs {
            captures_dir: captures_dir.clone(),
            store: parts.store.clone(),
            db: db.clone(),
            write_lock: Arc::new(Mutex::new(())),
            key: parts.key.clone(),
        };
        let sessions = Sessions::new(
            camera.clone(),
            mount.clone(),
            store.clone(),
            dirs.clone(),
            events.clone(),
        )?;
        let publisher = Publisher {
            captures_dir,
            store: parts.store.clone(),
            node: parts.node.clone(),
            db: db.clone(),
            events: events.clone(),
            config: config.publish.clone(),
            topic: parts.topic,
            peer_id: parts.peer_id.clone(),
            gateway_url: parts.gateway_url.clone(),
            wake,
            dirs_dirty: store.dirs_dirty.clone(),
            dirs: dirs.clone(),
            gc_threshold: parts.gc_threshold,
            root_tx: Arc::new(watch::channel(None).0),
            location: Some(config.telescope.location.clone()).filter(|l| !l.is_empty()),
            remote: (!config.pinning_service.endpoint.is_empty()).then(|| {
                pinning_service::PinningService {
                    endpoint: config.pinning_service.endpoint.clone(),
                    token: config.pinning_service.token.clone(),
                }
            }),
        };
        let (stop_publisher, stop_rx) = watch::channel(false);
        let replication_stats = Arc::new(replication::ReplicationStats::default());
        if let Some(node) = &parts.node {
            tokio::spawn(peers::watch_peers(
                node.clone(),
                publisher.topic.clone(),
                db.clone(),
                events.clone(),
                publisher.wake.clone(),
                stop_rx.clone(),
            ));
        }
        if let Some(node) = &parts.node {
            let r = replication::Replicator {
                node: node.clone(),
                me: parts.peer_id.clone(),
                store: parts.store.clone(),
                db: db.clone(),
                events: events.clone(),
                topic: publisher.topic.clone(),
                policy: replication::Policy {
                    enabled: config.replication.enabled,
                    replicas: config.replication.replicas,
                    peers: config.replication.peers.clone(),
                    max_bytes: config::parse_size(&config.replication.max_space)?,
                    max_bytes_per_peer: config::parse_size(&config.replication.max_space_per_peer)?,
                    max_gallery: config.replication.max_gallery as usize,
                    fetch_timeout: std::time::Duration::from_secs(60),
                },
                stats: replication_stats.clone(),
            };
            tokio::spawn(r.run(stop_rx.clone()));
        }
        if let Some(node) = &parts.node {
            tokio::spawn(discovery::discover(
                node.clone(),
                db.clone(),
                publisher.topic.clone(),
                stop_rx.clone(),
            ));
        }
        if let Some(node) = &parts.node {
            tokio::spawn(publisher::name_root(
                dirs.clone(),
                node.clone(),
                publisher.root_tx.subscribe(),
                stop_rx.clone(),
            ));
        }
        if let Some(service) = publisher.remote.clone() {
            tokio::spawn(pinning_service::follow(
                service,
                db.clone(),
                events.clone(),
                stop_rx.clone(),
            ));
        }
        let task = tokio::spawn(publisher.run(stop_rx));
        let settings = camera.settings();
        Ok(Arc::new(App {
            camera_ui: Mutex::new(CameraUiState {
                capture_status: "Ready".into(),
                night_vision_mode: settings.night_vision_active(),
                night_vision_intensity: settings.night_vision_gain.clamp(1.0, 80.0),
                skip_frames: 0,
            }),
            config,
            camera,
            mount,
            db,
            events,
            store,
            dirs,
            sessions,
            node: parts.node,
            blocks: parts.store,
            gateway_url: parts.gateway_url,
            replication: replication_stats,
            stop_publisher,
            publisher_task: Mutex::new(Some(task)),
        }))
    }

    /// Stops the running session and the publish worker (queued jobs stay queued).
    pub async fn shutdown(&self) {
        if self.sessions.is_running() {
            self.sessions.stop().await;
        }
        let _ = self.stop_publisher.send(true);
        let task = self
            .publisher_task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(t) = task {
            let _ = t.await;
        }
        if self.mount.is_tracking() {
            let _ = self.mount.stop_tracking();
        }
    }

    fn set_capture_status(&self, s: String) {
        self.camera_ui
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .capture_status = s;
    }

    /// A single capture into the captures root as `capture_NNNN.jpg` (WANDA's manual capture).
    /// Emits `capture_start` and then `capture_complete` or `capture_error`.
    pub async fn capture_single(&self) -> Result<CaptureRow> {
        if self.sessions.is_running() {
            let msg = "camera busy: a session is capturing; stop it first".to_string();
            self.events
                .emit(NS_CAMERA, "capture_error", json!({ "error": msg }));
            anyhow::bail!(msg);
        }
        self.events.emit(
            NS_CAMERA,
            "capture_start",
            json!({"capture_status": "Capturing", "recording": true}),
        );
        self.set_capture_status("Capturing...".into());
        let ticker = self.capture_progress_ticker();
        let result = self.capture_single_inner().await;
        ticker.abort();
        let _ = ticker.await; // stopped for sure: no progress after the 100 below
        match &result {
            Ok(row) => {
                self.events
                    .emit(NS_CAMERA, "capture_progress", json!({ "progress": 100 }));
                let dir = self
                    .store
                    .captures_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                self.set_capture_status(format!("Image saved as {dir}/{}", row.rel_path));
                self.events.emit(
                    NS_CAMERA,
                    "capture_complete",
                    json!({
                        "capture_status": self.camera_ui.lock().unwrap_or_else(|p| p.into_inner()).capture_status,
                        "recording": false,
                        "filename": row.filename,
                        "path": row.rel_path,
                    }),
                );
            }
            Err(e) => {
                self.set_capture_status(format!("Capture failed: {e:#}"));
                self.events.emit(
                    NS_CAMERA,
                    "capture_error",
                    json!({ "error": format!("{e:#}") }),
                );
            }
        }
        result
    }

    /// Emits `capture_progress {progress}` (0–99, the share of the exposure elapsed) every
    /// [`CAPTURE_PROGRESS_EVERY`] while a single capture runs; WANDA's capture panel shows it
    /// as a bar. 100 is sent when the capture is saved.
    fn capture_progress_ticker(&self) -> tokio::task::JoinHandle<()> {
        let exposure = Duration::from_micros(self.camera.settings().exposure_us.max(1));
        let events = self.events.clone();
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            loop {
                let share = start.elapsed().as_secs_f64() / exposure.as_secs_f64();
                let progress = (share * 100.0).clamp(0.0, 99.0).floor() as u32;
                events.emit(
                    NS_CAMERA,
                    "capture_progress",
                    json!({ "progress": progress }),
                );
                tokio::time::sleep(CAPTURE_PROGRESS_EVERY).await;
            }
        })
    }

    async fn capture_single_inner(&self) -> Result<CaptureRow> {
        let _cam = self.sessions.camera_lock.lock().await;
        let capture = session::capture_with_timeout(self.camera.clone()).await?;
        let store = self.store.clone();
        let saved = tokio::task::spawn_blocking(move || -> Result<_> {
            let name = next_capture_name(&store.captures_dir);
            store.save(&capture, None, &name)
        })
        .await??;
        Ok(saved.jpeg)
    }
}

/// How often `capture_progress` is emitted during a single capture.
pub const CAPTURE_PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// The next free `capture_NNNN.jpg` in `dir`.
pub fn next_capture_name(dir: &Path) -> String {
    let mut max = 0u32;
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let n = e.file_name();
            if let Some(num) = n
                .to_string_lossy()
                .strip_prefix("capture_")
                .and_then(|r| r.split('.').next())
                .and_then(|d| d.parse::<u32>().ok())
            {
                max = max.max(num);
            }
        }
    }
    format!("capture_{:04}.jpg", max + 1)
}
