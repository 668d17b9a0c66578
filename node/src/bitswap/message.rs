//! The Bitswap `Message` (boxo's `message.proto`) with a hand-written protobuf codec.
//!
//! Decoding never panics: malformed input (bad varints, truncated fields, invalid CIDs) is a
//! [`DecodeError`]. Encoding is version-aware: 1.0.0 peers get raw `blocks` and 1.0/1.1 peers
//! never see want-have entries, block presences or `pendingBytes`.

use super::Version;
use super::pb::{self, Fields, Value};
use bytes::Bytes;
use cid::Cid;

/// Why a received frame is not a valid Bitswap message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A varint was longer than 10 bytes or ran past the end.
    #[error("malformed varint")]
    Varint,
    /// A length-delimited field ran past the end of its message.
    #[error("truncated field")]
    Truncated,
    /// A field key had number 0 or an unknown wire type.
    #[error("malformed field key")]
    BadKey,
    /// A known field had the wrong wire type.
    #[error("field {0} has the wrong wire type")]
    WireType(u32),
    /// A wantlist entry or presence carried bytes that are not a CID.
    #[error("invalid CID: {0}")]
    Cid(String),
}

/// What a wantlist entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WantType {
    /// Send the block itself (`Block = 0`).
    Block,
    /// Only say whether you have it (`Have = 1`, Bitswap 1.2.0).
    Have,
}

/// One wantlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantEntry {
    /// The wanted block.
    pub cid: Cid,
    /// Higher is more urgent.
    pub priority: i32,
    /// Removes the CID from the receiver's view of our wantlist.
    pub cancel: bool,
    /// Block or Have.
    pub want_type: WantType,
    /// Ask for an explicit DONT_HAVE when the receiver lacks the block.
    pub send_dont_have: bool,
}

/// A sender's wantlist (a delta unless `full`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wantlist {
    /// Entries, in order.
    pub entries: Vec<WantEntry>,
    /// When true the receiver replaces everything it knows about the sender's wants.
    pub full: bool,
}

/// A block sent in the 1.1.0+ `payload` field: the CID prefix and the bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadBlock {
    /// `cid.Prefix().Bytes()`: version, codec, multihash code and length as uvarints.
    pub prefix: Vec<u8>,
    /// The block's bytes (a slice of the received frame: decoding does not copy them).
    pub data: Bytes,
}

/// HAVE or DONT_HAVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Presence {
    /// The sender has the block (`Have = 0`).
    Have,
    /// The sender does not have the block (`DontHave = 1`).
    DontHave,
}

/// A HAVE/DONT_HAVE answer to a wantlist entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockPresence {
    /// The block concerned.
    pub cid: Cid,
    /// Whether the sender has it.
    pub presence: Presence,
}

/// One Bitswap message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Message {
    /// The sender's wantlist (delta or full); `None` when absent.
    pub wantlist: Option<Wantlist>,
    /// 1.0.0 blocks: raw bytes, CIDv0 (sha2-256, dag-pb) implied.
    pub blocks: Vec<Bytes>,
    /// 1.1.0+ blocks with their CID prefix.
    pub payload: Vec<PayloadBlock>,
    /// 1.2.0 HAVE / DONT_HAVE answers.
    pub presences: Vec<BlockPresence>,
    /// 1.2.0: bytes the sender still has queued for us.
    pub pending_bytes: i32,
}

/// Where [`Message`] encoding writes: small fields into a buffer, block bytes through
/// [`Sink::data`].
trait Sink {
    /// The buffer for everything but block bytes.
    fn buf(&mut self) -> &mut Vec<u8>;
    /// Appends a length-delimited field holding block bytes.
    fn data(&mut self, field: u32, data: &Bytes);
}

impl Sink for Vec<u8> {
    fn buf(&mut self) -> &mut Vec<u8> {
        self
    }

    fn data(&mut self, field: u32, data: &Bytes) {
        pb::put_bytes(self, field, data);
    }
}

/// A frame being encoded as parts: gathered small fields, and block bytes shared as they are.
#[derive(Default)]
struct Parts {
    parts: Vec<Bytes>,
    small: Vec<u8>,
}

impl Parts {
    fn flush(&mut self) {
        if !self.small.is_empty() {
            self.parts.push(std::mem::take(&mut self.small).into());
        }
    }
}

impl Sink for Parts {
    fn buf(&mut self) -> &mut Vec<u8> {
        &mut self.small
    }

    fn data(&mut self, field: u32, data: &Bytes) {
        pb::put_len_header(&mut self.small, field, data.len());
        self.flush();
        if !data.is_empty() {
            self.parts.push(data.clone());
        }
    }
}

impl Message {
    /// Whether the message carries nothing at all.
    pub fn is_empty(&self) -> bool {
        self.wantlist
            .as_ref()
            .is_none_or(|w| w.entries.is_empty() && !w.full)
            && self.blocks.is_empty()
            && self.payload.is_empty()
            && self.presences.is_empty()
    }

    /// Encodes the message for a peer speaking `version`, dropping what that version lacks.
    pub fn encode(&self, version: Version) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.block_bytes() + 1024);
        self.encode_into(&mut out, version);
        out
    }

    /// Encodes the message as one frame — its length as a uvarint, then the message — in parts
    /// for [`super::protocol::write_frame_parts`] to write one after the other. Block
    /// bytes are parts of their own, shared with the message rather than copied (the muxer
    /// copies them once more anyway); the small fields between them are gathered.
    pub fn encode_frame_parts(&self, version: Version) -> Vec<Bytes> {
        let mut parts = Parts::default();
        self.encode_into(&mut parts, version);
        parts.flush();
        let mut parts = parts.parts;
        let total: usize = parts.iter().map(Bytes::len).sum();
        let mut head = Vec::with_capacity(10 + parts.first().map_or(0, Bytes::len));
        pb::put_varint(&mut head, total as u64);
        // The first part is never block bytes (a field header precedes them): join it.
        if let Some(first) = parts.first_mut() {
            head.extend_from_slice(first);
            *first = head.into();
        } else {
            parts.push(head.into());
        }
        parts
    }

    /// Bytes of block data the message carries.
    fn block_bytes(&self) -> usize {
        let raw: usize = self.blocks.iter().map(|b| b.len()).sum();
        raw + self
            .payload
            .iter()
            .map(|p| p.prefix.len() + p.data.len() + 16)
            .sum::<usize>()
    }

    fn encode_into(&self, out: &mut impl Sink, version: Version) {
        let v12 = version == Version::V1_2_0;
        if let Some(wl) = &self.wantlist {
            let mut w = Vec::new();
            for e in &wl.entries {
                if !v12 && e.want_type == WantType::Have {
                    continue;
                }
                let mut entry = Vec::new();
                pb::put_bytes(&mut entry, 1, &e.cid.to_bytes());
                if e.priority != 0 {
                    pb::put_int32(&mut entry, 2, e.priority);
                }
                if e.cancel {
                    pb::put_uint(&mut entry, 3, 1);
                }
                if v12 && e.want_type == WantType::Have {
                    pb::put_uint(&mut entry, 4, 1);
                }
                if v12 && e.send_dont_have {
                    pb::put_uint(&mut entry, 5, 1);
                }
                pb::put_bytes(&mut w, 1, &entry);
            }
            if wl.full {
                pb::put_uint(&mut w, 2, 1);
            }
            pb::put_bytes(out.buf(), 1, &w);
        }
        if version == Version::V1_0_0 {
            for data in self
                .blocks
                .iter()
                .chain(self.payload.iter().map(|p| &p.data))
            {
                out.data(2, data);
            }
        } else {
            for data in &self.blocks {
                out.data(2, data);
            }
            for p in &self.payload {
                // the sub-message is written in place, so block bytes are copied once
                let inner =
                    pb::bytes_field_len(1, p.prefix.len()) + pb::bytes_field_len(2, p.data.len());
                pb::put_len_header(out.buf(), 3, inner);
                pb::put_bytes(out.buf(), 1, &p.prefix);
                out.data(2, &p.data);
            }
        }
        if v12 {
            for bp in &self.presences {
                let mut p = Vec::new();
                pb::put_bytes(&mut p, 1, &bp.cid.to_bytes());
                if bp.presence == Presence::DontHave {
                    pb::put_uint(&mut p, 2, 1);
                }
                pb::put_bytes(out.buf(), 4, &p);
            }
            if self.pending_bytes != 0 {
                pb::put_int32(out.buf(), 5, self.pending_bytes);
            }
        }
    }

    /// Decodes one message (the bytes of one frame, without its length prefix).
    pub fn decode(buf: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_frame(&Bytes::copy_from_slice(buf))
    }

    /// Decodes one frame; block bytes are slices of `frame`, not copies.
    pub fn decode_frame(frame: &Bytes) -> Result<Self, DecodeError> {
        Self::decode_frame_capped(frame, DecodeCaps::NONE).map(|(msg, _)| msg)
    }

    /// Decodes one received frame under `caps`: past `caps.max_entries` wantlist entries the
    /// whole wantlist is left undecoded (only counted), past `caps.max_entries` presences the
    /// rest are, and entries and presences whose CID is longer than `caps.max_cid_len` are
    /// dropped unparsed. A flood of entries costs one scan of the frame, no CID parsing.
    pub fn decode_frame_capped(
        frame: &Bytes,
        caps: DecodeCaps,
    ) -> Result<(Self, Skipped), DecodeError> {
        let mut msg = Message::default();
        let mut skipped = Skipped::default();
        for field in Fields::new(frame) {
            match field? {
                (1, Value::Bytes(b)) => {
                    let wl = msg.wantlist.get_or_insert_with(Wantlist::default);
                    decode_wantlist(b, wl, caps, &mut skipped)?;
                }
                (2, Value::Bytes(b)) => msg.blocks.push(frame.slice_ref(b)),
                (3, Value::Bytes(b)) => msg.payload.push(decode_payload(b, frame)?),
                (4, Value::Bytes(b)) => {
                    if msg.presences.len() >= caps.max_entries {
                        skipped.presences_over_cap += 1;
                    } else if let Some(p) = decode_presence(b, caps, &mut skipped)? {
                        msg.presences.push(p);
                    }
                }
                (5, Value::Varint(v)) => msg.pending_bytes = v as i32,
                (n @ 1..=5, _) => return Err(DecodeError::WireType(n)),
                _ => {}
            }
        }
        if skipped.wants_over_cap > 0
            && let Some(wl) = &mut msg.wantlist
        {
            wl.entries.clear();
        }
        Ok((msg, skipped))
    }
}

/// Caps applied while decoding a received message ([`Message::decode_frame_capped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeCaps {
    /// Most wantlist entries, and most block presences, decoded.
    pub max_entries: usize,
    /// Longest CID (bytes) decoded in an entry or presence.
    pub max_cid_len: usize,
}

impl DecodeCaps {
    /// No caps.
    pub const NONE: DecodeCaps = DecodeCaps {
        max_entries: usize::MAX,
        max_cid_len: usize::MAX,
    };
}

/// What [`Message::decode_frame_capped`] left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Wantlist entries of a wantlist over the cap: all of them (the wantlist is left empty).
    pub wants_over_cap: usize,
    /// Block presences past the cap.
    pub presences_over_cap: usize,
    /// Entries and presences dropped for a CID over the length cap.
    pub long_cids: usize,
}

/// Counts a frame's wantlist entries and block presences while its bytes arrive, so a frame
/// over the cap is refused before the rest of it is read (a 4 MiB flood frame after its first
/// ~4096 entries). Only field headers are read, never CIDs or block bytes; anything malformed
/// stops the count (decoding the whole frame reports it).
#[derive(Debug, Default)]
pub struct EntryScan {
    /// Where the next top-level field starts.
    pos: usize,
    /// Inside a wantlist field: where its next entry starts, and where it ends.
    wantlist: Option<(usize, usize)>,
    stopped: bool,
    /// Wantlist entries seen so far.
    pub wants: usize,
    /// Block presences seen so far.
    pub presences: usize,
}

/// A field header read by [`EntryScan`].
enum Header {
    /// Not all of it has arrived.
    Incomplete,
    /// Not a field header.
    Bad,
    /// Field `number` (length-delimited when `len`); the next field starts at `next`.
    Field {
        number: u64,
        len: bool,
        body: usize,
        next: usize,
    },
}

/// A varint at `at` in `buf`: its value and end, `Ok(None)` if it has not all arrived.
fn varint_at(buf: &[u8], at: usize) -> Result<Option<(u64, usize)>, ()> {
    let avail = buf.get(at..).unwrap_or(&[]);
    match pb::get_varint(avail) {
        Ok((v, n)) => Ok(Some((v, at + n))),
        Err(_) if avail.len() < 10 && avail.iter().all(|b| b & 0x80 != 0) => Ok(None),
        Err(_) => Err(()),
    }
}

fn header_at(buf: &[u8], at: usize) -> Header {
    let Ok(key) = varint_at(buf, at) else {
        return Header::Bad;
    };
    let Some((key, after)) = key else {
        return Header::Incomplete;
    };
    let (number, wire) = (key >> 3, (key & 7) as u8);
    let end = |n: usize| after.checked_add(n);
    let (len, body, next) = match wire {
        pb::VARINT => match varint_at(buf, after) {
            Ok(Some((_, next))) => (false, after, Some(next)),
            Ok(None) => return Header::Incomplete,
            Err(()) => return Header::Bad,
        },
        pb::LEN => match varint_at(buf, after) {
            Ok(Some((n, body))) => (
                true,
                body,
                usize::try_from(n).ok().and_then(|n| body.checked_add(n)),
            ),
            Ok(None) => return Header::Incomplete,
            Err(()) => return Header::Bad,
        },
        1 => (false, after, end(8)),
        5 => (false, after, end(4)),
        _ => return Header::Bad,
    };
    match next {
        Some(next) if number != 0 => Header::Field {
            number,
            len,
            body,
            next,
        },
        _ => Header::Bad,
    }
}

impl EntryScan {
    /// Counts on through `buf`, the frame's bytes that have arrived so far.
    pub fn advance(&mut self, buf: &[u8]) {
        while !self.stopped {
            let at = match self.wantlist {
                Some((at, end)) if at >= end => {
                    self.wantlist = None;
                    self.pos = end;
                    continue;
                }
                Some((at, _)) => at,
                None => self.pos,
            };
            if at >= buf.len() {
                return;
            }
            match header_at(buf, at) {
                Header::Incomplete => return,
                Header::Bad => self.stopped = true,
                Header::Field {
                    number,
                    len,
                    body,
                    next,
                } => match &mut self.wantlist {
                    Some((inner, end)) => {
                        if next > *end {
                            self.stopped = true;
                        }
                        self.wants += usize::from(number == 1 && len);
                        *inner = next;
                    }
                    None if number == 1 && len => self.wantlist = Some((body, next)),
                    None => {
                        self.presences += usize::from(number == 4 && len);
                        self.pos = next;
                    }
                },
            }
        }
    }
}

fn cid_from(bytes: &[u8]) -> Result<Cid, DecodeError> {
    Cid::try_from(bytes).map_err(|e| DecodeError::Cid(e.to_string()))
}

/// Adds the entries of one wantlist field to `wl` (protobuf merges repeated message fields).
fn decode_wantlist(
    buf: &[u8],
    wl: &mut Wantlist,
    caps: DecodeCaps,
    skipped: &mut Skipped,
) -> Result<(), DecodeError> {
    // count first: an over-cap wantlist is refused whole, so none of its CIDs is parsed
    let mut count = 0;
    for field in Fields::new(buf) {
        match field? {
            (1, Value::Bytes(_)) => count += 1,
            (2, Value::Varint(v)) => wl.full |= v != 0,
            (n @ 1..=2, _) => return Err(DecodeError::WireType(n)),
            _ => {}
        }
    }
    if skipped.wants_over_cap > 0 || wl.entries.len() + count > caps.max_entries {
        skipped.wants_over_cap += wl.entries.len() + count;
        wl.entries.clear();
        return Ok(());
    }
    for field in Fields::new(buf) {
        if let (1, Value::Bytes(b)) = field? {
            match decode_entry(b, caps)? {
                Some(e) => wl.entries.push(e),
                None => skipped.long_cids += 1,
            }
        }
    }
    Ok(())
}

/// One entry, or `None` when its CID is over the length cap.
fn decode_entry(buf: &[u8], caps: DecodeCaps) -> Result<Option<WantEntry>, DecodeError> {
    let (mut cid, mut priority, mut cancel, mut have, mut sdh) = (None, 0, false, false, false);
    let mut too_long = false;
    for field in Fields::new(buf) {
        match field? {
            (1, Value::Bytes(b)) if b.len() > caps.max_cid_len => too_long = true,
            (1, Value::Bytes(b)) => cid = Some(cid_from(b)?),
            (2, Value::Varint(v)) => priority = v as i32,
            (3, Value::Varint(v)) => cancel = v != 0,
            (4, Value::Varint(v)) => have = v == 1,
            (5, Value::Varint(v)) => sdh = v != 0,
            (n @ 1..=5, _) => return Err(DecodeError::WireType(n)),
            _ => {}
        }
    }
    if too_long {
        return Ok(None);
    }
    Ok(Some(WantEntry {
        cid: cid.ok_or_else(|| DecodeError::Cid("missing".into()))?,
        priority,
        cancel,
        want_type: if have {
            WantType::Have
        } else {
            WantType::Block
        },
        send_dont_have: sdh,
    }))
}

fn decode_payload(buf: &[u8], frame: &Bytes) -> Result<PayloadBlock, DecodeError> {
    let mut block = PayloadBlock {
        prefix: Vec::new(),
        data: Bytes::new(),
    };
    for field in Fields::new(buf) {
        match field? {
            (1, Value::Bytes(b)) => block.prefix = b.to_vec(),
            (2, Value::Bytes(b)) => block.data = frame.slice_ref(b),
            (n @ 1..=2, _) => return Err(DecodeError::WireType(n)),
            _ => {}
        }
    }
    Ok(block)
}

/// One presence, or `None` when its CID is over the length cap.
fn decode_presence(
    buf: &[u8],
    caps: DecodeCaps,
    skipped: &mut Skipped,
) -> Result<Option<BlockPresence>, DecodeError> {
    let (mut cid, mut dont_have, mut too_long) = (None, false, false);
    for field in Fields::new(buf) {
        match field? {
            (1, Value::Bytes(b)) if b.len() > caps.max_cid_len => too_long = true,
            (1, Value::Bytes(b)) => cid = Some(cid_from(b)?),
            (2, Value::Varint(v)) => dont_have = v == 1,
            (n @ 1..=2, _) => return Err(DecodeError::WireType(n)),
            _ => {}
        }
    }
    if too_long {
        skipped.long_cids += 1;
        return Ok(None);
    }
    Ok(Some(BlockPresence {
        cid: cid.ok_or_else(|| DecodeError::Cid("missing".into()))?,
        presence: if dont_have {
            Presence::DontHave
        } else {
            Presence::Have
        },
    }))
}
