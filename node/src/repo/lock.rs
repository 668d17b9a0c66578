//! The repo lock: one process at a time writes a repo.
//!
//! `$REPO/repo.lock` is locked with an OS file lock (released by the kernel when the process
//! dies, even on kill -9) and holds the holder's pid so the refusal can name it.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// Holds the repo lock until dropped.
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
    path: PathBuf,
}

impl RepoLock {
    /// Takes the lock of the repo at `repo_dir`, or fails with [`Error::Locked`] naming the pid.
    pub fn acquire(repo_dir: &Path) -> Result<Self> {
        let path = repo_dir.join("repo.lock");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match try_lock_patiently(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(Error::Locked {
                    path: repo_dir.to_path_buf(),
                    pid: text.trim().parse().unwrap_or(0),
                });
            }
            Err(TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
        file.set_len(0).map_err(|e| Error::io(&path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&path, e))?;
        write!(file, "{}", std::process::id()).map_err(|e| Error::io(&path, e))?;
        file.flush().map_err(|e| Error::io(&path, e))?;
        Ok(RepoLock { _file: file, path })
    }

    /// Whether some process holds the lock of the repo at `repo_dir` right now (a daemon, or a
    /// command writing the repo). The OS drops the lock of a process that died, even by kill -9,
    /// so this tells a live daemon from the `api` file a crashed one left behind.
    pub fn is_held(repo_dir: &Path) -> bool {
        let Ok(file) = File::open(repo_dir.join("repo.lock")) else {
            return false;
        };
        matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock))
    }

    /// Path of the lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `try_lock`, retried for ~100 ms: another command's [`RepoLock::is_held`] probe takes a shared
/// lock for an instant, which must not make a starting daemon fail.
fn try_lock_patiently(file: &File) -> std::result::Result<(), TryLockError> {
    for _ in 0..5 {
        match file.try_lock() {
            Err(TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other,
        }
    }
    file.try_lock()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_held_only_while_a_holder_lives() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!RepoLock::is_held(dir.path()), "no lock file yet");
        let lock = RepoLock::acquire(dir.path()).unwrap();
        assert!(RepoLock::is_held(dir.path()));
        drop(lock);
        assert!(!RepoLock::is_held(dir.path()), "released");
        assert!(
            RepoLock::acquire(dir.path()).is_ok(),
            "probing never keeps the lock"
        );
    }

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _held = RepoLock::acquire(dir.path()).unwrap();
        // flock locks are per open file description: a second open in-process conflicts too.
        let err = RepoLock::acquire(dir.path()).unwrap_err();
        match err {
            Error::Locked { pid, .. } => assert_eq!(pid, std::process::id()),
            other => panic!("unexpected {other}"),
        }
        assert!(err_message_names_pid(dir.path()));
    }

    fn err_message_names_pid(dir: &Path) -> bool {
        let msg = RepoLock::acquire(dir).unwrap_err().to_string();
        msg.contains(&format!("locked by pid {}", std::process::id()))
    }

    #[test]
    fn lock_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        drop(RepoLock::acquire(dir.path()).unwrap());
        RepoLock::acquire(dir.path()).unwrap();
    }
}
