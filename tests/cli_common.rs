//! Helpers for tests that run the `wanda` binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temp repo directory and the binary.
pub struct Wanda {
    pub tmp: tempfile::TempDir,
    pub repo: PathBuf,
}

impl Wanda {
    /// A fresh, initialised repo.
    pub fn init() -> Self {
        let w = Self::uninit();
        w.ok(&["init"]);
        w
    }

    /// A temp dir without a repo yet.
    pub fn uninit() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        Wanda { tmp, repo }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wanda"));
        c.arg("--repo").arg(&self.repo).env_remove("WANDA_REPO");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "wanda {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs and asserts failure with a message on stderr containing `needle`; returns stderr.
    pub fn fails(&self, args: &[&str], needle: &str) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            !out.status.success(),
            "wanda {args:?} should fail; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            err.contains(needle),
            "wanda {args:?}: stderr {err:?} lacks {needle:?}"
        );
        assert!(!err.contains("panicked"), "wanda {args:?} panicked: {err}");
        err
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// What must not change when a command fails: block count and pins.
    pub fn snapshot(&self) -> (String, String) {
        let stat = self.ok(&["repo", "stat"]);
        let objects = stat
            .lines()
            .find(|l| l.starts_with("NumObjects"))
            .unwrap()
            .to_string();
        (objects, self.ok(&["pin", "ls"]))
    }
}

/// Deterministic bytes (same scheme as tests/vectors).
pub fn seed_bytes(seed: &str, n: usize) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut out = Vec::with_capacity(n + 32);
    let mut k = 0u64;
    while out.len() < n {
        let mut h = Sha256::new();
        h.update(seed.as_bytes());
        h.update(k.to_le_bytes());
        out.extend_from_slice(&h.finalize());
        k += 1;
    }
    out.truncate(n);
    out
}

pub fn write(path: &Path, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, data).unwrap();
}
