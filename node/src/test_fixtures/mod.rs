//! Gateway-conformance-shaped fixtures for the integration tests (cargo feature `test-fixtures`,
//! enabled only by the node's and the gateway's `[dev-dependencies]`).
//!
//! A [`FixtureSet`] is a directory of CAR files and `.ipns-record` files laid out like the
//! official IPFS gateway conformance fixtures (ipfs/gateway-conformance: `dir_listing/`,
//! `gateway-cache/`, `trustless_gateway_car/`, `ipns_records/`, …), plus what the checks must
//! expect of it where the two sets differ (counts, leaf CIDs, IPNS names and values). Every check
//! in `node/tests/{car,ipns}_fixtures.rs` and `gateway/tests/gateway_*.rs` runs on each set that
//! [`sets`] returns:
//!
//! - the **generated** set ([`generated`]), always: written once per test binary into a
//!   temporary directory by this crate's own importer, CAR writer and IPNS signer, from seeded
//!   bytes and seeded keys, so its CIDs and names are the same on every run (`generate.rs`);
//! - the **official** set ([`official`]), when its folder exists: `$WANDA_CONFORMANCE_FIXTURES`,
//!   default `../shared/gateway-conformance-fixtures` beside the workspace (a relative value is
//!   taken from the workspace root). When it is absent its checks are skipped with a message, or
//!   fail if `WANDA_REQUIRE_OFFICIAL_FIXTURES=1`.
//!
//! Nothing of the official set is copied into the repository: its expectations (`official.rs`)
//! are the values the tests asserted against it before the generated set existed.

mod generate;
mod official;

/// Multi-node tests never touch the host network: outside a network namespace that has only
/// `lo`, this re-runs the test `name` (of the calling test binary) under `unshare --net` and
/// returns false, so the caller returns; inside one it returns true.
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
    let exe = std::env::current_exe().expect("the test binary");
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
    print!("{stdout}");
    false
}

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cid::Cid;
use libp2p_identity::Keypair;
use sha2::{Digest, Sha256};

/// The environment variable naming the official fixtures folder.
pub const FIXTURES_ENV: &str = "WANDA_CONFORMANCE_FIXTURES";
/// The official folder's default location, relative to the workspace root.
pub const DEFAULT_OFFICIAL_DIR: &str = "../shared/gateway-conformance-fixtures";
/// Set to `1` to make a missing official folder a test failure instead of a skip.
pub const REQUIRE_ENV: &str = "WANDA_REQUIRE_OFFICIAL_FIXTURES";

/// A fixture directory and what the checks expect of it.
#[derive(Debug, Clone)]
pub struct FixtureSet {
    /// `"generated"` or `"official"`.
    pub label: &'static str,
    /// The directory holding the CARs and records (paths below are relative to it).
    pub dir: PathBuf,
    /// Number of `.car` files below `dir`.
    pub cars: usize,
    /// Number of IPNS names the gateway's `StaticNames::load_dir` finds in `dir` and its
    /// immediate subdirectories.
    pub names: usize,
    /// CARs whose bytes are exactly a DFS export (Kubo `dag export` order) of their roots.
    pub dfs_ordered: Vec<String>,
    /// CARs that reference blocks they do not contain.
    pub incomplete: Vec<String>,
    /// Body of `gateway-cache/fixtures.car`'s `root2/root3/root4/index.html`.
    pub index_html: Vec<u8>,
    /// `path_gateway_unixfs/symlink.car`: its file's name and the symlink's name (the symlink
    /// points at the file, so its body is the file's name).
    pub symlink: (String, String),
    /// First and last leaf of `file-3k-and-3-blocks-missing-block.car` (the middle is missing).
    pub missing_block_leaves: [Cid; 2],
    /// The raw leaves of `subdir/multiblock.txt` in `subdir-with-mixed-block-files.car`.
    pub multiblock_leaves: Vec<Cid>,
    /// The `gateway-cache/` record's name whose value is `/ipfs/<gateway-cache root>`.
    pub cache_name: String,
    /// The `gateway-cache/` record's name whose value is `/ipfs/<gateway-cache root>/root2`.
    pub subpath_name: String,
    /// Values of the three valid `ipns_records/` spec vectors, by file-name case.
    pub vector_values: Vec<(&'static str, String)>,
    /// Validity (RFC 3339) of every valid `ipns_records/` vector.
    pub vector_validity: String,
    /// Every record outside `ipns_records/`.
    pub records: Vec<RecordExpect>,
    /// The two names written in PeerId form (Ed25519 `12D3Koo…`, RSA `Qm…`).
    pub peer_id_names: [String; 2],
}

/// What a record outside `ipns_records/` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordExpect {
    /// Path relative to the set's directory.
    pub file: String,
    /// Signed value.
    pub value: String,
    /// Signed sequence number.
    pub sequence: u64,
    /// Signed validity (RFC 3339).
    pub validity: String,
}

impl FixtureSet {
    /// `dir/rel`.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    /// The bytes of `dir/rel` (panics with the path when unreadable).
    pub fn read(&self, rel: &str) -> Vec<u8> {
        let p = self.path(rel);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Every `.car` below the directory, sorted.
    pub fn car_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "car") {
                    out.push(p);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &mut out);
        out.sort();
        assert!(!out.is_empty(), "no CARs under {}", self.dir.display());
        out
    }

    /// `path` relative to the directory, as a `/`-separated string.
    pub fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.dir)
            .unwrap()
            .to_string_lossy()
            .into_owned()
    }

    /// The `.ipns-record` files of `subdir`, relative and sorted.
    pub fn record_files(&self, subdir: &str) -> Vec<String> {
        let mut files: Vec<String> = std::fs::read_dir(self.path(subdir))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".ipns-record"))
            .map(|n| format!("{subdir}/{n}"))
            .collect();
        files.sort();
        files
    }

    /// The directory and its immediate subdirectories (where `.ipns-record` files may be).
    pub fn record_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.dir.clone()];
        for e in std::fs::read_dir(&self.dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            }
        }
        dirs
    }
}

/// A temporary directory for this process, removed when the process exits. Test binaries keep
/// their fixtures in statics, which are never dropped, so a `TempDir` there would be left
/// behind by every test process.
pub fn process_temp_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    extern "C" fn remove() {
        if let Some(dir) = DIR.get() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("wanda-fixtures-")
            .tempdir()
            .expect("temporary directory")
            .keep();
        // SAFETY: `remove` is a plain `extern "C" fn` that neither unwinds nor needs any state
        // beyond a static; registering it has no other precondition.
        unsafe { libc::atexit(remove) };
        dir
    })
}

/// The generated set, written on first use below [`process_temp_dir`].
pub fn generated() -> &'static FixtureSet {
    static SET: OnceLock<FixtureSet> = OnceLock::new();
    SET.get_or_init(|| generate::write_all(&process_temp_dir().join("generated")))
}

/// Where the official set is looked for: `$WANDA_CONFORMANCE_FIXTURES`, else
/// `../shared/gateway-conformance-fixtures`; relative paths are taken from the workspace root.
pub fn official_dir() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the node crate sits inside the workspace");
    let configured = std::env::var_os(FIXTURES_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OFFICIAL_DIR));
    // lexically: `/work/repo/../shared/x` is shown as `/work/shared/x`
    let mut out = PathBuf::new();
    for part in workspace.join(configured).components() {
        match part {
            std::path::Component::ParentDir if out.file_name().is_some() => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The official set when its folder exists. When it does not, prints that its checks are
/// skipped (or panics if `WANDA_REQUIRE_OFFICIAL_FIXTURES=1`).
pub fn official() -> Option<&'static FixtureSet> {
    static SET: OnceLock<Option<FixtureSet>> = OnceLock::new();
    let set = SET.get_or_init(|| {
        let dir = official_dir();
        dir.is_dir().then(|| official::expectations(dir))
    });
    if set.is_none() {
        let msg = official_status();
        if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
            panic!("{msg} ({REQUIRE_ENV}=1)");
        }
        eprintln!("{msg}");
    }
    set.as_ref()
}

/// One line saying whether the official set was found and so whether its checks run.
pub fn official_status() -> String {
    let dir = official_dir();
    if dir.is_dir() {
        format!(
            "official gateway conformance fixtures: found at {} — their checks run too",
            dir.display()
        )
    } else {
        format!(
            "official gateway conformance fixtures: not found at {} — their checks are skipped \
             (set {FIXTURES_ENV} to their folder)",
            dir.display()
        )
    }
}

/// The sets every fixture check runs on: the generated one, then the official one if present.
pub fn sets() -> Vec<&'static FixtureSet> {
    let mut out = vec![generated()];
    out.extend(official());
    out
}

/// Deterministic test bytes: SHA-256(seed ‖ u64_le(k)) for k = 0, 1, … truncated to `n` bytes
/// (the same scheme as tests/vectors/gen.mjs).
pub struct SeedBytes {
    seed: Vec<u8>,
    counter: u64,
    block: [u8; 32],
    pos: usize,
    remaining: u64,
}

impl SeedBytes {
    /// `n` bytes from `seed`.
    pub fn new(seed: &str, n: u64) -> Self {
        SeedBytes {
            seed: seed.as_bytes().to_vec(),
            counter: 0,
            block: [0; 32],
            pos: 32,
            remaining: n,
        }
    }
}

impl Read for SeedBytes {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < buf.len() && self.remaining > 0 {
            if self.pos == 32 {
                let mut h = Sha256::new();
                h.update(&self.seed);
                h.update(self.counter.to_le_bytes());
                self.block = h.finalize().into();
                self.counter += 1;
                self.pos = 0;
            }
            let take = (32 - self.pos)
                .min(buf.len() - written)
                .min(self.remaining as usize);
            buf[written..written + take].copy_from_slice(&self.block[self.pos..self.pos + take]);
            self.pos += take;
            written += take;
            self.remaining -= take as u64;
        }
        Ok(written)
    }
}

/// All of `SeedBytes::new(seed, n)` in memory.
pub fn seed_bytes(seed: &str, n: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(n as usize);
    SeedBytes::new(seed, n).read_to_end(&mut v).unwrap();
    v
}

/// An Ed25519 key derived from `seed` (the same key on every run).
pub fn seeded_ed25519(seed: &str) -> Keypair {
    let secret: [u8; 32] = Sha256::digest(format!("wanda test key: {seed}")).into();
    Keypair::ed25519_from_bytes(secret).expect("32-byte Ed25519 secret")
}

/// A 2048-bit RSA key (PKCS#8 DER, base64), generated for WANDA's tests only (libp2p cannot
/// generate RSA keys).
const RSA_PKCS8_B64: &str = concat!(
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDWhjxZSSDLt6Ks+D7Rij+KD6+48FPbI3ZQkQ+N",
    "BIwHmh/6OvnSReIlIdD3B0L5qic7J0dM0TJ7V1/kawgPGUzsbp8+v6bbVL1f4kptCxGS8yG/uLzWdk3ilO8zkGvp",
    "YrlOHBUSeRrVfuKzopCRv0Otz0208j6DjnnmL8ghP4wMX/TlKz5edMW1MepH9DtXMVcqIyR8AD2tPi10FX4lVNkS",
    "gH/ho2svZiPuY1hZ59RfLP6WS0yfuRYaTiTGLZ4i7G7DK0FKvK++wf3Gwp6efRFDrEQiKSSHpbhCaraA2KwZixjA",
    "f92BXqXzk9g90dzNLWr+wimDd3UZO5DE8vlGJNfhAgMBAAECggEAAzzBWmOVIB3kUZHpeMYKUW4NK9BMo6j0VyDp",
    "SCqCZnb39pG/RWISmJbbDW9JnnTn5KeiFtGtXlkiNFM9KuUp2QOOWacQwIyV0wWaM+0P1dTfdII4L1BXuoye03th",
    "dYMs4rXfx4iWVBR3HVjdr6VgQxY2yP1C3j9fLY8ZCQ9pcKJW/qyuFZAs+stVvxe8GCE+xXg012fAvcCI2etteawo",
    "kyzyjGm+eU/3Gkbf7K9gibvOAY56GlkoEAiO1eBGgy0wLQvAfojegMM/UiiZxviU/hsROTF1fOiPPmr2vF5kfstT",
    "WvkfbBZjq4uze2vr1xBwvljHvFxlhuIQXaXs43BuRQKBgQDzuB0HFxKjOWLE5znw1GujQXRit3zSmVnNxWhQ/UuV",
    "6RbdeH0Qbq9Egwl/CPmur/wbZirYGzyvMbxwKW4SJf18qTnX0KznGpV+F5rKsnO8HP8T+DlisU8q7TxXZm2dbEMH",
    "tKSKL/hxVfWWhgCZp/awHCrseEXpNsfZJDB9jQ8AOwKBgQDhVYUW3Cc8YEo3pTKbTmWyK7rXnH89IYojgx4wwRwY",
    "G0y3BnQJuA8IQSorOdCUs4CuB+FicYXfe28NzWIAnHX5B5Vhox/SkqMHeVXrVEJJ17Zr498Dv4wYFKymMzv7eUyv",
    "5rfC06Xx2ZMee6kSvqM8n2nrNiDAGW7+XikbVmHCkwKBgEjqIU0Yuwu4RHNyViRV+On70C0khiSfmn10fPQWA8IS",
    "3TNfM9Nxud/+cB3geoqnvf4Yf+Ltqyci8yR/UJ3/XaopGtQVa1Us3+K8fyP7ZaK27h10Wv7K20uVdEMVst+xHxC0",
    "G7H4DhUiSXpCFvXhiW1A0Bq1FP1j1UCCkjtNs1o3AoGBAOCQWweSNeP8zlowX4PZmI38+MLh6whgQYvsowzRlw8L",
    "PeP1IXWCIjEGyGC1yII5dhd6MQrruhAjsmRd97pGM2gQP7ZDXHZ9vs23BYJ2wW1X9iwFt37DyXlCOWGVE8UleOCg",
    "nSgjx3CEdhLeCHxu0r2a3XMUyYTIlA4ahvsAloLTAoGBANvruJiUkM3ei6nH0ldVahBzx8wfmudnB38YUfx/k6LB",
    "1LrIk/Xy/BJ6t7goweRGT3Azm5OMro0tEwpROI5ivPS+jP1DvVDjvhYz5stDtFEpvvxJKv+g8T5/DqcWIQcUUX7i",
    "MopxF1Ld9XImbthSK0+LXHyxOKCONSky3vab1jDp",
);

/// [`RSA_PKCS8_B64`] as a keypair.
pub fn rsa_keypair() -> Keypair {
    use base64::Engine as _;
    let mut der = base64::engine::general_purpose::STANDARD
        .decode(RSA_PKCS8_B64)
        .expect("valid base64");
    Keypair::rsa_from_pkcs8(&mut der).expect("valid PKCS#8 RSA key")
}
