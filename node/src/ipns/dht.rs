//! The DHT record validator: what an inbound `PutRecord` (or a `GetRecord` answer) must pass
//! before it is stored or believed. rust-libp2p's Kademlia validates nothing itself.

use std::cmp::Ordering;
use std::time::SystemTime;

use super::error::IpnsError;
use super::name::{IPNS_PREFIX, IpnsName};
use super::validate::{ValidatedRecord, compare, validate};

/// Why a DHT record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DhtRecordError {
    /// The key's namespace (`/pk/`, `/foo/`, …) has no validator here.
    #[error("no validator for DHT key namespace {0:?}")]
    NoValidator(String),
    /// The IPNS record is malformed, badly signed, for another name, or expired.
    #[error(transparent)]
    Invalid(#[from] IpnsError),
    /// The legacy `signatureV1` is present but does not verify.
    #[error("IPNS record signatureV1 is present but does not verify")]
    BadSignatureV1,
    /// A better (higher sequence) record for the name is already stored.
    #[error("IPNS record (sequence {offered}) is older than the stored one (sequence {stored})")]
    Older {
        /// Sequence of the offered record.
        offered: u64,
        /// Sequence of the record we keep.
        stored: u64,
    },
}

/// Checks a DHT record (`key`, `value`) at time `now`, against the record already `stored` under
/// that key, if any. Only `/ipns/` keys are accepted: the value must be a valid record of the
/// name in the key (V2 signature, V1 signature too when present, not expired), and not worse
/// than the stored one ([`compare`]: higher sequence wins; an equal record is accepted).
pub fn check_dht_record(
    key: &[u8],
    value: &[u8],
    stored: Option<&[u8]>,
    now: SystemTime,
) -> Result<ValidatedRecord, DhtRecordError> {
    if !key.starts_with(IPNS_PREFIX.as_bytes()) {
        let ns = key
            .iter()
            .skip(1)
            .position(|b| *b == b'/')
            .map(|i| &key[..i + 2])
            .unwrap_or(key);
        return Err(DhtRecordError::NoValidator(
            String::from_utf8_lossy(ns).into_owned(),
        ));
    }
    let name = IpnsName::from_routing_key(key)?;
    let offered = validate(value, &name, now)?;
    let has_v1 = !offered
        .record
        .entry()
        .signature_v1
        .as_deref()
        .unwrap_or_default()
        .is_empty();
    if has_v1 && !offered.record.verify_signature_v1(&offered.public_key) {
        return Err(DhtRecordError::BadSignatureV1);
    }
    // A stored record that no longer validates (e.g. expired) does not block a new one.
    if let Some(old) = stored.and_then(|s| validate(s, &name, now).ok())
        && compare(&offered.record, &old.record) == Ordering::Less
    {
        return Err(DhtRecordError::Older {
            offered: offered.sequence,
            stored: old.sequence,
        });
    }
    Ok(offered)
}
