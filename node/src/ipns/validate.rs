//! Record verification (spec "Record Verification") and DHT record selection.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use libp2p_identity::PublicKey;

use super::error::{IpnsError, Result};
use super::name::IpnsName;
use super::protobuf::IpnsEntry;
use super::record::{IpnsRecord, check_size};

/// A record that passed [`validate`], with its signed fields extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedRecord {
    /// The parsed record, e.g. for re-serving or republishing its bytes.
    pub record: IpnsRecord,
    /// The signed content path. Only UTF-8 is checked; path syntax is the resolver's job.
    pub value: String,
    /// The signed sequence number.
    pub sequence: u64,
    /// The signed end of life.
    pub validity: SystemTime,
    /// The signed cache TTL, when the record carries one.
    pub ttl: Option<Duration>,
    /// The key that signed the record.
    pub public_key: PublicKey,
}

/// Verifies serialized `record_bytes` as a record of `name`, at time `now`.
///
/// Follows the spec in order: size limit; `signatureV2` and `data` present;
/// public key from `pubKey` (which must hash to `name`) or inlined in `name`;
/// `signatureV2` over `"ipns-signature:" ‖ data`; if `signatureV1` or `value`
/// is present, every legacy protobuf field must equal its signed `data` twin;
/// EOL validity not before `now`. `signatureV1` is never consulted.
pub fn validate(record_bytes: &[u8], name: &IpnsName, now: SystemTime) -> Result<ValidatedRecord> {
    check_size(record_bytes.len())?;
    let entry = IpnsEntry::decode(record_bytes)?;
    if entry.signature_v2.as_deref().unwrap_or_default().is_empty() {
        return Err(IpnsError::MissingSignatureV2);
    }
    if entry.data.as_deref().unwrap_or_default().is_empty() {
        return Err(IpnsError::MissingData);
    }
    let record = IpnsRecord::from_entry(entry)?;
    let public_key = extract_public_key(&record, name)?;
    if !record.verify_signature_v2(&public_key) {
        return Err(IpnsError::BadSignature);
    }
    let entry = record.entry();
    let has_v1 = !entry.signature_v1.as_deref().unwrap_or_default().is_empty()
        || !entry.value.as_deref().unwrap_or_default().is_empty();
    if has_v1 {
        check_v1_fields_match(&record)?;
    }
    let validity = record.validity()?;
    if now > validity {
        return Err(IpnsError::Expired);
    }
    Ok(ValidatedRecord {
        value: record.value()?.to_owned(),
        sequence: record.sequence(),
        validity,
        ttl: record.ttl(),
        public_key,
        record,
    })
}

/// The key that must have signed `record` for `name`: the embedded `pubKey`
/// (checked to hash to `name`), else the key inlined in `name`.
pub fn extract_public_key(record: &IpnsRecord, name: &IpnsName) -> Result<PublicKey> {
    if let Some(pk) = record.embedded_public_key()? {
        if IpnsName::from_public_key(&pk) != *name {
            return Err(IpnsError::PublicKeyMismatch);
        }
        return Ok(pk);
    }
    name.inline_public_key()?
        .ok_or(IpnsError::PublicKeyNotFound)
}

/// Legacy fields (absent = protobuf default) must equal the signed document.
fn check_v1_fields_match(record: &IpnsRecord) -> Result<()> {
    let (e, d) = (record.entry(), record.data());
    if e.value.as_deref().unwrap_or_default() != d.value.as_slice() {
        return Err(IpnsError::FieldMismatch("Value"));
    }
    if e.validity.as_deref().unwrap_or_default() != d.validity.as_slice() {
        return Err(IpnsError::FieldMismatch("Validity"));
    }
    if e.validity_type.unwrap_or_default() != d.validity_type {
        return Err(IpnsError::FieldMismatch("ValidityType"));
    }
    if e.sequence.unwrap_or_default() != d.sequence {
        return Err(IpnsError::FieldMismatch("Sequence"));
    }
    if Some(e.ttl.unwrap_or_default()) != d.ttl {
        return Err(IpnsError::FieldMismatch("TTL"));
    }
    Ok(())
}

/// Orders two records of the same name from older to newer, as boxo does:
/// a V2 signature beats none, then higher sequence, then later validity, and
/// finally the serialized bytes, so the order is total and deterministic.
///
/// Does not validate; callers should only compare records that passed [`validate()`].
pub fn compare(a: &IpnsRecord, b: &IpnsRecord) -> Ordering {
    let has_v2 = |r: &IpnsRecord| {
        !r.entry()
            .signature_v2
            .as_deref()
            .unwrap_or_default()
            .is_empty()
    };
    has_v2(a)
        .cmp(&has_v2(b))
        .then(a.sequence().cmp(&b.sequence()))
        .then_with(|| a.validity().ok().cmp(&b.validity().ok()))
        .then_with(|| a.to_bytes().cmp(&b.to_bytes()))
}

/// Picks the better of two records for DHT selection (see [`compare`]);
/// `a` wins ties.
pub fn better<'r>(a: &'r IpnsRecord, b: &'r IpnsRecord) -> &'r IpnsRecord {
    if compare(a, b) == Ordering::Less {
        b
    } else {
        a
    }
}
