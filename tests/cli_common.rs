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

/// Multi-node tests run inside a fresh network namespace that has only `lo`, so a mistake cannot
/// send traffic off the machine. Returns true when the caller is already inside one; otherwise
/// re-runs this very test (`name`) under `unshare --net` (we are root in CI), asserts it passed,
/// and returns false so the caller returns.
pub fn in_loopback_netns(name: &str) -> bool {
    let dev = std::fs::read_to_string("/proc/self/net/dev").unwrap_or_default();
    let ifaces: Vec<&str> = dev
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    if ifaces == ["lo"] {
        return true;
    }
    let exe = std::env::current_exe().unwrap();
    let script = format!(
        "ip link set lo up && exec '{}' --exact '{}' --nocapture --test-threads=1",
        exe.display(),
        name
    );
    let out = std::process::Command::new("unshare")
        .args(["--net", "sh", "-c", &script])
        .output()
        .expect("unshare (util-linux) is needed for multi-node tests");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{name} inside a network namespace failed:\n{stdout}\n{stderr}"
    );
    false
}

/// A running `wanda daemon` on ephemeral loopback ports; killed (SIGTERM) on drop.
pub struct Daemon {
    pub w: Wanda,
    pub child: std::process::Child,
}

impl Daemon {
    /// Inits a repo with ephemeral ports (and `extra` config keys) and starts its daemon.
    pub fn start(extra: &[(&str, &str)]) -> Self {
        Self::start_existing(Wanda::init(), extra)
    }

    /// Starts a daemon on an existing repo (ephemeral ports, `extra` config keys).
    pub fn start_existing(w: Wanda, extra: &[(&str, &str)]) -> Self {
        w.ok(&["config", "addresses.api", "/ip4/127.0.0.1/tcp/0"]);
        w.ok(&["config", "addresses.swarm", r#"["/ip4/127.0.0.1/tcp/0"]"#]);
        w.ok(&["config", "addresses.gateway", "/ip4/127.0.0.1/tcp/0"]);
        w.ok(&["config", "camera.driver", "sim"]);
        w.ok(&["config", "camera.sim_width", "640"]);
        w.ok(&["config", "camera.sim_height", "480"]);
        for (k, v) in extra {
            w.ok(&["config", k, v]);
        }
        // a daemon killed with -9 leaves these behind; wait for the new ones
        let _ = std::fs::remove_file(w.repo.join("api"));
        let _ = std::fs::remove_file(w.repo.join("gateway"));
        let child = w
            .cmd()
            .arg("daemon")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !w.repo.join("api").exists() {
            assert!(std::time::Instant::now() < deadline, "daemon did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Daemon { w, child }
    }

    /// `…/p2p/<id>` address others can dial.
    pub fn addr(&self) -> String {
        let id: serde_json::Value = serde_json::from_str(&self.w.ok(&["id"])).unwrap();
        id["Addresses"][0].as_str().unwrap().to_string()
    }

    /// Sends SIGTERM and waits; returns whether it exited successfully.
    pub fn stop(mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
