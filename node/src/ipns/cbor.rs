//! The signed DAG-CBOR `data` document of an IPNS record.
//!
//! Encoding is done by hand so the bytes match boxo exactly: a five-entry map
//! with keys in DAG-CBOR order (length first, then bytewise):
//! `TTL`, `Value`, `Sequence`, `Validity`, `ValidityType`.

use ipld_core::ipld::Ipld;

use super::error::{IpnsError, Result};

/// Validity type 0: the record is valid until the `Validity` timestamp.
pub const VALIDITY_EOL: u64 = 0;

/// The fields of the `data` document that IPNS defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordData {
    /// `Value`: the content path, as bytes.
    pub value: Vec<u8>,
    /// `Validity`: RFC 3339 EOL timestamp, as bytes.
    pub validity: Vec<u8>,
    /// `ValidityType`: 0 (EOL) is the only defined type.
    pub validity_type: u64,
    /// `Sequence`: version number of the record.
    pub sequence: u64,
    /// `TTL` in nanoseconds; optional in V2-only records from some producers.
    pub ttl: Option<u64>,
}

const MAJOR_UINT: u8 = 0;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_MAP: u8 = 5;

impl RecordData {
    /// Encodes the document as canonical DAG-CBOR, byte-for-byte as boxo does.
    pub fn encode(&self) -> Vec<u8> {
        let entries = if self.ttl.is_some() { 5 } else { 4 };
        let mut out = Vec::with_capacity(64 + self.value.len() + self.validity.len());
        head(&mut out, MAJOR_MAP, entries);
        if let Some(ttl) = self.ttl {
            text(&mut out, "TTL");
            head(&mut out, MAJOR_UINT, ttl);
        }
        text(&mut out, "Value");
        bytes(&mut out, &self.value);
        text(&mut out, "Sequence");
        head(&mut out, MAJOR_UINT, self.sequence);
        text(&mut out, "Validity");
        bytes(&mut out, &self.validity);
        text(&mut out, "ValidityType");
        head(&mut out, MAJOR_UINT, self.validity_type);
        out
    }

    /// Decodes a DAG-CBOR map, requiring `Value`, `Validity`, `ValidityType` and
    /// `Sequence` with the right kinds; other keys are allowed and ignored.
    pub fn decode(data: &[u8]) -> Result<Self> {
        let doc: Ipld = serde_ipld_dagcbor::from_slice(data)
            .map_err(|e| IpnsError::Data(format!("not DAG-CBOR: {e}")))?;
        let Ipld::Map(map) = doc else {
            return Err(IpnsError::Data("document is not a map".into()));
        };
        let get_bytes = |key: &'static str| match map.get(key) {
            Some(Ipld::Bytes(b)) => Ok(b.clone()),
            Some(_) => Err(IpnsError::Data(format!("{key} is not bytes"))),
            None => Err(IpnsError::Data(format!("{key} missing"))),
        };
        let get_uint = |key: &'static str| match map.get(key) {
            Some(Ipld::Integer(i)) => u64::try_from(*i)
                .map(Some)
                .map_err(|_| IpnsError::Data(format!("{key} out of range"))),
            Some(_) => Err(IpnsError::Data(format!("{key} is not an integer"))),
            None => Ok(None),
        };
        let required = |key: &'static str| {
            get_uint(key)?.ok_or_else(|| IpnsError::Data(format!("{key} missing")))
        };
        Ok(RecordData {
            value: get_bytes("Value")?,
            validity: get_bytes("Validity")?,
            validity_type: required("ValidityType")?,
            sequence: required("Sequence")?,
            ttl: get_uint("TTL")?,
        })
    }
}

fn head(out: &mut Vec<u8>, major: u8, v: u64) {
    let m = major << 5;
    match v {
        0..=23 => out.push(m | v as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, v as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(v as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(v as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    head(out, MAJOR_TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, MAJOR_BYTES, b.len() as u64);
    out.extend_from_slice(b);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(ttl: Option<u64>) -> RecordData {
        RecordData {
            value: b"/ipfs/bafkqaaa".to_vec(),
            validity: b"2123-04-12T15:32:22.646144Z".to_vec(),
            validity_type: VALIDITY_EOL,
            sequence: 70_000,
            ttl,
        }
    }

    #[test]
    fn round_trips_and_matches_generic_encoder() {
        for ttl in [None, Some(0), Some(u64::MAX), Some(3_600_000_000_000)] {
            let d = sample(ttl);
            let enc = d.encode();
            assert_eq!(RecordData::decode(&enc).unwrap(), d);
            // serde_ipld_dagcbor sorts map keys canonically; our bytes must agree.
            let doc: Ipld = serde_ipld_dagcbor::from_slice(&enc).unwrap();
            assert_eq!(serde_ipld_dagcbor::to_vec(&doc).unwrap(), enc);
        }
    }

    #[test]
    fn key_order_is_dag_cbor_canonical() {
        let enc = sample(Some(1)).encode();
        let pos = |k: &[u8]| enc.windows(k.len()).position(|w| w == k).unwrap();
        assert!(pos(b"TTL") < pos(b"Value"));
        assert!(pos(b"Value") < pos(b"Sequence"));
        assert!(pos(b"Sequence") < pos(b"Validity"));
        assert!(pos(b"Validity") < pos(b"ValidityType"));
    }

    #[test]
    fn rejects_wrong_shapes() {
        let list = serde_ipld_dagcbor::to_vec(&Ipld::List(vec![])).unwrap();
        assert!(RecordData::decode(&list).is_err());
        assert!(RecordData::decode(&[0xff]).is_err());
        assert!(RecordData::decode(&[]).is_err());
        let mut d = sample(Some(1)).encode();
        d.push(0x00); // trailing garbage
        assert!(RecordData::decode(&d).is_err());
        let mut map = std::collections::BTreeMap::new();
        map.insert("Value".to_string(), Ipld::String("/ipfs/x".into()));
        let doc = serde_ipld_dagcbor::to_vec(&Ipld::Map(map)).unwrap();
        assert!(RecordData::decode(&doc).is_err());
    }
}
