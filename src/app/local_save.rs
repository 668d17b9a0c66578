//! The first and only step a capture waits for: an atomic, durable file on local disk
//! (temporary file in the same directory, fsync, rename, fsync of the directory). A kill -9 at
//! any moment leaves either the whole file or nothing under the final name; leftovers are
//! temporary files that [`remove_leftovers`] deletes at startup.

use anyhow::{Context, Result, bail};
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Prefix of temporary files (never listed as captures).
pub const TEMP_PREFIX: &str = ".wanda-tmp-";

/// The disk cannot take a capture without going under the configured reserve.
#[derive(Debug, thiserror::Error)]
#[error(
    "storage full: saving {needed} bytes would leave less than the {reserve} bytes kept free \
     on {dir} ({available} available)"
)]
pub struct StorageFull {
    /// Bytes to write.
    pub needed: u64,
    /// Bytes available to us.
    pub available: u64,
    /// Bytes that must stay free (`captures.min_free_space`).
    pub reserve: u64,
    /// The directory.
    pub dir: String,
}

/// Bytes available to an unprivileged writer on the filesystem holding `dir`.
pub fn available_bytes(dir: &Path) -> Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes())
        .context("directory name contains NUL")?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a writable statvfs.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("statvfs {}", dir.display()));
    }
    Ok(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Fails with [`StorageFull`] when writing `needed` bytes into `dir` would leave less than
/// `reserve` bytes free.
pub fn check_space(dir: &Path, needed: u64, reserve: u64) -> Result<()> {
    let available = available_bytes(dir)?;
    if available < needed.saturating_add(reserve) {
        return Err(StorageFull {
            needed,
            available,
            reserve,
            dir: dir.display().to_string(),
        }
        .into());
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` atomically and durably. Refuses to overwrite an existing file.
pub fn save_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        bail!("invalid capture file name {name:?}");
    }
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let final_path = dir.join(name);
    if final_path.exists() {
        bail!("{} already exists", final_path.display());
    }
    let tmp = dir.join(format!("{TEMP_PREFIX}{name}"));
    let result = (|| -> std::io::Result<()> {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, &final_path)?;
        File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(e).with_context(|| format!("cannot save {}", final_path.display()));
    }
    Ok(final_path)
}

/// Deletes temporary files left by a crash under `dir` (recursively). Returns how many.
pub fn remove_leftovers(dir: &Path) -> Result<usize> {
    let mut n = 0;
    let Ok(rd) = fs::read_dir(dir) else {
        return Ok(0);
    };
    for entry in rd.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            n += remove_leftovers(&path)?;
        } else if name.to_string_lossy().starts_with(TEMP_PREFIX) {
            fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_whole_files_and_refuses_overwrite_and_bad_names() {
        let dir = tempfile::tempdir().unwrap();
        let p = save_atomic(&dir.path().join("s"), "a.jpg", b"abc").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"abc");
        assert!(save_atomic(&dir.path().join("s"), "a.jpg", b"x").is_err());
        assert_eq!(fs::read(&p).unwrap(), b"abc");
        for bad in ["", "../x", ".hidden", "a/b"] {
            assert!(save_atomic(dir.path(), bad, b"x").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn leftovers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("s")).unwrap();
        fs::write(
            dir.path().join("s").join(format!("{TEMP_PREFIX}a.jpg")),
            b"half",
        )
        .unwrap();
        fs::write(dir.path().join("s").join("b.jpg"), b"whole").unwrap();
        assert_eq!(remove_leftovers(dir.path()).unwrap(), 1);
        assert!(dir.path().join("s").join("b.jpg").exists());
    }

    #[test]
    fn space_check_refuses_past_the_reserve() {
        let dir = tempfile::tempdir().unwrap();
        let avail = available_bytes(dir.path()).unwrap();
        assert!(avail > 0);
        check_space(dir.path(), 1, 0).unwrap();
        let e = check_space(dir.path(), 1, avail).unwrap_err();
        assert!(e.downcast_ref::<StorageFull>().is_some(), "{e}");
        assert!(e.to_string().contains("storage full"));
    }
}
