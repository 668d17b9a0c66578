//! CID prefixes as carried by Bitswap 1.1.0+ payload blocks (go-cid's `Prefix.Bytes()`):
//! version, codec, multihash code and digest length, each an unsigned varint. The receiver
//! rebuilds the CID by hashing the data with the prefix's hash function.

use super::pb::{get_varint, put_varint};
use crate::ipld::{BLAKE3, IDENTITY};
use cid::{Cid, Version};
use multihash::Multihash;
use multihash_codetable::{Blake3Hasher, Code, MultihashDigest};
use std::io::Write;

/// Why a payload block's prefix cannot produce a CID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrefixError {
    /// The prefix is not four varints.
    #[error("malformed CID prefix")]
    Malformed,
    /// The CID version is neither 0 nor 1, or a v0 prefix is not dag-pb/sha2-256/32.
    #[error("invalid CID version or v0 prefix")]
    Version,
    /// The hash function is not supported by this node.
    #[error("unsupported hash function 0x{0:x}")]
    UnsupportedHash(u64),
    /// The digest length is impossible for the hash function (or, for identity, the data).
    #[error("digest length {len} is invalid for hash function 0x{code:x}")]
    DigestLength {
        /// Multihash code.
        code: u64,
        /// Declared digest length.
        len: u64,
    },
}

/// The parts of a CID other than its digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Prefix {
    /// CID version (0 or 1).
    pub version: u64,
    /// Content multicodec.
    pub codec: u64,
    /// Multihash function code.
    pub mh_type: u64,
    /// Digest length in bytes.
    pub mh_len: u64,
}

impl Prefix {
    /// The prefix of `cid`.
    pub fn of(cid: &Cid) -> Self {
        Prefix {
            version: u64::from(cid.version()),
            codec: cid.codec(),
            mh_type: cid.hash().code(),
            mh_len: u64::from(cid.hash().size()),
        }
    }

    /// Encodes like go-cid's `Prefix.Bytes()`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8);
        for v in [self.version, self.codec, self.mh_type, self.mh_len] {
            put_varint(&mut out, v);
        }
        out
    }

    /// Parses four varints (trailing bytes are ignored, as go-cid does).
    pub fn from_bytes(mut buf: &[u8]) -> Result<Self, PrefixError> {
        let mut vals = [0u64; 4];
        for v in &mut vals {
            let (x, n) = get_varint(buf).map_err(|_| PrefixError::Malformed)?;
            *v = x;
            buf = &buf[n..];
        }
        Ok(Prefix {
            version: vals[0],
            codec: vals[1],
            mh_type: vals[2],
            mh_len: vals[3],
        })
    }

    /// Hashes `data` with this prefix's function and returns the resulting CID
    /// (go-cid's `Prefix.Sum`).
    pub fn sum(&self, data: &[u8]) -> Result<Cid, PrefixError> {
        let (code, len) = (self.mh_type, self.mh_len);
        let bad_len = PrefixError::DigestLength { code, len };
        let len = usize::try_from(len).map_err(|_| bad_len.clone())?;
        let digest = match code {
            IDENTITY if len == data.len() => data.to_vec(),
            IDENTITY => return Err(bad_len),
            BLAKE3 => {
                if len == 0 || len > 64 {
                    return Err(bad_len);
                }
                let mut h = Blake3Hasher::<0>::default();
                h.write_all(data).map_err(|_| bad_len.clone())?;
                let mut out = vec![0; len];
                h.finalize_xof_fill(&mut out);
                out
            }
            _ => {
                let algo = Code::try_from(code).map_err(|_| PrefixError::UnsupportedHash(code))?;
                let full = algo.digest(data);
                let full = full.digest();
                if len == 0 || len > full.len() {
                    return Err(bad_len);
                }
                full[..len].to_vec()
            }
        };
        let mh = Multihash::<64>::wrap(code, &digest).map_err(|_| bad_len)?;
        match self.version {
            0 if self.codec == crate::ipld::DAG_PB
                && code == crate::ipld::SHA2_256
                && len == 32 =>
            {
                Cid::new_v0(mh).map_err(|_| PrefixError::Version)
            }
            1 => Cid::new(Version::V1, self.codec, mh).map_err(|_| PrefixError::Version),
            _ => Err(PrefixError::Version),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256_cid(version: u64, codec: u64, data: &[u8]) -> Cid {
        let mh = Code::Sha2_256.digest(data);
        if version == 0 {
            Cid::new_v0(mh).unwrap()
        } else {
            Cid::new_v1(codec, mh)
        }
    }

    #[test]
    fn prefix_bytes_match_go_cid() {
        // go-cid: Prefix{Version:1, Codec:Raw(0x55), MhType:SHA2_256, MhLength:32}.Bytes()
        let cid = sha256_cid(1, 0x55, b"hello");
        assert_eq!(Prefix::of(&cid).to_bytes(), [0x01, 0x55, 0x12, 0x20]);
        // CIDv0: version 0, dag-pb (0x70), sha2-256, 32.
        let v0 = sha256_cid(0, 0x70, b"hello");
        assert_eq!(Prefix::of(&v0).to_bytes(), [0x00, 0x70, 0x12, 0x20]);
        // dag-json 0x0129 takes two varint bytes.
        let json = sha256_cid(1, 0x0129, b"{}");
        assert_eq!(Prefix::of(&json).to_bytes(), [0x01, 0xa9, 0x02, 0x12, 0x20]);
    }

    #[test]
    fn sum_rebuilds_the_cid() {
        for (v, codec) in [(0, 0x70), (1, 0x55), (1, 0x71)] {
            let cid = sha256_cid(v, codec, b"some block");
            let p = Prefix::from_bytes(&Prefix::of(&cid).to_bytes()).unwrap();
            assert_eq!(p.sum(b"some block").unwrap(), cid);
        }
        let blake = Cid::new_v1(0x55, Code::Blake3_256.digest(b"x"));
        assert_eq!(Prefix::of(&blake).sum(b"x").unwrap(), blake);
        let ident = Cid::new_v1(0x55, Multihash::wrap(0, b"abc").unwrap());
        assert_eq!(Prefix::of(&ident).sum(b"abc").unwrap(), ident);
    }

    #[test]
    fn bad_prefixes_are_errors() {
        assert_eq!(
            Prefix::from_bytes(&[1, 0x55, 0x12]),
            Err(PrefixError::Malformed)
        );
        let p = |b: &[u8]| Prefix::from_bytes(b).unwrap();
        assert!(matches!(
            p(&[1, 0x55, 0x12, 40]).sum(b"x"),
            Err(PrefixError::DigestLength { .. })
        ));
        assert!(matches!(
            p(&[1, 0x55, 0x00, 2]).sum(b"xyz"),
            Err(PrefixError::DigestLength { .. })
        ));
        assert!(matches!(
            p(&[1, 0x55, 0x7f, 2]).sum(b"x"),
            Err(PrefixError::UnsupportedHash(0x7f))
        ));
        assert_eq!(p(&[0, 0x55, 0x12, 32]).sum(b"x"), Err(PrefixError::Version));
        assert_eq!(p(&[2, 0x55, 0x12, 32]).sum(b"x"), Err(PrefixError::Version));
        assert!(Prefix::from_bytes(&[0xff; 12]).is_err());
    }
}
