//! Child-link extraction per codec, in the order a depth-first traversal visits them.

use cid::Cid;

use super::{CBOR, DAG_CBOR, DAG_JSON, DAG_PB, JSON, LIBP2P_KEY, RAW, cbor_links, json_links};

/// Why a block's links could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum LinksError {
    /// The CID's codec is not one this node can decode.
    #[error("block {cid}: unsupported codec 0x{codec:x}")]
    UnsupportedCodec {
        /// The block's CID.
        cid: Cid,
        /// Its multicodec code.
        codec: u64,
    },
    /// The block's bytes are not valid for its codec.
    #[error("block {cid}: invalid data for codec 0x{codec:x}: {reason}")]
    Malformed {
        /// The block's CID.
        cid: Cid,
        /// Its multicodec code.
        codec: u64,
        /// What the decoder complained about.
        reason: Box<str>,
    },
}

/// Lists the CIDs `data` (the block named by `cid`) links to, in document order.
///
/// * dag-pb (0x70): the `Links` in node order (duplicates kept).
/// * dag-cbor (0x71): every tag-42 CID, in the order they appear in the bytes.
/// * dag-json (0x0129): every `{"/": "<cid>"}` object, in document order.
/// * raw (0x55), libp2p-key (0x72), plain cbor (0x51), plain json (0x0200): none.
///
/// Any other codec is an [`LinksError::UnsupportedCodec`]. The data is not hash-checked
/// here; call [`super::verify_block`] first if it is untrusted.
pub fn links(cid: &Cid, data: &[u8]) -> Result<Vec<Cid>, LinksError> {
    let malformed = |reason: String| LinksError::Malformed {
        cid: *cid,
        codec: cid.codec(),
        reason: reason.into(),
    };
    match cid.codec() {
        DAG_PB => {
            let mut out = Vec::new();
            ipld_dagpb::links(data, &mut out).map_err(|e| malformed(e.to_string()))?;
            Ok(out)
        }
        DAG_CBOR => cbor_links::links(data).map_err(malformed),
        DAG_JSON => json_links::links(data).map_err(malformed),
        RAW | LIBP2P_KEY | CBOR | JSON => Ok(Vec::new()),
        codec => Err(LinksError::UnsupportedCodec { cid: *cid, codec }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipld_dagpb::{PbLink, PbNode};
    use multihash_codetable::{Code, MultihashDigest};

    fn raw_cid(data: &[u8]) -> Cid {
        Cid::new_v1(RAW, Code::Sha2_256.digest(data))
    }

    #[test]
    fn dag_pb_links_keep_node_order() {
        let (a, b) = (raw_cid(b"a"), raw_cid(b"b"));
        let link = |cid, name: &str| PbLink {
            cid,
            name: Some(name.into()),
            size: Some(1),
        };
        // Already in name order, so encoding keeps b, a, b (a duplicate link stays).
        let node = PbNode {
            links: vec![link(b, "x"), link(a, "y"), link(b, "y")],
            data: None,
        };
        let bytes = node.into_bytes();
        let cid = Cid::new_v0(Code::Sha2_256.digest(&bytes)).unwrap();
        assert_eq!(links(&cid, &bytes).unwrap(), vec![b, a, b]);
        let bad = links(&cid, &[0xff, 0xff]).unwrap_err().to_string();
        assert!(bad.contains("invalid data for codec 0x70"), "{bad}");
    }

    #[test]
    fn leaf_codecs_have_no_links() {
        for codec in [RAW, LIBP2P_KEY, CBOR, JSON] {
            let cid = Cid::new_v1(codec, Code::Sha2_256.digest(b"{}"));
            assert!(links(&cid, b"{}").unwrap().is_empty());
        }
    }

    #[test]
    fn unknown_codec_is_named() {
        let cid = Cid::new_v1(0x0300, Code::Sha2_256.digest(b""));
        let msg = links(&cid, b"").unwrap_err().to_string();
        assert!(msg.contains("unsupported codec 0x300"), "{msg}");
    }

    #[test]
    fn dag_json_links_in_document_order() {
        let (a, b) = (raw_cid(b"a"), raw_cid(b"b"));
        let doc = format!(r#"{{"z":{{"/":"{a}"}},"a":[{{"/":"{b}"}},{{"/":{{"bytes":"AA"}}}}]}}"#);
        let cid = Cid::new_v1(DAG_JSON, Code::Sha2_256.digest(doc.as_bytes()));
        assert_eq!(links(&cid, doc.as_bytes()).unwrap(), vec![a, b]);
    }
}
