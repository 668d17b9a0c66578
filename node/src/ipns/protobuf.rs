//! Hand-written protobuf codec for the `IpnsEntry` message.
//!
//! Every field is `optional` (proto2 presence): `None` means absent on the wire.
//! Unknown fields are skipped; truncated or overlong input is an error.

use super::error::{IpnsError, Result};

const WIRE_VARINT: u8 = 0;
const WIRE_I64: u8 = 1;
const WIRE_LEN: u8 = 2;
const WIRE_I32: u8 = 5;

/// The `IpnsEntry` protobuf message, field by field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IpnsEntry {
    /// 1: legacy V1 copy of `data[Value]`.
    pub value: Option<Vec<u8>>,
    /// 2: legacy V1 signature (never used for verification).
    pub signature_v1: Option<Vec<u8>>,
    /// 3: legacy V1 copy of `data[ValidityType]` (0 = EOL).
    pub validity_type: Option<u64>,
    /// 4: legacy V1 copy of `data[Validity]`.
    pub validity: Option<Vec<u8>>,
    /// 5: legacy V1 copy of `data[Sequence]`.
    pub sequence: Option<u64>,
    /// 6: legacy V1 copy of `data[TTL]`, in nanoseconds.
    pub ttl: Option<u64>,
    /// 7: protobuf-encoded libp2p public key, for keys the name cannot inline.
    pub pub_key: Option<Vec<u8>>,
    /// 8: signature over `"ipns-signature:" ‖ data`.
    pub signature_v2: Option<Vec<u8>>,
    /// 9: the signed DAG-CBOR document.
    pub data: Option<Vec<u8>>,
}

impl IpnsEntry {
    /// Serializes the message, fields in ascending number order (as Go's `proto.Marshal`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_bytes(&mut out, 1, self.value.as_deref());
        put_bytes(&mut out, 2, self.signature_v1.as_deref());
        put_varint_field(&mut out, 3, self.validity_type);
        put_bytes(&mut out, 4, self.validity.as_deref());
        put_varint_field(&mut out, 5, self.sequence);
        put_varint_field(&mut out, 6, self.ttl);
        put_bytes(&mut out, 7, self.pub_key.as_deref());
        put_bytes(&mut out, 8, self.signature_v2.as_deref());
        put_bytes(&mut out, 9, self.data.as_deref());
        out
    }

    /// Parses a serialized message. A repeated scalar field keeps its last value.
    pub fn decode(mut buf: &[u8]) -> Result<Self> {
        let mut e = IpnsEntry::default();
        while !buf.is_empty() {
            let key = read_varint(&mut buf)?;
            let field = key >> 3;
            let wire = (key & 7) as u8;
            if field == 0 || field > u64::from(u32::MAX >> 3) {
                return Err(malformed("invalid field number"));
            }
            match (field, wire) {
                (1, WIRE_LEN) => e.value = Some(read_len(&mut buf)?.to_vec()),
                (2, WIRE_LEN) => e.signature_v1 = Some(read_len(&mut buf)?.to_vec()),
                (3, WIRE_VARINT) => e.validity_type = Some(read_varint(&mut buf)?),
                (4, WIRE_LEN) => e.validity = Some(read_len(&mut buf)?.to_vec()),
                (5, WIRE_VARINT) => e.sequence = Some(read_varint(&mut buf)?),
                (6, WIRE_VARINT) => e.ttl = Some(read_varint(&mut buf)?),
                (7, WIRE_LEN) => e.pub_key = Some(read_len(&mut buf)?.to_vec()),
                (8, WIRE_LEN) => e.signature_v2 = Some(read_len(&mut buf)?.to_vec()),
                (9, WIRE_LEN) => e.data = Some(read_len(&mut buf)?.to_vec()),
                (1..=9, _) => return Err(malformed("known field with wrong wire type")),
                (_, w) => skip(&mut buf, w)?,
            }
        }
        Ok(e)
    }
}

fn malformed(msg: &str) -> IpnsError {
    IpnsError::Protobuf(msg.to_owned())
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint_field(out: &mut Vec<u8>, field: u64, v: Option<u64>) {
    if let Some(v) = v {
        put_varint(out, (field << 3) | u64::from(WIRE_VARINT));
        put_varint(out, v);
    }
}

fn put_bytes(out: &mut Vec<u8>, field: u64, v: Option<&[u8]>) {
    if let Some(v) = v {
        put_varint(out, (field << 3) | u64::from(WIRE_LEN));
        put_varint(out, v.len() as u64);
        out.extend_from_slice(v);
    }
}

/// Reads a base-128 varint of at most 10 bytes that fits in 64 bits.
fn read_varint(buf: &mut &[u8]) -> Result<u64> {
    let mut v: u64 = 0;
    for i in 0..10 {
        let (&b, rest) = buf
            .split_first()
            .ok_or_else(|| malformed("truncated varint"))?;
        *buf = rest;
        if i == 9 && b > 1 {
            return Err(malformed("varint overflows 64 bits"));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(malformed("varint longer than 10 bytes"))
}

fn read_len<'a>(buf: &mut &'a [u8]) -> Result<&'a [u8]> {
    let len = read_varint(buf)?;
    take(buf, len)
}

fn take<'a>(buf: &mut &'a [u8], n: u64) -> Result<&'a [u8]> {
    let n = usize::try_from(n).map_err(|_| malformed("length overflow"))?;
    if n > buf.len() {
        return Err(malformed("field runs past end of record"));
    }
    let (head, rest) = buf.split_at(n);
    *buf = rest;
    Ok(head)
}

fn skip(buf: &mut &[u8], wire: u8) -> Result<()> {
    match wire {
        WIRE_VARINT => read_varint(buf).map(drop),
        WIRE_I64 => take(buf, 8).map(drop),
        WIRE_LEN => read_len(buf).map(drop),
        WIRE_I32 => take(buf, 4).map(drop),
        _ => Err(malformed("unsupported wire type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> IpnsEntry {
        IpnsEntry {
            value: Some(b"/ipfs/bafkqaaa".to_vec()),
            signature_v1: Some(vec![1; 64]),
            validity_type: Some(0),
            validity: Some(b"2123-01-01T00:00:00Z".to_vec()),
            sequence: Some(u64::MAX),
            ttl: Some(300_000_000_000),
            pub_key: Some(vec![8, 1, 18, 0]),
            signature_v2: Some(vec![2; 300]),
            data: Some(vec![0xa0]),
        }
    }

    #[test]
    fn round_trips() {
        let e = full();
        assert_eq!(IpnsEntry::decode(&e.encode()).unwrap(), e);
        let empty = IpnsEntry::default();
        assert!(empty.encode().is_empty());
        assert_eq!(IpnsEntry::decode(&[]).unwrap(), empty);
    }

    #[test]
    fn skips_unknown_fields() {
        let mut bytes = full().encode();
        // field 15 varint, field 16 fixed64, field 17 bytes, field 18 fixed32
        bytes.extend_from_slice(&[0x78, 0x96, 0x01]);
        bytes.extend_from_slice(&[0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]);
        bytes.extend_from_slice(&[0x8a, 0x01, 2, 0xaa, 0xbb]);
        bytes.extend_from_slice(&[0x95, 0x01, 1, 2, 3, 4]);
        assert_eq!(IpnsEntry::decode(&bytes).unwrap(), full());
    }

    #[test]
    fn rejects_malformed_without_panicking() {
        let good = full().encode();
        for cut in 1..good.len() {
            // Every strict prefix either ends on a field boundary or errors.
            let _ = IpnsEntry::decode(&good[..cut]);
        }
        assert!(IpnsEntry::decode(&[0x0a, 0x05, 1]).is_err());
        assert!(IpnsEntry::decode(&[0x0a]).is_err());
        assert!(IpnsEntry::decode(&[0x28, 0xff]).is_err());
        assert!(
            IpnsEntry::decode(&[
                0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
            ])
            .is_err()
        );
        assert!(IpnsEntry::decode(&[0x00, 0x00]).is_err());
        assert!(IpnsEntry::decode(&[0x0b]).is_err()); // group start
        assert!(IpnsEntry::decode(&[0x08, 0x01]).is_err()); // field 1 as varint
        assert!(IpnsEntry::decode(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    #[test]
    fn last_value_wins() {
        let bytes = [0x28, 0x01, 0x28, 0x07];
        assert_eq!(IpnsEntry::decode(&bytes).unwrap().sequence, Some(7));
    }
}
