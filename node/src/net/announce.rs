//! The versioned capture announcement published on the gossipsub topic (`/wanda-telescope`).

use serde::{Deserialize, Serialize};

/// Current announcement format version.
pub const ANNOUNCEMENT_VERSION: u32 = 1;

/// "A telescope captured something": what peers need to fetch and replicate it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptureAnnouncement {
    /// Format version ([`ANNOUNCEMENT_VERSION`]).
    pub version: u32,
    /// CID of the capture (UnixFS file).
    pub cid: String,
    /// Peer id of the announcing node.
    pub node: String,
    /// Session name (empty for single captures).
    pub session: String,
    /// Capture time, Unix milliseconds.
    pub timestamp_ms: u64,
    /// Size in bytes.
    pub size: u64,
    /// What it is: `jpeg`, `dng`, `metadata`, `session`.
    pub kind: String,
    /// Where the telescope is (free text from its config), if it says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl CaptureAnnouncement {
    /// Encodes as JSON bytes (the wire format).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("announcement serializes")
    }

    /// Decodes and checks the version; unknown newer versions are refused.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let a: CaptureAnnouncement =
            serde_json::from_slice(bytes).map_err(|e| format!("not an announcement: {e}"))?;
        if a.version == 0 || a.version > ANNOUNCEMENT_VERSION {
            return Err(format!("unsupported announcement version {}", a.version));
        }
        crate::error::parse_cid(&a.cid).map_err(|e| e.to_string())?;
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_version_check() {
        let a = CaptureAnnouncement {
            version: 1,
            cid: "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH".into(),
            node: "12D3KooW".into(),
            session: "m31".into(),
            timestamp_ms: 1,
            size: 0,
            kind: "jpeg".into(),
            location: None,
        };
        assert_eq!(CaptureAnnouncement::from_bytes(&a.to_bytes()).unwrap(), a);
        let mut b = a.clone();
        b.version = 2;
        assert!(CaptureAnnouncement::from_bytes(&b.to_bytes()).is_err());
        b.version = 1;
        b.cid = "nope".into();
        assert!(CaptureAnnouncement::from_bytes(&b.to_bytes()).is_err());
        assert!(CaptureAnnouncement::from_bytes(b"{}").is_err());
        // `location` is optional both ways: older peers omit it, newer ones may send it
        let mut c = a.clone();
        c.location = Some("La Plata".into());
        assert_eq!(CaptureAnnouncement::from_bytes(&c.to_bytes()).unwrap(), c);
        assert!(
            !String::from_utf8(a.to_bytes())
                .unwrap()
                .contains("location")
        );
    }
}
