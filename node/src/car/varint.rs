//! Unsigned LEB128 varints as used by CAR length prefixes (minimal encoding, ≤ 9 bytes).

use std::io::{ErrorKind, Read, Write};

use super::CarError;

/// Longest varint multiformats allows (63 bits of payload).
const MAX_VARINT_LEN: usize = 9;

/// Reads one varint. `Ok(None)` means clean end of stream before its first byte;
/// end of stream inside the varint is [`CarError::Truncated`] naming `what`.
pub(super) fn read_uvarint<R: Read>(r: &mut R, what: &str) -> Result<Option<u64>, CarError> {
    let mut value: u64 = 0;
    for i in 0..MAX_VARINT_LEN {
        let mut byte = [0u8; 1];
        loop {
            match r.read(&mut byte) {
                Ok(0) if i == 0 => return Ok(None),
                Ok(0) => {
                    return Err(CarError::Truncated(format!("stream ends inside {what}")));
                }
                Ok(_) => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        value |= u64::from(byte[0] & 0x7f) << (7 * i);
        if byte[0] & 0x80 == 0 {
            if byte[0] == 0 && i > 0 {
                return Err(CarError::BadSection(format!(
                    "{what} is not minimally encoded"
                )));
            }
            return Ok(Some(value));
        }
    }
    Err(CarError::BadSection(format!(
        "{what} is longer than 9 bytes"
    )))
}

/// Writes `value` as a minimal varint.
pub(super) fn write_uvarint<W: Write>(w: &mut W, value: u64) -> std::io::Result<()> {
    let mut buf = unsigned_varint::encode::u64_buffer();
    w.write_all(unsigned_varint::encode::u64(value, &mut buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_bad_encodings() {
        for v in [0, 1, 127, 128, 300, 8 << 20, u64::MAX >> 1] {
            let mut buf = Vec::new();
            write_uvarint(&mut buf, v).unwrap();
            assert_eq!(read_uvarint(&mut &buf[..], "len").unwrap(), Some(v));
        }
        assert_eq!(read_uvarint(&mut &[][..], "len").unwrap(), None);
        let trunc = read_uvarint(&mut &[0x80][..], "len").unwrap_err();
        assert!(trunc.to_string().starts_with("truncated CAR"), "{trunc}");
        assert!(read_uvarint(&mut &[0x80, 0x00][..], "len").is_err());
        assert!(read_uvarint(&mut &[0xff; 10][..], "len").is_err());
    }
}
