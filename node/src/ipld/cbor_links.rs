//! DAG-CBOR link scanner: finds tag-42 CIDs in document order without building a tree.
//!
//! Walks the encoded bytes with a single "items still to read" counter instead of
//! recursion, so deeply nested hostile input cannot overflow the stack, and every
//! declared length is checked against the bytes actually present before it is used.

use cid::Cid;

/// CBOR tag marking a CID in DAG-CBOR.
const CID_TAG: u64 = 42;

/// Returns every tag-42 CID in a DAG-CBOR block, in the order they appear.
///
/// Rejects what DAG-CBOR forbids and would make the scan ambiguous: indefinite
/// lengths, tags other than 42, malformed CIDs, and bytes after the top-level item.
pub(super) fn links(data: &[u8]) -> Result<Vec<Cid>, String> {
    let mut scan = Scanner { data, pos: 0 };
    let mut links = Vec::new();
    let mut pending: u64 = 1;
    while pending > 0 {
        pending -= 1;
        let (major, arg) = scan.head()?;
        match major {
            0 | 1 | 7 => {}
            2 | 3 => {
                scan.take(arg)?;
            }
            4 => pending = scan.add_items(pending, arg, 1)?,
            5 => pending = scan.add_items(pending, arg, 2)?,
            6 if arg == CID_TAG => links.push(scan.cid()?),
            6 => return Err(format!("unsupported CBOR tag {arg} (only 42 is allowed)")),
            _ => unreachable!("major type is 3 bits"),
        }
    }
    if scan.pos != data.len() {
        return Err(format!(
            "{} trailing bytes after the top-level item",
            data.len() - scan.pos
        ));
    }
    Ok(links)
}

/// Cursor over the CBOR bytes.
struct Scanner<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    /// Reads one item head: (major type, argument). For major 7 the argument is unused.
    fn head(&mut self) -> Result<(u8, u64), String> {
        let first = self.take(1)?[0];
        let (major, info) = (first >> 5, first & 0x1f);
        let width = match info {
            0..=23 => return Ok((major, u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Err("indefinite-length items are not allowed in DAG-CBOR".into()),
            _ => return Err(format!("reserved CBOR additional info {info}")),
        };
        let bytes = self.take(width)?;
        let arg = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        Ok((major, arg))
    }

    /// Consumes `len` bytes, failing if fewer remain.
    fn take(&mut self, len: u64) -> Result<&'a [u8], String> {
        let left = self.data.len() - self.pos;
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= left)
            .ok_or_else(|| format!("item of {len} bytes exceeds the {left} bytes left"))?;
        let out = &self.data[self.pos..self.pos + len];
        self.pos += len;
        Ok(out)
    }

    /// Adds `count * per` pending items, refusing counts the remaining bytes cannot hold
    /// (every item takes at least one byte).
    fn add_items(&self, pending: u64, count: u64, per: u64) -> Result<u64, String> {
        let left = (self.data.len() - self.pos) as u64;
        count
            .checked_mul(per)
            .and_then(|n| n.checked_add(pending))
            .filter(|&total| total <= left)
            .ok_or_else(|| format!("container of {count} entries exceeds the {left} bytes left"))
    }

    /// Reads the byte string after a tag 42 and parses it as a CID.
    fn cid(&mut self) -> Result<Cid, String> {
        let (major, len) = self.head()?;
        if major != 2 {
            return Err(format!(
                "tag 42 must wrap a byte string, found major type {major}"
            ));
        }
        let bytes = self.take(len)?;
        let Some((&0, cid_bytes)) = bytes.split_first() else {
            return Err("tag-42 CID must start with a 0x00 multibase prefix".into());
        };
        let mut reader = cid_bytes;
        let cid = Cid::read_bytes(&mut reader).map_err(|e| format!("bad CID in tag 42: {e}"))?;
        if !reader.is_empty() {
            return Err("trailing bytes after CID in tag 42".into());
        }
        Ok(cid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use multihash_codetable::{Code, MultihashDigest};

    fn cid(data: &[u8]) -> Cid {
        Cid::new_v1(0x55, Code::Sha2_256.digest(data))
    }

    fn tagged(c: &Cid) -> Vec<u8> {
        let bytes = c.to_bytes();
        let mut out = vec![0xd8, 42, 0x58, (bytes.len() + 1) as u8, 0];
        out.extend(bytes);
        out
    }

    #[test]
    fn links_in_document_order_not_key_order() {
        let (a, b, c) = (cid(b"a"), cid(b"b"), cid(b"c"));
        // {"b": a, "aa": [b, 1.5, "s"], "c": c}: canonical key order, not bytewise.
        let mut doc = vec![0xa3, 0x61, b'b'];
        doc.extend(tagged(&a));
        doc.extend([0x62, b'a', b'a', 0x83]);
        doc.extend(tagged(&b));
        doc.extend([0xf9, 0x3e, 0x00, 0x61, b's', 0x61, b'c']);
        doc.extend(tagged(&c));
        assert_eq!(links(&doc).unwrap(), vec![a, b, c]);
    }

    #[test]
    fn agrees_with_serde_ipld_dagcbor() {
        use ipld_core::ipld::Ipld;
        let (a, b) = (cid(b"a"), cid(b"b"));
        let value = Ipld::List(vec![
            Ipld::Link(a),
            Ipld::Map([("k".to_string(), Ipld::Link(b))].into()),
            Ipld::Integer(-1_000_000),
            Ipld::Bytes(vec![1; 300]),
        ]);
        let bytes = serde_ipld_dagcbor::to_vec(&value).unwrap();
        assert_eq!(links(&bytes).unwrap(), vec![a, b]);
    }

    #[test]
    fn rejects_malformed_input() {
        assert!(links(&[]).is_err());
        assert!(links(&[0x9f, 0xff]).unwrap_err().contains("indefinite"));
        assert!(links(&[0xc1, 0x00]).unwrap_err().contains("tag 1"));
        assert!(links(&[0x01, 0x02]).unwrap_err().contains("trailing"));
        assert!(
            links(&[0x5a, 0xff, 0xff, 0xff, 0xff])
                .unwrap_err()
                .contains("exceeds")
        );
        assert!(
            links(&[0x9b, 0xff, 0, 0, 0, 0, 0, 0, 0])
                .unwrap_err()
                .contains("exceeds")
        );
        assert!(links(&[0xd8, 42, 0x41, 0x01]).unwrap_err().contains("0x00"));
        assert!(
            links(&[0xd8, 42, 0x01])
                .unwrap_err()
                .contains("byte string")
        );
    }
}
