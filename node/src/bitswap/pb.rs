//! Minimal protobuf wire-format primitives for the hand-written Bitswap codec.
//!
//! Only what `message.proto` needs: varints, length-delimited fields, and skipping of
//! unknown fields (fixed32/fixed64 included) so newer peers' extra fields are ignored.

use super::message::DecodeError;

/// Wire type of a varint field.
pub(super) const VARINT: u8 = 0;
/// Wire type of a length-delimited field (bytes, strings, sub-messages).
pub(super) const LEN: u8 = 2;

/// Appends `v` as an unsigned LEB128 varint.
pub(super) fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint (at most 10 bytes, non-minimal encodings accepted like protobuf does).
/// Returns the value and the number of bytes consumed.
pub(super) fn get_varint(buf: &[u8]) -> Result<(u64, usize), DecodeError> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return Err(DecodeError::Varint);
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(DecodeError::Varint)
}

/// Appends a field key.
fn put_key(out: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(out, (u64::from(field) << 3) | u64::from(wire));
}

/// Appends a length-delimited field.
pub(super) fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_len_header(out, field, bytes.len());
    out.extend_from_slice(bytes);
}

/// Appends the key and length of a length-delimited field whose `len` bytes follow.
pub(super) fn put_len_header(out: &mut Vec<u8>, field: u32, len: usize) {
    put_key(out, field, LEN);
    put_varint(out, len as u64);
}

/// Encoded size of a uvarint.
pub(super) fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Encoded size of a length-delimited field with a `len`-byte body.
pub(super) fn bytes_field_len(field: u32, len: usize) -> usize {
    varint_len((u64::from(field) << 3) | u64::from(LEN)) + varint_len(len as u64) + len
}

/// Appends a varint field.
pub(super) fn put_uint(out: &mut Vec<u8>, field: u32, v: u64) {
    put_key(out, field, VARINT);
    put_varint(out, v);
}

/// Appends an `int32` field (negative values are sign-extended to 10 bytes, as protobuf does).
pub(super) fn put_int32(out: &mut Vec<u8>, field: u32, v: i32) {
    put_uint(out, field, i64::from(v) as u64);
}

/// One decoded field value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    /// A varint.
    Varint(u64),
    /// A length-delimited byte string.
    Bytes(&'a [u8]),
    /// A fixed32/fixed64 value (never used by Bitswap; skipped).
    Fixed,
}

/// Iterates over the fields of one protobuf message.
pub(super) struct Fields<'a> {
    buf: &'a [u8],
}

impl<'a> Fields<'a> {
    /// Starts reading `buf`.
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Fields { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let (v, n) = get_varint(self.buf)?;
        self.buf = &self.buf[n..];
        Ok(v)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Value<'a>), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        let field = (|| {
            let key = self.varint()?;
            let number = u32::try_from(key >> 3).map_err(|_| DecodeError::BadKey)?;
            if number == 0 {
                return Err(DecodeError::BadKey);
            }
            let value = match (key & 7) as u8 {
                VARINT => Value::Varint(self.varint()?),
                LEN => {
                    let len =
                        usize::try_from(self.varint()?).map_err(|_| DecodeError::Truncated)?;
                    Value::Bytes(self.take(len)?)
                }
                1 => {
                    self.take(8)?;
                    Value::Fixed
                }
                5 => {
                    self.take(4)?;
                    Value::Fixed
                }
                _ => return Err(DecodeError::BadKey),
            };
            Ok((number, value))
        })();
        if field.is_err() {
            self.buf = &[];
        }
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computed_lengths_match_what_is_written() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            1 << 21,
            1 << 35,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(varint_len(v), out.len(), "{v}");
        }
        for len in [0usize, 5, 200, 70_000] {
            let mut out = Vec::new();
            put_bytes(&mut out, 3, &vec![1; len]);
            assert_eq!(bytes_field_len(3, len), out.len(), "{len}");
        }
    }

    #[test]
    fn varints_round_trip_and_reject_overflow() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(get_varint(&out).unwrap(), (v, out.len()));
        }
        assert!(get_varint(&[0x80; 11]).is_err());
        assert!(get_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).is_err());
        assert!(get_varint(&[0x80]).is_err());
        // Non-minimal but valid protobuf encoding of 1.
        assert_eq!(get_varint(&[0x81, 0x00]).unwrap(), (1, 2));
    }

    #[test]
    fn negative_int32_is_ten_bytes() {
        let mut out = Vec::new();
        put_int32(&mut out, 2, -1);
        assert_eq!(
            out,
            [
                0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01
            ]
        );
    }

    #[test]
    fn fields_skip_fixed_and_fail_on_truncation() {
        let buf = [0x09, 1, 2, 3, 4, 5, 6, 7, 8, 0x15, 1, 2, 3, 4, 0x18, 0x05];
        let fields: Vec<_> = Fields::new(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(fields.len(), 3);
        assert!(matches!(fields[2], (3, Value::Varint(5))));
        let bad = [0x0a, 0x05, 1, 2];
        assert!(Fields::new(&bad).any(|f| f.is_err()));
        assert!(Fields::new(&[0x00, 0x01]).next().unwrap().is_err());
    }
}
