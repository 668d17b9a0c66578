//! A client of the IPFS Pinning Service API (ipfs/pinning-services-api-spec): asks a remote
//! service (a pinning provider, or ipfs-cluster's pinsvc endpoint) to keep a copy of each
//! capture, and follows the request until it is `pinned` or `failed`. Blocking (ureq): call
//! from `spawn_blocking`.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The `peer_id` of the service's PIN_STATUS rows.
pub const SERVICE_PEER: &str = "pinning-service";

/// How often unfinished remote pins are checked.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(10);

/// Follows PIN_STATUS rows of the service that are `queued` or `pinning` until they are
/// `pinned` or `failed`; runs until `stop`.
pub async fn follow(
    service: PinningService,
    db: super::metadata::MetadataDb,
    events: super::events::EventBus,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(FOLLOW_EVERY) => {}
            _ = stop.changed() => return,
        }
        let Ok(caps) = db.captures() else { continue };
        for cid in caps.iter().filter_map(|c| c.cid.clone()) {
            let open = db
                .pin_statuses(&cid)
                .unwrap_or_default()
                .into_iter()
                .any(|r| {
                    r.peer_id == SERVICE_PEER && (r.status == "queued" || r.status == "pinning")
                });
            if !open {
                continue;
            }
            let s = service.clone();
            let c = cid.clone();
            let Ok(Ok(Some(st))) = tokio::task::spawn_blocking(move || s.find(&c)).await else {
                continue;
            };
            let _ = db.put_pin_status(&super::rows::PinStatusRow {
                cid: cid.clone(),
                peer_id: SERVICE_PEER.into(),
                status: st.status.clone(),
                updated_ms: super::rows::now_ms(),
            });
            events.emit(
                super::events::NS_IPFS,
                "remote_pin_status",
                serde_json::json!({ "cid": cid, "status": st.status, "requestid": st.requestid }),
            );
        }
    }
}

/// Where and how to reach the service.
#[derive(Debug, Clone)]
pub struct PinningService {
    /// Base URL, e.g. `https://api.example.com/psa` (requests go to `{endpoint}/pins`).
    pub endpoint: String,
    /// Bearer token.
    pub token: String,
}

/// A pin object of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pin {
    /// CID to pin.
    pub cid: String,
    /// Optional name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Multiaddrs the service may fetch from (ours).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origins: Vec<String>,
}

/// A pin status of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PinStatus {
    /// The service's id of the request.
    pub requestid: String,
    /// `queued`, `pinning`, `pinned` or `failed`.
    pub status: String,
    /// The pin.
    pub pin: Pin,
    /// The service's own multiaddrs (to connect to).
    #[serde(default)]
    pub delegates: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct PinResults {
    #[serde(default)]
    results: Vec<PinStatus>,
}

impl PinningService {
    fn agent() -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.endpoint.trim_end_matches('/'))
    }

    fn check(status: u16, body: &str, what: &str) -> Result<()> {
        match status {
            200..=299 => Ok(()),
            401 => bail!("pinning service refused the token (401) on {what}"),
            s => {
                let reason = serde_json::from_str::<serde_json::Value>(body)
                    .ok()
                    .and_then(|v| v["error"]["reason"].as_str().map(str::to_string))
                    .unwrap_or_else(|| body.chars().take(200).collect());
                bail!("pinning service answered {s} on {what}: {reason}")
            }
        }
    }

    /// The service's newest request for `cid`, if any.
    pub fn find(&self, cid: &str) -> Result<Option<PinStatus>> {
        let mut r = Self::agent()
            .get(&self.url("/pins"))
            .query("cid", cid)
            .query("status", "queued,pinning,pinned,failed")
            .header("Authorization", &format!("Bearer {}", self.token))
            .call()
            .context("pinning service unreachable")?;
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        Self::check(status, &body, "GET /pins")?;
        let list: PinResults = serde_json::from_str(&body).context("pinning service: bad JSON")?;
        Ok(list.results.into_iter().next())
    }

    /// Requests a pin.
    pub fn add(&self, pin: &Pin) -> Result<PinStatus> {
        let mut r = Self::agent()
            .post(&self.url("/pins"))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Content-Type", "application/json")
            .send(serde_json::to_string(pin)?)
            .context("pinning service unreachable")?;
        let status = r.status().as_u16();
        let body = r.body_mut().read_to_string().unwrap_or_default();
        Self::check(status, &body, "POST /pins")?;
        serde_json::from_str(&body).context("pinning service: bad JSON")
    }

    /// Makes sure `pin` is requested once and returns its current status (asks for it only if
    /// the service has no request for the CID yet, so retries never duplicate it).
    pub fn ensure(&self, pin: &Pin) -> Result<PinStatus> {
        match self.find(&pin.cid)? {
            Some(s) => Ok(s),
            None => self.add(pin),
        }
    }
}
