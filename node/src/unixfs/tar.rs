//! `get` over the RPC: a UnixFS file or directory tree as a tar stream (like Kubo's `get`).
//! ustar headers; names, link targets or sizes that do not fit are carried in PAX records.

use crate::blocks::BlockSource;
use crate::error::{Error, Result};
use cid::Cid;
use rust_unixfs::walk::{ContinuedWalk, Walker};
use std::io::Write;

const BLOCK: usize = 512;
/// Largest size a ustar header holds (11 octal digits).
const MAX_USTAR_SIZE: u64 = 0o77_777_777_777;

/// Writes the DAG at `cid` to `out` as a tar archive whose top entry is called `name`
/// (directories as `name/…`). Returns the number of content bytes written.
pub fn export_tar(
    src: &dyn BlockSource,
    cid: &Cid,
    name: &str,
    out: &mut dyn Write,
) -> Result<u64> {
    if name.is_empty() || name.split('/').any(|s| s.is_empty() || s == "..") {
        return Err(Error::InvalidInput(format!(
            "bad archive entry name `{name}`"
        )));
    }
    let mtime = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut walker = Walker::new(*cid, name.to_string());
    let mut cache = None;
    let mut written = 0u64;
    let mut file_len = 0u64;
    while walker.should_continue() {
        let next = *walker.pending_links().0;
        let block = src.get_block(&next)?;
        let step = walker.next(&block, &mut cache).map_err(|e| Error::Decode {
            cid: next.to_string(),
            reason: e.to_string(),
        })?;
        match step {
            ContinuedWalk::Bucket(..) => {}
            ContinuedWalk::RootDirectory(_, path, _) | ContinuedWalk::Directory(_, path, _) => {
                let path = format!("{}/", entry_name(path)?);
                header(out, &path, b'5', 0, 0o755, "", mtime)?;
            }
            ContinuedWalk::File(segment, _, path, _, total) => {
                if segment.is_first() {
                    header(out, &entry_name(path)?, b'0', total, 0o644, "", mtime)?;
                    file_len = 0;
                }
                out.write_all(segment.as_bytes())?;
                file_len += segment.as_bytes().len() as u64;
                written += segment.as_bytes().len() as u64;
                if segment.is_last() {
                    if file_len != total {
                        return Err(Error::Decode {
                            cid: next.to_string(),
                            reason: format!("file has {file_len} bytes, its root says {total}"),
                        });
                    }
                    pad(out, file_len)?;
                }
            }
            ContinuedWalk::Symlink(target, _, path, _) => {
                let target = std::str::from_utf8(target).map_err(|_| {
                    Error::InvalidInput(format!("{}: symlink target is not UTF-8", path.display()))
                })?;
                header(out, &entry_name(path)?, b'2', 0, 0o777, target, mtime)?;
            }
        }
    }
    out.write_all(&[0u8; 2 * BLOCK])?;
    Ok(written)
}

fn entry_name(path: &std::path::Path) -> Result<String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidInput(format!("{}: name is not UTF-8", path.display())))
}

fn pad(out: &mut dyn Write, len: u64) -> Result<()> {
    let rem = (len % BLOCK as u64) as usize;
    if rem != 0 {
        out.write_all(&[0u8; BLOCK][..BLOCK - rem])?;
    }
    Ok(())
}

/// One PAX record: `"<len> key=value\n"` where `len` counts the whole record.
fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while len.to_string().len() + body.len() != len {
        len = len.to_string().len() + body.len();
    }
    format!("{len}{body}")
}

fn header(
    out: &mut dyn Write,
    path: &str,
    kind: u8,
    size: u64,
    mode: u32,
    link: &str,
    mtime: u64,
) -> Result<()> {
    let mut pax = String::new();
    if path.len() > 100 {
        pax.push_str(&pax_record("path", path));
    }
    if link.len() > 100 {
        pax.push_str(&pax_record("linkpath", link));
    }
    if size > MAX_USTAR_SIZE {
        pax.push_str(&pax_record("size", &size.to_string()));
    }
    if !pax.is_empty() {
        out.write_all(&ustar(
            "././@PaxHeader",
            b'x',
            pax.len() as u64,
            0o644,
            "",
            mtime,
        ))?;
        out.write_all(pax.as_bytes())?;
        pad(out, pax.len() as u64)?;
    }
    out.write_all(&ustar(
        path,
        kind,
        size.min(MAX_USTAR_SIZE),
        mode,
        link,
        mtime,
    ))?;
    Ok(())
}

/// A ustar header block; over-long fields are truncated (the PAX record before it wins).
fn ustar(path: &str, kind: u8, size: u64, mode: u32, link: &str, mtime: u64) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let put = |h: &mut [u8; BLOCK], at: usize, len: usize, bytes: &[u8]| {
        let n = bytes.len().min(len);
        h[at..at + n].copy_from_slice(&bytes[..n]);
    };
    put(&mut h, 0, 100, path.as_bytes());
    put(&mut h, 100, 8, format!("{mode:07o}\0").as_bytes());
    put(&mut h, 108, 8, b"0000000\0");
    put(&mut h, 116, 8, b"0000000\0");
    put(&mut h, 124, 12, format!("{size:011o}\0").as_bytes());
    put(
        &mut h,
        136,
        12,
        format!("{:011o}\0", mtime.min(MAX_USTAR_SIZE)).as_bytes(),
    );
    h[156] = kind;
    put(&mut h, 157, 100, link.as_bytes());
    put(&mut h, 257, 8, b"ustar\x0000");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, 8, format!("{sum:06o}\0 ").as_bytes());
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_records_count_their_own_length() {
        for v in ["a", &"x".repeat(90), &"y".repeat(95), &"z".repeat(996)] {
            let r = pax_record("path", v);
            let (len, _) = r.split_once(' ').unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), r.len(), "{r}");
        }
    }

    #[test]
    fn header_checksum_is_valid() {
        let h = ustar("dir/file.txt", b'0', 1234, 0o644, "", 1_700_000_000);
        let stored = std::str::from_utf8(&h[148..154]).unwrap();
        let mut copy = h;
        copy[148..156].copy_from_slice(b"        ");
        let sum: u32 = copy.iter().map(|&b| u32::from(b)).sum();
        assert_eq!(u32::from_str_radix(stored, 8).unwrap(), sum);
        assert_eq!(&h[124..136], b"00000002322\0");
    }
}
