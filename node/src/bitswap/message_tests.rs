//! Byte-vector and round-trip tests of the Bitswap message codec.

use super::Version;
use super::message::*;
use super::prefix::Prefix;
use cid::Cid;
use multihash_codetable::{Code, MultihashDigest};

fn raw_cid(data: &[u8]) -> Cid {
    Cid::new_v1(0x55, Code::Sha2_256.digest(data))
}

fn sample() -> Message {
    let a = raw_cid(b"a");
    let b = raw_cid(b"b");
    Message {
        wantlist: Some(Wantlist {
            entries: vec![
                WantEntry {
                    cid: a,
                    priority: 7,
                    cancel: false,
                    want_type: WantType::Have,
                    send_dont_have: true,
                },
                WantEntry {
                    cid: b,
                    priority: -3,
                    cancel: true,
                    want_type: WantType::Block,
                    send_dont_have: false,
                },
            ],
            full: true,
        }),
        blocks: vec![],
        payload: vec![PayloadBlock {
            prefix: Prefix::of(&a).to_bytes(),
            data: bytes::Bytes::from_static(b"a"),
        }],
        presences: vec![
            BlockPresence {
                cid: a,
                presence: Presence::Have,
            },
            BlockPresence {
                cid: b,
                presence: Presence::DontHave,
            },
        ],
        pending_bytes: 12345,
    }
}

#[test]
fn round_trip_1_2_0() {
    let msg = sample();
    assert_eq!(Message::decode(&msg.encode(Version::V1_2_0)).unwrap(), msg);
    assert_eq!(Message::decode(&[]).unwrap(), Message::default());
    assert!(Message::default().is_empty());
}

#[test]
fn older_versions_drop_what_they_lack() {
    let msg = sample();
    let v11 = Message::decode(&msg.encode(Version::V1_1_0)).unwrap();
    assert_eq!(v11.wantlist.as_ref().unwrap().entries.len(), 1);
    assert!(v11.presences.is_empty());
    assert_eq!(v11.pending_bytes, 0);
    assert_eq!(v11.payload, msg.payload);
    let v10 = Message::decode(&msg.encode(Version::V1_0_0)).unwrap();
    assert!(v10.payload.is_empty());
    assert_eq!(v10.blocks, vec![b"a".to_vec()]);
}

#[test]
fn exact_bytes_of_a_want_have_entry() {
    let cid = raw_cid(b"a");
    let cid_bytes = cid.to_bytes();
    assert_eq!(cid_bytes.len(), 36);
    let msg = Message {
        wantlist: Some(Wantlist {
            entries: vec![WantEntry {
                cid,
                priority: 1,
                cancel: false,
                want_type: WantType::Have,
                send_dont_have: true,
            }],
            full: false,
        }),
        ..Message::default()
    };
    // Entry: 0a 24 <cid> 10 01 20 01 28 01 (44 bytes); Wantlist: 0a 2c <entry>;
    // Message: 0a 2e <wantlist>.
    let mut expected = vec![0x0a, 0x2e, 0x0a, 0x2c, 0x0a, 0x24];
    expected.extend_from_slice(&cid_bytes);
    expected.extend_from_slice(&[0x10, 0x01, 0x20, 0x01, 0x28, 0x01]);
    assert_eq!(msg.encode(Version::V1_2_0), expected);
    assert_eq!(Message::decode(&expected).unwrap(), msg);
}

#[test]
fn exact_bytes_of_a_payload_block_and_presence() {
    let cid = raw_cid(b"hi");
    let msg = Message {
        payload: vec![PayloadBlock {
            prefix: Prefix::of(&cid).to_bytes(),
            data: bytes::Bytes::from_static(b"hi"),
        }],
        presences: vec![BlockPresence {
            cid,
            presence: Presence::DontHave,
        }],
        ..Message::default()
    };
    let mut expected = vec![
        0x1a, 0x0a, 0x0a, 0x04, 0x01, 0x55, 0x12, 0x20, 0x12, 0x02, b'h', b'i',
    ];
    expected.extend_from_slice(&[0x22, 0x28, 0x0a, 0x24]);
    expected.extend_from_slice(&cid.to_bytes());
    expected.extend_from_slice(&[0x10, 0x01]);
    assert_eq!(msg.encode(Version::V1_2_0), expected);
    assert_eq!(Message::decode(&expected).unwrap(), msg);
}

#[test]
fn unknown_fields_are_skipped() {
    // Field 15 (varint) and field 14 (bytes) before a pendingBytes field.
    let buf = [0x78, 0x01, 0x72, 0x02, 0xaa, 0xbb, 0x28, 0x05];
    assert_eq!(Message::decode(&buf).unwrap().pending_bytes, 5);
}

#[test]
fn malformed_input_is_an_error_not_a_panic() {
    let good = sample().encode(Version::V1_2_0);
    // Every truncation either decodes (at a field boundary) or fails cleanly.
    for n in 0..good.len() {
        let _ = Message::decode(&good[..n]);
    }
    // Byte flips anywhere.
    for i in 0..good.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            let _ = Message::decode(&bad);
        }
    }
    assert!(Message::decode(&[0x0a, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0xff]).is_err());
    assert!(matches!(
        Message::decode(&[0x08, 0x01]),
        Err(DecodeError::WireType(1))
    ));
    assert!(Message::decode(&[0x0a]).is_err());
    // A pseudo-random fuzz pass.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..20_000 {
        let len = (x % 64) as usize;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let _ = Message::decode(&bytes);
    }
}

#[test]
fn a_frame_is_the_length_then_the_message_for_every_size_of_length() {
    use super::protocol::read_frame;
    // block sizes chosen so the payload field and the frame length cross varint widths
    for size in [0usize, 1, 100, 127, 128, 16_383, 16_384, 262_144, 2 << 20] {
        let data = vec![7u8; size];
        let data = bytes::Bytes::from(data);
        let mut msg = sample();
        msg.payload = vec![PayloadBlock {
            prefix: Prefix::of(&raw_cid(&data)).to_bytes(),
            data: data.clone(),
        }];
        for v in [Version::V1_0_0, Version::V1_1_0, Version::V1_2_0] {
            let body = msg.encode(v);
            let parts = msg.encode_frame_parts(v);
            if size > 0 {
                assert!(
                    parts
                        .iter()
                        .any(|p| p.as_ptr() == data.as_ptr() && p.len() == size),
                    "block bytes are shared, not copied"
                );
            }
            let frame = parts.concat();
            let mut reader = futures::io::Cursor::new(frame.clone());
            let read = futures::executor::block_on(read_frame(&mut reader))
                .unwrap()
                .unwrap();
            assert_eq!(read, body, "size {size}, {v:?}");
            assert_eq!(
                reader.position() as usize,
                frame.len(),
                "nothing after the body"
            );
            let decoded = Message::decode(&body).unwrap();
            if v != Version::V1_0_0 {
                assert_eq!(decoded.payload, msg.payload, "size {size}, {v:?}");
            }
        }
    }
}

#[test]
fn frame_parts_of_messages_without_payload_are_the_length_then_the_message() {
    let wantlist_only = Message {
        wantlist: sample().wantlist,
        ..Message::default()
    };
    let raw_blocks = Message {
        blocks: vec![bytes::Bytes::from_static(b"raw"), bytes::Bytes::new()],
        ..Message::default()
    };
    for msg in [Message::default(), wantlist_only, raw_blocks] {
        for v in [Version::V1_0_0, Version::V1_1_0, Version::V1_2_0] {
            let body = msg.encode(v);
            let mut expected = Vec::new();
            super::pb::put_varint(&mut expected, body.len() as u64);
            expected.extend_from_slice(&body);
            assert_eq!(
                msg.encode_frame_parts(v).concat(),
                expected,
                "{msg:?} {v:?}"
            );
        }
    }
}

/// A frame (message bytes) whose wantlist holds an entry per CID byte string, and a presence
/// per `presences` CID.
fn raw_frame(want_cids: &[Vec<u8>], presence_cids: &[Vec<u8>]) -> bytes::Bytes {
    use super::pb::put_bytes;
    let mut wl = Vec::new();
    for c in want_cids {
        let mut entry = Vec::new();
        put_bytes(&mut entry, 1, c);
        put_bytes(&mut wl, 1, &entry);
    }
    let mut msg = Vec::new();
    put_bytes(&mut msg, 1, &wl);
    for c in presence_cids {
        let mut p = Vec::new();
        put_bytes(&mut p, 1, c);
        put_bytes(&mut msg, 4, &p);
    }
    msg.into()
}

const CAPS: DecodeCaps = DecodeCaps {
    max_entries: 4096,
    max_cid_len: 168,
};

#[test]
fn a_wantlist_over_the_entry_cap_is_skipped_whole_and_unparsed() {
    let cids: Vec<Vec<u8>> = (0..4097u32)
        .map(|n| raw_cid(&n.to_le_bytes()).to_bytes())
        .collect();
    // exactly at the cap
    let (msg, skipped) =
        Message::decode_frame_capped(&raw_frame(&cids[..4096], &[]), CAPS).unwrap();
    assert_eq!(msg.wantlist.unwrap().entries.len(), 4096);
    assert_eq!(skipped, Skipped::default());
    // one past it: nothing decoded, everything counted
    let (msg, skipped) = Message::decode_frame_capped(&raw_frame(&cids, &[]), CAPS).unwrap();
    assert!(msg.wantlist.unwrap().entries.is_empty());
    assert_eq!(skipped.wants_over_cap, 4097);
    // the skipped entries are not even parsed: garbage CIDs are no error
    let mut garbage = vec![vec![0xff; 40]; 4097];
    garbage[0] = cids[0].clone();
    let (_, skipped) = Message::decode_frame_capped(&raw_frame(&garbage, &[]), CAPS).unwrap();
    assert_eq!(skipped.wants_over_cap, 4097);
    // the cap counts entries across repeated wantlist fields (protobuf merges them)
    let mut two = raw_frame(&cids[..2048], &[]).to_vec();
    two.extend_from_slice(&raw_frame(&cids[2048..], &[]));
    let (_, skipped) = Message::decode_frame_capped(&two.into(), CAPS).unwrap();
    assert_eq!(skipped.wants_over_cap, 4097);
}

#[test]
fn presences_past_the_entry_cap_are_skipped() {
    let cids: Vec<Vec<u8>> = (0..4097u32)
        .map(|n| raw_cid(&n.to_le_bytes()).to_bytes())
        .collect();
    let (msg, skipped) =
        Message::decode_frame_capped(&raw_frame(&[], &cids[..4096]), CAPS).unwrap();
    assert_eq!((msg.presences.len(), skipped.presences_over_cap), (4096, 0));
    let (msg, skipped) = Message::decode_frame_capped(&raw_frame(&[], &cids), CAPS).unwrap();
    assert_eq!((msg.presences.len(), skipped.presences_over_cap), (4096, 1));
}

#[test]
fn cids_over_the_length_cap_are_dropped_unparsed() {
    let cid = raw_cid(b"x");
    let bytes = cid.to_bytes();
    assert_eq!(bytes.len(), 36);
    let frame = raw_frame(std::slice::from_ref(&bytes), std::slice::from_ref(&bytes));
    let at = DecodeCaps {
        max_entries: 10,
        max_cid_len: 36,
    };
    let (msg, skipped) = Message::decode_frame_capped(&frame, at).unwrap();
    assert_eq!(msg.wantlist.unwrap().entries[0].cid, cid);
    assert_eq!(msg.presences[0].cid, cid);
    assert_eq!(skipped, Skipped::default());
    let below = DecodeCaps {
        max_cid_len: 35,
        ..at
    };
    let (msg, skipped) = Message::decode_frame_capped(&frame, below).unwrap();
    assert!(msg.wantlist.unwrap().entries.is_empty() && msg.presences.is_empty());
    assert_eq!(skipped.long_cids, 2);

    // the default cap, 168 bytes: a 169-byte CID is dropped before parsing (no error); a
    // 168-byte one is parsed (and, being garbage, fails the message)
    let (_, skipped) =
        Message::decode_frame_capped(&raw_frame(&[vec![0xff; 169]], &[]), CAPS).unwrap();
    assert_eq!(skipped.long_cids, 1);
    assert!(matches!(
        Message::decode_frame_capped(&raw_frame(&[vec![0xff; 168]], &[]), CAPS),
        Err(DecodeError::Cid(_))
    ));
}

#[test]
fn entries_are_counted_as_a_frame_arrives_whatever_its_pieces() {
    let cids: Vec<Vec<u8>> = (0..300u32)
        .map(|n| raw_cid(&n.to_le_bytes()).to_bytes())
        .collect();
    // a wantlist, a block and presences, like a real message
    let mut msg = sample();
    msg.wantlist.as_mut().unwrap().entries = cids
        .iter()
        .map(|c| WantEntry {
            cid: Cid::try_from(&c[..]).unwrap(),
            priority: 1,
            cancel: false,
            want_type: WantType::Have,
            send_dont_have: true,
        })
        .collect();
    let frame = msg.encode(Version::V1_2_0);
    for piece in [1, 7, 100, 4096, frame.len()] {
        let mut scan = EntryScan::default();
        let mut seen = 0;
        while seen < frame.len() {
            seen = (seen + piece).min(frame.len());
            scan.advance(&frame[..seen]);
        }
        assert_eq!((scan.wants, scan.presences), (300, 2), "pieces of {piece}");
    }
    // an entry counts as soon as its header has arrived, long before the frame ends
    let over = raw_frame(&cids, &[]);
    let mut scan = EntryScan::default();
    let mut at = 0;
    while scan.wants <= 299 {
        at += 1;
        scan.advance(&over[..at]);
    }
    assert_eq!(scan.wants, 300);
    assert!(at < over.len() - 30, "counted at {at} of {}", over.len());
    // garbage stops the count, never panics
    let mut scan = EntryScan::default();
    scan.advance(&[
        0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    scan.advance(&[0x07; 64]);
    assert_eq!(scan.wants, 0);
}
