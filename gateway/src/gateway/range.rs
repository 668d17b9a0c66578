//! `Range: bytes=…` parsing (RFC 9110 §14.1.2), clamped to a known size.

/// Most ranges accepted in one request; more is refused as abuse.
pub const MAX_RANGES: usize = 32;

/// One satisfiable range, `start..=end` (inclusive), within the representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Always false: a range holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Why a `Range` header cannot be served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// Not a byte-range set we understand (→ 400).
    Malformed(String),
    /// Well-formed, but no range overlaps the representation (→ 416).
    Unsatisfiable,
}

/// Parses `header` for a representation of `size` bytes. Ranges past the end are dropped or
/// clamped; if none remain the request is [`RangeError::Unsatisfiable`].
pub fn parse_range(header: &str, size: u64) -> Result<Vec<ByteRange>, RangeError> {
    let malformed = |why: &str| RangeError::Malformed(format!("malformed Range header: {why}"));
    let header = header.trim();
    let Some((unit, set)) = header.split_once('=') else {
        return Err(malformed("expected `bytes=<first>-<last>`"));
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Err(malformed("only the `bytes` unit is supported"));
    }
    let specs: Vec<&str> = set.split(',').map(str::trim).collect();
    if specs.len() > MAX_RANGES {
        return Err(RangeError::Malformed(format!(
            "too many ranges in Range header ({}, at most {MAX_RANGES})",
            specs.len()
        )));
    }
    let number = |s: &str| -> Result<u64, RangeError> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed(&format!("`{s}` is not a byte position")));
        }
        s.parse::<u64>()
            .map_err(|_| malformed(&format!("byte position `{s}` is too large")))
    };
    let mut out = Vec::new();
    for spec in specs {
        let Some((first, last)) = spec.split_once('-') else {
            return Err(malformed(&format!("range `{spec}` has no `-`")));
        };
        let (first, last) = (first.trim(), last.trim());
        if first.is_empty() {
            // suffix range: the last N bytes
            let n = number(last)?;
            if n > 0 && size > 0 {
                out.push(ByteRange {
                    start: size.saturating_sub(n),
                    end: size - 1,
                });
            }
            continue;
        }
        let start = number(first)?;
        let end = if last.is_empty() {
            u64::MAX
        } else {
            number(last)?
        };
        if end < start {
            return Err(malformed(&format!("range `{spec}` ends before it starts")));
        }
        if start < size {
            out.push(ByteRange {
                start,
                end: end.min(size - 1),
            });
        }
    }
    if out.is_empty() {
        return Err(RangeError::Unsatisfiable);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn forms() {
        assert_eq!(parse_range("bytes=6-16", 31), Ok(vec![r(6, 16)]));
        assert_eq!(parse_range("bytes=-3", 31), Ok(vec![r(28, 30)]));
        assert_eq!(parse_range("bytes=20-", 31), Ok(vec![r(20, 30)]));
        assert_eq!(parse_range("bytes=0-999", 31), Ok(vec![r(0, 30)]));
        assert_eq!(parse_range("bytes=-100", 31), Ok(vec![r(0, 30)]));
        assert_eq!(
            parse_range("bytes=6-16, 0-4", 31),
            Ok(vec![r(6, 16), r(0, 4)])
        );
        assert_eq!(parse_range("bytes=40-50,0-0", 31), Ok(vec![r(0, 0)]));
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_range("bytes=40-50", 31),
            Err(RangeError::Unsatisfiable)
        );
        assert_eq!(parse_range("bytes=-0", 31), Err(RangeError::Unsatisfiable));
        assert_eq!(parse_range("bytes=0-", 0), Err(RangeError::Unsatisfiable));
        for bad in [
            "bytes",
            "items=0-1",
            "bytes=a-b",
            "bytes=5-1",
            "bytes=1",
            "bytes=--1",
            "bytes=99999999999999999999999-",
            "bytes=+1-2",
            "bytes=,",
        ] {
            assert!(
                matches!(parse_range(bad, 31), Err(RangeError::Malformed(_))),
                "{bad}"
            );
        }
        let many = format!("bytes={}", vec!["0-0"; 33].join(","));
        assert!(matches!(
            parse_range(&many, 31),
            Err(RangeError::Malformed(_))
        ));
    }
}
