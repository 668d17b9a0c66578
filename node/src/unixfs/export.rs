//! `get`: writing a UnixFS file or directory tree to the filesystem.

use crate::blocks::BlockSource;
use crate::error::{Error, Result};
use cid::Cid;
use rust_unixfs::walk::{ContinuedWalk, Walker};
use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Writes the DAG at `cid` to `out` (a file, or a directory tree). Refuses entries whose names
/// would escape `out`. Returns the number of content bytes written.
pub fn export_to_path(src: &dyn BlockSource, cid: &Cid, out: &Path) -> Result<u64> {
    let mut walker = Walker::new(*cid, String::new());
    let mut cache = None;
    let mut file: Option<fs::File> = None;
    let mut written = 0u64;
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
                let dir = target(out, path)?;
                fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            }
            ContinuedWalk::File(segment, _, path, _, _) => {
                let dest = target(out, path)?;
                if segment.is_first() {
                    if let Some(parent) = dest.parent() {
                        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                    }
                    file = Some(fs::File::create(&dest).map_err(|e| Error::io(&dest, e))?);
                }
                let f = file.as_mut().expect("file opened at its first segment");
                f.write_all(segment.as_bytes())
                    .map_err(|e| Error::io(&dest, e))?;
                written += segment.as_bytes().len() as u64;
                if segment.is_last() {
                    file = None;
                }
            }
            ContinuedWalk::Symlink(bytes, _, path, _) => {
                let dest = target(out, path)?;
                let link = std::str::from_utf8(bytes).map_err(|_| {
                    Error::InvalidInput(format!("{}: symlink target is not UTF-8", dest.display()))
                })?;
                if let Some(parent) = dest.parent() {
                    fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                }
                #[cfg(unix)]
                std::os::unix::fs::symlink(link, &dest).map_err(|e| Error::io(&dest, e))?;
                #[cfg(not(unix))]
                fs::write(&dest, link).map_err(|e| Error::io(&dest, e))?;
            }
        }
    }
    Ok(written)
}

/// Joins a walker path (relative, starting at the root entry) to `out`, refusing `..`, absolute
/// paths and other components that would leave `out`.
fn target(out: &Path, rel: &Path) -> Result<PathBuf> {
    let mut dest = out.to_path_buf();
    for comp in rel.components() {
        match comp {
            Component::Normal(c) => dest.push(c),
            Component::CurDir => {}
            _ => {
                return Err(Error::InvalidInput(format!(
                    "refusing unsafe entry name `{}`",
                    rel.display()
                )));
            }
        }
    }
    Ok(dest)
}
