//! RFC 3339 timestamps as IPNS writes them (Go's `time.RFC3339Nano` in UTC:
//! nanosecond fraction with trailing zeros trimmed, `Z` suffix).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::error::{IpnsError, Result};

const SECS_PER_DAY: i64 = 86_400;

/// Formats `t` the way boxo/Kubo do, e.g. `2123-04-12T15:32:22.646144Z`.
///
/// Fails for instants outside years 0000–9999, which RFC 3339 cannot express.
pub fn format_rfc3339(t: SystemTime) -> Result<String> {
    let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (i64::try_from(d.as_secs()), d.subsec_nanos()),
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).map(|s| -s);
            match d.subsec_nanos() {
                0 => (whole, 0),
                n => (whole.map(|s| s - 1), 1_000_000_000 - n),
            }
        }
    };
    let secs = secs.map_err(|_| IpnsError::OutOfRange("validity"))?;
    let days = secs.div_euclid(SECS_PER_DAY);
    let tod = secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return Err(IpnsError::OutOfRange("validity"));
    }
    let mut s = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    );
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    Ok(s)
}

/// Parses an RFC 3339 date-time (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`).
pub fn parse_rfc3339(s: &str) -> Result<SystemTime> {
    let bad = || IpnsError::InvalidValidity(s.chars().take(64).collect());
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' {
        return Err(bad());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    let y = digits(&b[0..4]).ok_or_else(bad)?;
    let mo = digits(&b[5..7]).ok_or_else(bad)?;
    let d = digits(&b[8..10]).ok_or_else(bad)?;
    let h = digits(&b[11..13]).ok_or_else(bad)?;
    let mi = digits(&b[14..16]).ok_or_else(bad)?;
    let se = digits(&b[17..19]).ok_or_else(bad)?;
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 {
        return Err(bad());
    }
    if se > 59 {
        return Err(bad());
    }
    let mut rest = &b[19..];
    let mut nanos: i64 = 0;
    if let Some((b'.', tail)) = rest.split_first() {
        let n = tail.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err(bad());
        }
        nanos = digits(&tail[..n]).ok_or_else(bad)? * 10i64.pow(9 - n as u32);
        rest = &tail[n..];
    }
    let offset = match rest {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), oh1, oh2, b':', om1, om2] => {
            let oh = digits(&[*oh1, *oh2]).ok_or_else(bad)?;
            let om = digits(&[*om1, *om2]).ok_or_else(bad)?;
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let off = oh * 3600 + om * 60;
            if *sign == b'+' { off } else { -off }
        }
        _ => return Err(bad()),
    };
    let secs = days_from_civil(y, mo, d) * SECS_PER_DAY + h * 3600 + mi * 60 + se - offset;
    let total = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    let (dir_forward, mag) = (total >= 0, total.unsigned_abs());
    let dur = Duration::new(
        u64::try_from(mag / 1_000_000_000).map_err(|_| bad())?,
        (mag % 1_000_000_000) as u32,
    );
    let t = if dir_forward {
        UNIX_EPOCH.checked_add(dur)
    } else {
        UNIX_EPOCH.checked_sub(dur)
    };
    t.ok_or_else(bad)
}

/// Parses a run of ASCII digits; `None` if any byte is not a digit.
fn digits(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day) for days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, nanos: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(secs, nanos)
    }

    #[test]
    fn formats_like_go_rfc3339nano() {
        assert_eq!(format_rfc3339(at(0, 0)).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_rfc3339(at(0, 1)).unwrap(),
            "1970-01-01T00:00:00.000000001Z"
        );
        assert_eq!(
            format_rfc3339(at(951_782_400, 500_000_000)).unwrap(),
            "2000-02-29T00:00:00.5Z"
        );
    }

    #[test]
    fn round_trips_fixture_timestamps() {
        for s in [
            "2123-04-12T15:32:22.646144Z",
            "2126-01-31T15:56:12.714899293Z",
            "1969-12-31T23:59:59.999Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
        ] {
            let t = parse_rfc3339(s).unwrap();
            assert_eq!(format_rfc3339(t).unwrap(), s);
        }
    }

    #[test]
    fn parses_offsets() {
        let z = parse_rfc3339("2024-03-01T12:00:00Z").unwrap();
        assert_eq!(parse_rfc3339("2024-03-01T14:30:00+02:30").unwrap(), z);
        assert_eq!(parse_rfc3339("2024-03-01T11:00:00-01:00").unwrap(), z);
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            "2024-02-30T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00.1234567890Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00+0100",
            "２024-01-01T00:00:00Z",
        ] {
            assert!(parse_rfc3339(s).is_err(), "{s}");
        }
    }
}
