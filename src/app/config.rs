//! The app's sections of `config.toml`: camera, mount, captures and publishing policy. They sit
//! next to the node's sections (`addresses`, `network`, `storage`, …) and are edited with the
//! same `wanda config KEY VALUE`.

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};

/// Which camera to open and how the simulator looks.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CameraConfig {
    /// `auto` (CSI, then USB, then the simulator), `csi`, `usb` or `sim`.
    pub driver: String,
    /// Star-field seed of the simulator.
    pub sim_seed: u64,
    /// Simulator width in pixels (4056 = the Pi HQ camera's 12 MP).
    pub sim_width: u32,
    /// Simulator height in pixels.
    pub sim_height: u32,
}

impl Default for CameraConfig {
    fn default() -> Self {
        Self {
            driver: "auto".into(),
            sim_seed: 1,
            sim_width: 4056,
            sim_height: 3040,
        }
    }
}

/// Which mount to drive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MountConfig {
    /// `sim`, or `gpio` (a stepper on the Pi's GPIO; needs the `gpio` build feature).
    pub driver: String,
    /// GPIO chip for the `gpio` driver.
    pub gpio_chip: String,
    /// The four coil pins (BCM numbers) for the `gpio` driver.
    pub gpio_pins: Vec<u32>,
    /// Full steps per motor turn (2048 for a 28BYJ-48, 200 for a 1.8° NEMA motor).
    pub motor_full_steps_per_rev: f64,
    /// Microsteps per full step (2 = half-step sequence, 1 = full-step).
    pub microsteps: u32,
    /// Gear ratio between the motor and the RA axis.
    pub gear_ratio: f64,
}

impl Default for MountConfig {
    fn default() -> Self {
        Self {
            driver: "sim".into(),
            gpio_chip: "/dev/gpiochip0".into(),
            gpio_pins: vec![17, 18, 27, 22],
            motor_full_steps_per_rev: 2048.0,
            microsteps: 2,
            gear_ratio: 1.0,
        }
    }
}

/// Where captures go on disk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CapturesConfig {
    /// Directory of captures; relative paths are inside the repo.
    pub dir: String,
    /// Longest side of thumbnails in pixels.
    pub thumbnail_px: u32,
    /// Free space the disk must keep: a capture that would leave less is refused.
    pub min_free_space: String,
}

impl Default for CapturesConfig {
    fn default() -> Self {
        Self {
            dir: "captures".into(),
            thumbnail_px: 320,
            min_free_space: "256MB".into(),
        }
    }
}

/// What happens to a capture after it is saved.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PublishConfig {
    /// Add captures to IPFS at all (`false`: local files only).
    pub enabled: bool,
    /// Pin what is added (else GC may remove it once it is announced).
    pub auto_pin: bool,
    /// Keep only the last N published captures as local files (0 = keep all); older ones stay
    /// in IPFS only.
    pub keep_last_local: u32,
    /// Longest retry delay of a failed publish step, seconds.
    pub max_retry_delay_s: u64,
}

impl Default for PublishConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            auto_pin: true,
            keep_last_local: 0,
            max_retry_delay_s: 30,
        }
    }
}

/// Replicating peers' captures (`pin_remote`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ReplicationConfig {
    /// Pin captures announced by WANDA peers.
    pub enabled: bool,
    /// Copies wanted in the network besides the telescope that took them.
    pub replicas: u32,
    /// Only these peers' captures (peer ids; empty = every WANDA peer).
    pub peers: Vec<String>,
    /// Stop replicating once the store holds this much.
    pub max_space: String,
    /// Bytes of one telescope's captures held here at most.
    pub max_space_per_peer: String,
    /// Captures announced by peers kept in the network gallery (oldest dropped first).
    pub max_gallery: u32,
}

impl Default for ReplicationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            replicas: 2,
            peers: vec![],
            max_space: "5GB".into(),
            max_space_per_peer: "1GB".into(),
            max_gallery: 10_000,
        }
    }
}

/// This telescope, as peers see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TelescopeConfig {
    /// Where it is (free text, e.g. "La Plata, AR"), sent with announcements; empty = not said.
    pub location: String,
}

/// A remote IPFS Pinning Service (spec: ipfs/pinning-services-api-spec; ipfs-cluster serves it
/// too) that keeps a copy of every capture.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields, default)]
pub struct PinningServiceConfig {
    /// Base URL (`{endpoint}/pins`); empty = no service.
    pub endpoint: String,
    /// Bearer token.
    pub token: String,
}

/// The gateway on the main listener.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// Visitors (anyone but the owner and requests from this host) are answered from the
    /// local store only: no Bitswap fetch, no DHT name lookup (Kubo's `Gateway.NoFetch`,
    /// for visitors). The owner may always fetch.
    pub no_fetch: bool,
    /// How long a gateway request waits for the next block from the network before it gives
    /// up (504; Kubo's `Gateway.RetrievalTimeout`).
    pub retrieval_timeout: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            no_fetch: true,
            retrieval_timeout: "30s".into(),
        }
    }
}

/// Limits of both HTTP listeners, and the web UI's login.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Requests in flight at once (429 beyond).
    pub max_requests: u32,
    /// Requests in flight at once from one client address (429 beyond).
    pub max_requests_per_client: u32,
    /// Visitors watching `/video_feed` at once (the owner gets two more).
    pub max_video_viewers: u32,
    /// How long a web UI login lasts.
    pub login_lifetime: String,
    /// A request's headers must arrive within this time (also how long an idle keep-alive
    /// connection stays open).
    pub header_timeout: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            max_requests: 256,
            max_requests_per_client: 32,
            max_video_viewers: 4,
            login_lifetime: "30d".into(),
            header_timeout: "15s".into(),
        }
    }
}

impl HttpConfig {
    /// `header_timeout` parsed.
    pub fn header_timeout(&self) -> std::time::Duration {
        wanda_node::repo::config::parse_duration(&self.header_timeout)
            .unwrap_or(std::time::Duration::from_secs(15))
    }

    /// `login_lifetime` parsed.
    pub fn login_lifetime(&self) -> std::time::Duration {
        wanda_node::repo::config::parse_duration(&self.login_lifetime)
            .unwrap_or(std::time::Duration::from_secs(30 * 86400))
    }
}

impl GatewayConfig {
    /// `retrieval_timeout` parsed.
    pub fn retrieval_timeout(&self) -> std::time::Duration {
        wanda_node::repo::config::parse_duration(&self.retrieval_timeout)
            .unwrap_or(std::time::Duration::from_secs(30))
    }
}

/// The app's part of the config file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(default)]
pub struct AppConfig {
    /// Camera.
    pub camera: CameraConfig,
    /// Mount.
    pub mount: MountConfig,
    /// Captures on disk.
    pub captures: CapturesConfig,
    /// Publishing policy.
    pub publish: PublishConfig,
    /// Replication of peers' captures.
    pub replication: ReplicationConfig,
    /// Remote pinning service.
    pub pinning_service: PinningServiceConfig,
    /// This telescope.
    pub telescope: TelescopeConfig,
    /// The gateway on the main listener.
    pub gateway: GatewayConfig,
    /// HTTP limits and the UI's login.
    pub http: HttpConfig,
}

/// The sections the app adds to a config document.
const SECTIONS: [&str; 9] = [
    "gateway",
    "http",
    "telescope",
    "camera",
    "mount",
    "captures",
    "publish",
    "replication",
    "pinning_service",
];

impl AppConfig {
    /// The app's defaults as TOML sections (written by `wanda init`, known to `wanda config`).
    pub fn default_sections() -> toml::Table {
        toml::Table::try_from(AppConfig::default()).expect("app defaults serialize")
    }

    /// Reads the app's sections from a config document (missing ones take defaults).
    pub fn from_doc(doc: &toml::Table) -> Result<Self> {
        let mut mine = toml::Table::new();
        for s in SECTIONS {
            if let Some(v) = doc.get(s) {
                mine.insert(s.into(), v.clone());
            }
        }
        let cfg: AppConfig = mine
            .try_into()
            .map_err(|e: toml::de::Error| anyhow::anyhow!("config.toml: {}", e.message()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Semantic checks; errors name the key.
    pub fn validate(&self) -> Result<()> {
        if !["auto", "csi", "usb", "sim"].contains(&self.camera.driver.as_str()) {
            bail!(
                "camera.driver: {:?} is not one of auto, csi, usb, sim",
                self.camera.driver
            );
        }
        if self.camera.sim_width == 0
            || self.camera.sim_height == 0
            || self.camera.sim_width > 8192
            || self.camera.sim_height > 8192
        {
            bail!("camera.sim_width/sim_height: must be 1..=8192");
        }
        if !["sim", "gpio"].contains(&self.mount.driver.as_str()) {
            bail!(
                "mount.driver: {:?} is not one of sim, gpio",
                self.mount.driver
            );
        }
        if self.mount.gpio_pins.len() != 4 {
            bail!("mount.gpio_pins: a stepper needs exactly 4 coil pins");
        }
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !positive(self.mount.motor_full_steps_per_rev)
            || self.mount.microsteps == 0
            || !positive(self.mount.gear_ratio)
        {
            bail!(
                "mount.motor_full_steps_per_rev, mount.microsteps, mount.gear_ratio: must be > 0"
            );
        }
        if self.captures.dir.is_empty() {
            bail!("captures.dir: must not be empty");
        }
        if !(16..=2048).contains(&self.captures.thumbnail_px) {
            bail!("captures.thumbnail_px: must be 16..=2048");
        }
        parse_size(&self.captures.min_free_space)
            .map_err(|e| anyhow::anyhow!("captures.min_free_space: {e}"))?;
        parse_size(&self.replication.max_space)
            .map_err(|e| anyhow::anyhow!("replication.max_space: {e}"))?;
        parse_size(&self.replication.max_space_per_peer)
            .map_err(|e| anyhow::anyhow!("replication.max_space_per_peer: {e}"))?;
        if !(10..=1_000_000).contains(&self.replication.max_gallery) {
            bail!("replication.max_gallery: must be 10..=1000000");
        }
        for p in &self.replication.peers {
            p.parse::<libp2p::PeerId>()
                .map_err(|e| anyhow::anyhow!("replication.peers: {p:?} is not a peer id ({e})"))?;
        }
        let ep = &self.pinning_service.endpoint;
        if !(ep.is_empty() || ep.starts_with("http://") || ep.starts_with("https://")) {
            bail!("pinning_service.endpoint: {ep:?} must be an http:// or https:// URL");
        }
        if self.publish.max_retry_delay_s == 0 {
            bail!("publish.max_retry_delay_s: must be at least 1");
        }
        let duration = |key: &str, v: &str, min: u64, max: u64| {
            match wanda_node::repo::config::parse_duration(v) {
                Some(d) if (min..=max).contains(&d.as_secs()) => Ok(()),
                _ => Err(anyhow::anyhow!(
                    "{key}: {v:?} is not a duration between {min} s and {max} s (e.g. 30s, 10m, 30d)"
                )),
            }
        };
        duration(
            "gateway.retrieval_timeout",
            &self.gateway.retrieval_timeout,
            1,
            3600,
        )?;
        duration(
            "http.login_lifetime",
            &self.http.login_lifetime,
            60,
            400 * 86400,
        )?;
        if self.http.max_requests == 0 || self.http.max_requests_per_client == 0 {
            bail!("http.max_requests, http.max_requests_per_client: must be at least 1");
        }
        Ok(())
    }
}

/// Parses sizes like `10GB`, `256MB`, `512KiB` (the node's parser, as for `storage.max_storage`).
pub fn parse_size(s: &str) -> Result<u64> {
    wanda_node::repo::config::parse_size(s).map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_and_validate() {
        let doc = AppConfig::default_sections();
        let cfg = AppConfig::from_doc(&doc).unwrap();
        assert_eq!(cfg, AppConfig::default());
    }

    #[test]
    fn bad_values_name_the_key() {
        let mut doc = AppConfig::default_sections();
        doc["camera"]["driver"] = toml::Value::String("webcam".into());
        let e = AppConfig::from_doc(&doc).unwrap_err().to_string();
        assert!(e.contains("camera.driver"), "{e}");
        let mut doc = AppConfig::default_sections();
        doc["captures"]["min_free_space"] = toml::Value::String("lots".into());
        let e = AppConfig::from_doc(&doc).unwrap_err().to_string();
        assert!(e.contains("captures.min_free_space"), "{e}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("256MB").unwrap(), 256_000_000);
        assert!(parse_size("ten").is_err());
    }
}
