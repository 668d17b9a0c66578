//! CARv1 header encoding/decoding and the CARv2 pragma/header.

use cid::Cid;
use ipld_core::ipld::Ipld;

use super::CarError;

/// The 11 bytes every CARv2 file starts with: varint(10) + DAG-CBOR `{version: 2}`.
pub(super) const V2_PRAGMA: [u8; 11] = [
    0x0a, 0xa1, 0x67, b'v', b'e', b'r', b's', b'i', b'o', b'n', 0x02,
];
/// Size of the fixed CARv2 header that follows the pragma.
pub(super) const V2_HEADER_LEN: usize = 40;

/// A decoded CAR header: its version and (for v1) roots.
pub(super) struct Header {
    /// 1 for CARv1, 2 for a CARv2 pragma.
    pub version: u64,
    /// The roots (empty for a CARv2 pragma).
    pub roots: Vec<Cid>,
}

/// Encodes the DAG-CBOR header `{"roots": [...], "version": 1}` (without length prefix).
///
/// Keys are in DAG-CBOR canonical order ("roots" is shorter than "version"), each CID is
/// tag 42 over a byte string with a 0x00 prefix; identical to go-car and @ipld/car.
pub(super) fn encode_v1(roots: &[Cid]) -> Vec<u8> {
    let mut out = vec![0xa2, 0x65];
    out.extend_from_slice(b"roots");
    cbor_head(&mut out, 4, roots.len() as u64);
    for root in roots {
        let bytes = root.to_bytes();
        out.extend_from_slice(&[0xd8, 42]);
        cbor_head(&mut out, 2, bytes.len() as u64 + 1);
        out.push(0);
        out.extend_from_slice(&bytes);
    }
    out.push(0x67);
    out.extend_from_slice(b"version");
    out.push(0x01);
    out
}

/// Writes a CBOR item head with the shortest argument encoding.
fn cbor_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

/// Decodes a header block. Version 1 requires a `roots` list of CIDs (it may be empty);
/// version 2 is the CARv2 pragma and has no roots. Unknown extra keys are ignored.
pub(super) fn decode(bytes: &[u8]) -> Result<Header, CarError> {
    let bad = |m: String| CarError::BadHeader(m);
    let value: Ipld = serde_ipld_dagcbor::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
    let Ipld::Map(map) = value else {
        return Err(bad("not a DAG-CBOR map".into()));
    };
    let version = match map.get("version") {
        Some(Ipld::Integer(v)) => u64::try_from(*v).map_err(|_| bad(format!("version {v}")))?,
        Some(_) => return Err(bad("version is not an integer".into())),
        None => return Err(bad("missing version".into())),
    };
    let roots = match (version, map.get("roots")) {
        (1, Some(Ipld::List(items))) => items
            .iter()
            .map(|item| match item {
                Ipld::Link(cid) => Ok(*cid),
                _ => Err(bad("roots must contain only CIDs".into())),
            })
            .collect::<Result<_, _>>()?,
        (1, Some(_)) => return Err(bad("roots is not a list".into())),
        (1, None) => return Err(bad("missing roots".into())),
        (2, _) => Vec::new(),
        (v, _) => return Err(CarError::UnsupportedVersion(v)),
    };
    Ok(Header { version, roots })
}

/// The CARv2 fixed header fields we use.
pub(super) struct V2Header {
    /// Byte offset of the CARv1 payload from the start of the file.
    pub data_offset: u64,
    /// Length of the CARv1 payload.
    pub data_size: u64,
}

/// Parses the 40-byte CARv2 header (characteristics, data offset/size, index offset).
pub(super) fn decode_v2(bytes: &[u8; V2_HEADER_LEN]) -> V2Header {
    let le = |at: usize| {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    V2Header {
        data_offset: le(16),
        data_size: le(24),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use multihash_codetable::{Code, MultihashDigest};
    use std::collections::BTreeMap;

    #[test]
    fn encoding_matches_serde_ipld_dagcbor_canonical_form() {
        let roots: Vec<Cid> = (0..30u8)
            .map(|i| Cid::new_v1(0x71, Code::Sha2_256.digest(&[i])))
            .collect();
        for n in [0, 1, 2, 30] {
            let value = Ipld::Map(BTreeMap::from([
                ("version".to_string(), Ipld::Integer(1)),
                (
                    "roots".to_string(),
                    Ipld::List(roots[..n].iter().map(|c| Ipld::Link(*c)).collect()),
                ),
            ]));
            let canonical = serde_ipld_dagcbor::to_vec(&value).unwrap();
            assert_eq!(encode_v1(&roots[..n]), canonical, "{n} roots");
            let header = decode(&canonical).unwrap();
            assert_eq!((header.version, header.roots), (1, roots[..n].to_vec()));
        }
    }

    #[test]
    fn pragma_decodes_as_version_2() {
        assert_eq!(decode(&V2_PRAGMA[1..]).unwrap().version, 2);
    }

    #[test]
    fn rejects_bad_headers() {
        let enc = |v: &Ipld| serde_ipld_dagcbor::to_vec(v).unwrap();
        let map = |pairs: Vec<(&str, Ipld)>| {
            Ipld::Map(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
        };
        let cases = [
            (enc(&Ipld::List(vec![])), "not a DAG-CBOR map"),
            (
                enc(&map(vec![("roots", Ipld::List(vec![]))])),
                "missing version",
            ),
            (
                enc(&map(vec![("version", Ipld::Integer(1))])),
                "missing roots",
            ),
            (
                enc(&map(vec![
                    ("version", Ipld::Integer(1)),
                    ("roots", Ipld::List(vec![Ipld::Integer(3)])),
                ])),
                "only CIDs",
            ),
            (
                enc(&map(vec![("version", Ipld::Integer(3))])),
                "unsupported CAR version 3",
            ),
            (vec![0xa2, 0x65], "invalid CAR header"),
        ];
        for (bytes, want) in cases {
            let msg = decode(&bytes).err().expect(want).to_string();
            assert!(msg.contains(want), "{msg} lacks {want}");
        }
    }
}
