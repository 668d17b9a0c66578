//! A parsed IPNS record: the protobuf envelope plus its decoded `data` document.

use std::time::{Duration, SystemTime};

use libp2p_identity::PublicKey;

use super::MAX_RECORD_SIZE;
use super::cbor::{RecordData, VALIDITY_EOL};
use super::error::{IpnsError, Result};
use super::protobuf::IpnsEntry;
use super::time::parse_rfc3339;

/// Prefix of the bytes covered by `signatureV2`.
pub const SIGNATURE_V2_PREFIX: &[u8] = b"ipns-signature:";

/// An IPNS record whose envelope and `data` document parsed, but which is not
/// necessarily valid: use [`super::validate()`] before trusting it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpnsRecord {
    entry: IpnsEntry,
    data: RecordData,
}

impl IpnsRecord {
    /// Parses a serialized record (at most [`MAX_RECORD_SIZE`] bytes) that has a
    /// DAG-CBOR `data` field. Signatures are not checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        check_size(bytes.len())?;
        Self::from_entry(IpnsEntry::decode(bytes)?)
    }

    /// Wraps a decoded envelope, decoding its `data` document.
    pub fn from_entry(entry: IpnsEntry) -> Result<Self> {
        let data = match entry.data.as_deref() {
            Some(d) if !d.is_empty() => RecordData::decode(d)?,
            _ => return Err(IpnsError::MissingData),
        };
        Ok(IpnsRecord { entry, data })
    }

    /// Serializes the record to its protobuf wire form.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.entry.encode()
    }

    /// The protobuf envelope.
    pub fn entry(&self) -> &IpnsEntry {
        &self.entry
    }

    /// The decoded `data` document (the signed fields).
    pub fn data(&self) -> &RecordData {
        &self.data
    }

    /// The signed `Value` as a string (a content path such as `/ipfs/bafy…`).
    pub fn value(&self) -> Result<&str> {
        std::str::from_utf8(&self.data.value).map_err(|_| IpnsError::InvalidValue)
    }

    /// The signed `Sequence` number.
    pub fn sequence(&self) -> u64 {
        self.data.sequence
    }

    /// The signed EOL; fails for validity types other than EOL or bad timestamps.
    pub fn validity(&self) -> Result<SystemTime> {
        if self.data.validity_type != VALIDITY_EOL {
            return Err(IpnsError::UnsupportedValidityType(self.data.validity_type));
        }
        let s = std::str::from_utf8(&self.data.validity)
            .map_err(|_| IpnsError::InvalidValidity("not UTF-8".into()))?;
        parse_rfc3339(s)
    }

    /// The signed `TTL` (how long resolvers may cache the record), if present.
    pub fn ttl(&self) -> Option<Duration> {
        self.data.ttl.map(Duration::from_nanos)
    }

    /// The public key embedded in the `pubKey` field, if any.
    pub fn embedded_public_key(&self) -> Result<Option<PublicKey>> {
        match self.entry.pub_key.as_deref() {
            None | Some([]) => Ok(None),
            Some(pk) => PublicKey::try_decode_protobuf(pk)
                .map(Some)
                .map_err(|e| IpnsError::InvalidPublicKey(e.to_string())),
        }
    }

    /// Checks `signatureV2` against `key`.
    pub fn verify_signature_v2(&self, key: &PublicKey) -> bool {
        match (&self.entry.signature_v2, &self.entry.data) {
            (Some(sig), Some(data)) => key.verify(&signature_v2_payload(data), sig),
            _ => false,
        }
    }

    /// Checks the legacy `signatureV1` against `key`.
    ///
    /// For diagnostics only: the spec forbids using V1 signatures to accept a record.
    pub fn verify_signature_v1(&self, key: &PublicKey) -> bool {
        match &self.entry.signature_v1 {
            Some(sig) => key.verify(&signature_v1_payload(&self.entry), sig),
            None => false,
        }
    }
}

/// Fails with [`IpnsError::TooLarge`] when `size` exceeds [`MAX_RECORD_SIZE`].
pub(crate) fn check_size(size: usize) -> Result<()> {
    if size > MAX_RECORD_SIZE {
        return Err(IpnsError::TooLarge {
            size,
            max: MAX_RECORD_SIZE,
        });
    }
    Ok(())
}

/// Bytes covered by `signatureV2`: `"ipns-signature:" ‖ data`.
pub(crate) fn signature_v2_payload(data: &[u8]) -> Vec<u8> {
    [SIGNATURE_V2_PREFIX, data].concat()
}

/// Bytes covered by the legacy `signatureV1`: `value ‖ validity ‖ type-name`,
/// where the type name is the protobuf enum's Go string form (`"EOL"`).
pub(crate) fn signature_v1_payload(entry: &IpnsEntry) -> Vec<u8> {
    let ty = match entry.validity_type.unwrap_or(VALIDITY_EOL) {
        VALIDITY_EOL => "EOL".to_owned(),
        other => other.to_string(),
    };
    [
        entry.value.as_deref().unwrap_or_default(),
        entry.validity.as_deref().unwrap_or_default(),
        ty.as_bytes(),
    ]
    .concat()
}
