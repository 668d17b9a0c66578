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
        // WANDA_TEST_BIN runs the tests against another build (e.g. to show an attack test
        // fails on the code before its fix)
        let bin = std::env::var_os("WANDA_TEST_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_wanda").into());
        let mut c = Command::new(bin);
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
    // what the test printed (measured figures), for `--no-capture` runs
    print!("{stdout}");
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

/// A second host on a simulated LAN: a network namespace of its own (made by a `sleep` child
/// under `unshare --net`), joined to the test's namespace by a veth pair. Call from inside
/// [`in_loopback_netns`]. The test's side is `10.77.0.1/24`, the second host `10.77.0.2/24`.
pub struct SecondHost {
    holder: std::process::Child,
    ns: std::fs::File,
}

impl SecondHost {
    /// Our address on the LAN.
    pub const HERE: &'static str = "10.77.0.1";
    /// The second host's address.
    pub const THERE: &'static str = "10.77.0.2";

    /// Creates the namespace and the link.
    pub fn new() -> Self {
        let sh = |cmd: &str| {
            let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
            assert!(
                out.status.success(),
                "{cmd}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let holder = Command::new("unshare")
            .args(["--net", "sleep", "3600"])
            .spawn()
            .expect("unshare (util-linux)");
        let pid = holder.id();
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        let path = format!("/proc/{pid}/ns/net");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read_link(&path).ok().is_none_or(|p| p == ours) {
            assert!(
                std::time::Instant::now() < deadline,
                "no namespace for the second host"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        sh("ip link add wanda-a type veth peer name wanda-b");
        sh(&format!("ip link set wanda-b netns {pid}"));
        sh(&format!(
            "ip addr add {}/24 dev wanda-a && ip link set wanda-a up",
            Self::HERE
        ));
        sh(&format!(
            "nsenter --net={path} sh -c 'ip link set lo up && ip addr add {}/24 dev wanda-b && ip link set wanda-b up'",
            Self::THERE
        ));
        let ns = std::fs::File::open(&path).unwrap();
        SecondHost { holder, ns }
    }

    /// Runs `f` on a thread that lives in the second host's namespace: every socket it opens
    /// is the second host's.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        use std::os::fd::AsRawFd;
        let fd = self.ns.as_raw_fd();
        std::thread::scope(|s| {
            s.spawn(move || {
                // SAFETY: setns on this thread only, with a namespace fd we hold open.
                let rc = unsafe { libc::setns(fd, libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .unwrap()
        })
    }
}

impl Default for SecondHost {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SecondHost {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
