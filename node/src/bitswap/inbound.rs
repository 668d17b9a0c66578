//! A received message with its blocks already hashed.
//!
//! Hashing is the costliest step of receiving a block, so it runs in the connection handler's
//! task (one per connection, on any runtime thread) instead of on the swarm's event loop, which
//! every protocol of the node shares. The CID of each block is computed *from its bytes* and
//! the prefix it came with, so a block can never be stored under a CID it does not hash to; the
//! behaviour then only has to check that the CID is one it asked for.

use super::message::{BlockPresence, Message, Skipped, Wantlist};
use super::prefix::Prefix;
use crate::ipld::{DAG_PB, SHA2_256};
use bytes::Bytes;
use cid::Cid;

/// The prefix implied by Bitswap 1.0.0 raw blocks.
const V0_PREFIX: Prefix = Prefix {
    version: 0,
    codec: DAG_PB,
    mh_type: SHA2_256,
    mh_len: 32,
};

/// A block as received: the CID its bytes hash to, or why none could be computed.
#[derive(Debug)]
pub struct HashedBlock {
    /// The CID computed from `data` and the block's prefix.
    pub cid: Result<Cid, String>,
    /// The block's bytes.
    pub data: Bytes,
}

/// A received Bitswap message whose blocks carry the CIDs their bytes hash to.
#[derive(Debug)]
pub struct InboundMessage {
    /// The sender's wantlist (delta or full); `None` when absent.
    pub wantlist: Option<Wantlist>,
    /// Every block of the message (1.0.0 `blocks` first, then 1.1.0+ `payload`).
    pub blocks: Vec<HashedBlock>,
    /// 1.2.0 HAVE / DONT_HAVE answers.
    pub presences: Vec<BlockPresence>,
    /// What decoding left out under the server's caps.
    pub skipped: Skipped,
}

impl InboundMessage {
    /// Hashes every block of `msg`.
    pub fn hash(msg: Message) -> Self {
        let raw = msg.blocks.into_iter().map(|d| (Ok(V0_PREFIX), d));
        let payload = msg
            .payload
            .into_iter()
            .map(|p| (Prefix::from_bytes(&p.prefix), p.data));
        let blocks = raw
            .chain(payload)
            .map(|(prefix, data)| HashedBlock {
                cid: prefix.and_then(|p| p.sum(&data)).map_err(|e| e.to_string()),
                data,
            })
            .collect();
        InboundMessage {
            wantlist: msg.wantlist,
            blocks,
            presences: msg.presences,
            skipped: Skipped::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bitswap::message::PayloadBlock;
    use multihash_codetable::{Code, MultihashDigest};

    #[test]
    fn blocks_get_the_cids_their_bytes_hash_to() {
        let v1 = Cid::new_v1(0x55, Code::Sha2_256.digest(b"payload"));
        let v0 = Cid::new_v0(Code::Sha2_256.digest(b"raw")).unwrap();
        let msg = Message {
            blocks: vec![Bytes::from_static(b"raw")],
            payload: vec![
                PayloadBlock {
                    prefix: Prefix::of(&v1).to_bytes(),
                    data: Bytes::from_static(b"payload"),
                },
                PayloadBlock {
                    prefix: vec![1, 0x55, 0x12],
                    data: Bytes::from_static(b"x"),
                },
            ],
            ..Message::default()
        };
        let hashed = InboundMessage::hash(msg);
        assert_eq!(hashed.blocks.len(), 3);
        assert_eq!(hashed.blocks[0].cid, Ok(v0));
        assert_eq!(&hashed.blocks[0].data[..], b"raw");
        assert_eq!(hashed.blocks[1].cid, Ok(v1));
        assert!(hashed.blocks[2].cid.is_err());
    }
}
