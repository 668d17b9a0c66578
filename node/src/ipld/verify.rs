//! Block hash verification: does `data` hash to the multihash inside `cid`?

use cid::Cid;
use multihash_codetable::{Blake3Hasher, Code, MultihashDigest};
use std::io::Write;

use super::{BLAKE3, IDENTITY};

/// Largest BLAKE3 digest we recompute (go-multihash allows up to 128 bytes).
const MAX_BLAKE3_LEN: usize = 128;

/// Why a block failed verification against its CID.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BlockError {
    /// The recomputed digest differs from the one in the CID.
    #[error("block {cid} is corrupt: expected digest {expected}, actual {actual}")]
    HashMismatch {
        /// The CID the block was supposed to match (boxed to keep the error small).
        cid: Box<Cid>,
        /// Hex digest carried by the CID.
        expected: Box<str>,
        /// Hex digest of the bytes actually received.
        actual: Box<str>,
    },
    /// The CID uses a hash function this node cannot compute.
    #[error("block {cid}: unsupported hash function 0x{code:x}")]
    UnsupportedHash {
        /// The CID carrying the unknown hash.
        cid: Cid,
        /// Its multihash code.
        code: u64,
    },
    /// The CID's digest length is impossible for its hash function.
    #[error("block {cid}: digest length {len} is invalid for hash function 0x{code:x}")]
    BadDigestLength {
        /// The offending CID.
        cid: Cid,
        /// Its multihash code.
        code: u64,
        /// Its declared digest length.
        len: usize,
    },
}

/// Checks that `data` hashes to the multihash in `cid`.
///
/// Supports identity (the digest must equal the data), BLAKE3 (any output length up
/// to 128 bytes) and every fixed-size hash in [`multihash_codetable::Code`] enabled
/// for this build (sha2-256/512, sha3, keccak, blake2b/s). A digest shorter than the
/// function's output is compared as a truncated hash, like go-multihash does.
pub fn verify_block(cid: &Cid, data: &[u8]) -> Result<(), BlockError> {
    let mh = cid.hash();
    let (code, expected) = (mh.code(), mh.digest());
    let actual: Vec<u8> = match code {
        IDENTITY => data.to_vec(),
        BLAKE3 => {
            if expected.is_empty() || expected.len() > MAX_BLAKE3_LEN {
                return Err(bad_len(cid));
            }
            let mut hasher = Blake3Hasher::<0>::default();
            hasher
                .write_all(data)
                .expect("hashing into memory cannot fail");
            let mut out = vec![0; expected.len()];
            hasher.finalize_xof_fill(&mut out);
            out
        }
        _ => {
            let algo = Code::try_from(code)
                .map_err(|_| BlockError::UnsupportedHash { cid: *cid, code })?;
            let full = algo.digest(data);
            let full = full.digest();
            if expected.is_empty() || expected.len() > full.len() {
                return Err(bad_len(cid));
            }
            full[..expected.len()].to_vec()
        }
    };
    if actual == expected {
        Ok(())
    } else {
        Err(BlockError::HashMismatch {
            cid: Box::new(*cid),
            expected: hex(expected),
            actual: hex(&actual),
        })
    }
}

fn bad_len(cid: &Cid) -> BlockError {
    BlockError::BadDigestLength {
        cid: *cid,
        code: cid.hash().code(),
        len: cid.hash().digest().len(),
    }
}

fn hex(bytes: &[u8]) -> Box<str> {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipld::{RAW, SHA2_256, SHA2_512};
    use multihash::Multihash;

    fn cid_for(code: Code, data: &[u8]) -> Cid {
        Cid::new_v1(RAW, code.digest(data))
    }

    #[test]
    fn sha2_256_and_512_verify() {
        for code in [Code::Sha2_256, Code::Sha2_512] {
            let cid = cid_for(code, b"hello");
            assert_eq!(verify_block(&cid, b"hello"), Ok(()));
            let err = verify_block(&cid, b"hellO").unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(&cid.to_string()), "{msg}");
            assert!(msg.contains("expected digest"), "{msg}");
        }
        assert_eq!(u64::from(Code::Sha2_256), SHA2_256);
        assert_eq!(u64::from(Code::Sha2_512), SHA2_512);
    }

    #[test]
    fn cidv0_verifies() {
        let cid = Cid::new_v0(Code::Sha2_256.digest(b"x")).unwrap();
        assert_eq!(verify_block(&cid, b"x"), Ok(()));
    }

    #[test]
    fn identity_verifies_against_data() {
        let cid = Cid::new_v1(RAW, Multihash::<64>::wrap(IDENTITY, b"inline").unwrap());
        assert_eq!(verify_block(&cid, b"inline"), Ok(()));
        assert!(verify_block(&cid, b"inlinE").is_err());
        assert!(verify_block(&cid, b"inline+").is_err());
    }

    #[test]
    fn blake3_default_and_long_output() {
        let cid = cid_for(Code::Blake3_256, b"abc");
        assert_eq!(cid.hash().code(), BLAKE3);
        assert_eq!(verify_block(&cid, b"abc"), Ok(()));
        assert!(verify_block(&cid, b"abd").is_err());
        // A 64-byte BLAKE3 output extends the 32-byte one.
        let mut hasher = Blake3Hasher::<0>::default();
        hasher.write_all(b"abc").unwrap();
        let mut long = vec![0; 64];
        hasher.finalize_xof_fill(&mut long);
        assert_eq!(&long[..32], cid.hash().digest());
        let long_cid = Cid::new_v1(RAW, Multihash::<64>::wrap(BLAKE3, &long).unwrap());
        assert_eq!(verify_block(&long_cid, b"abc"), Ok(()));
    }

    #[test]
    fn truncated_sha256_is_compared_as_prefix() {
        let full = Code::Sha2_256.digest(b"t");
        let short = Multihash::<64>::wrap(SHA2_256, &full.digest()[..20]).unwrap();
        let cid = Cid::new_v1(RAW, short);
        assert_eq!(verify_block(&cid, b"t"), Ok(()));
    }

    #[test]
    fn unsupported_hash_names_code() {
        let cid = Cid::new_v1(RAW, Multihash::<64>::wrap(0x9999, &[1, 2, 3]).unwrap());
        let msg = verify_block(&cid, b"").unwrap_err().to_string();
        assert!(msg.contains("unsupported hash function 0x9999"), "{msg}");
    }

    #[test]
    fn overlong_digest_is_rejected() {
        let cid = Cid::new_v1(RAW, Multihash::<64>::wrap(SHA2_256, &[0; 40]).unwrap());
        let err = verify_block(&cid, b"").unwrap_err();
        assert!(matches!(err, BlockError::BadDigestLength { len: 40, .. }));
    }
}
