//! Creating and signing IPNS records the way boxo/Kubo do (V1+V2, EOL validity).

use std::time::{Duration, SystemTime};

use libp2p_identity::Keypair;

use super::cbor::{RecordData, VALIDITY_EOL};
use super::error::{IpnsError, Result};
use super::protobuf::IpnsEntry;
use super::record::{IpnsRecord, check_size, signature_v1_payload, signature_v2_payload};
use super::time::format_rfc3339;

/// Multihash code of `identity`, used by peer IDs that inline their key.
const IDENTITY_MULTIHASH: u64 = 0x00;

/// Creates a signed IPNS record pointing at `value` (e.g. `/ipfs/bafy…`).
///
/// Like boxo's default, the record carries the signed DAG-CBOR `data` with a V2
/// signature plus the legacy V1 copies and V1 signature, so old resolvers can
/// still read it. The public key is embedded only when the peer ID cannot
/// inline it (RSA). `sequence` and `ttl` (in nanoseconds) must fit an `i64`, as
/// Go implementations store them that way; `validity_eol` must lie within years
/// 0000–9999.
pub fn create_record(
    keypair: &Keypair,
    value: &str,
    sequence: u64,
    validity_eol: SystemTime,
    ttl: Duration,
) -> Result<IpnsRecord> {
    if i64::try_from(sequence).is_err() {
        return Err(IpnsError::OutOfRange("sequence"));
    }
    let ttl_ns = u64::try_from(ttl.as_nanos())
        .ok()
        .filter(|n| i64::try_from(*n).is_ok())
        .ok_or(IpnsError::OutOfRange("ttl"))?;
    let validity = format_rfc3339(validity_eol)?.into_bytes();

    let data = RecordData {
        value: value.as_bytes().to_vec(),
        validity: validity.clone(),
        validity_type: VALIDITY_EOL,
        sequence,
        ttl: Some(ttl_ns),
    }
    .encode();
    let sign = |msg: &[u8]| {
        keypair
            .sign(msg)
            .map_err(|e| IpnsError::Signing(e.to_string()))
    };

    let public = keypair.public();
    let inlined = public.to_peer_id().as_ref().code() == IDENTITY_MULTIHASH;
    let mut entry = IpnsEntry {
        value: Some(value.as_bytes().to_vec()),
        validity_type: Some(VALIDITY_EOL),
        validity: Some(validity),
        sequence: Some(sequence),
        ttl: Some(ttl_ns),
        pub_key: (!inlined).then(|| public.encode_protobuf()),
        signature_v2: Some(sign(&signature_v2_payload(&data))?),
        data: Some(data),
        signature_v1: None,
    };
    entry.signature_v1 = Some(sign(&signature_v1_payload(&entry))?);

    check_size(entry.encode().len())?;
    IpnsRecord::from_entry(entry)
}
