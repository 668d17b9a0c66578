//! The repo directory: config, identity, datastore and lock.
//!
//! Layout of `$REPO`:
//! - `config.toml` — the config (node sections + app sections)
//! - `keystore/self.key` — the node's Ed25519 key (mode 0600); named IPNS keys beside it
//! - `datastore.redb` — block index, blocks up to 32 KiB, pins, IPNS records (one redb file)
//! - `datastore.segments/` — bytes of larger blocks, in append-only segment files
//! - `repo.lock` — held by the one process that has the repo open; contains its pid
//! - `version` — repo format version

pub mod config;
pub mod identity;
pub mod keystore;
mod lock;
pub mod profile;

pub use config::NodeConfig;
pub use lock::RepoLock;
pub use profile::Profile;

use crate::error::{Error, Result};
use crate::store::Blockstore;
use libp2p_identity::Keypair;
use std::fs;
use std::path::{Path, PathBuf};
use toml::Table;

/// Repo format version written to `$REPO/version`.
pub const REPO_VERSION: u32 = 1;
/// Config file name.
pub const CONFIG_FILE: &str = "config.toml";
/// Datastore file name.
pub const DATASTORE_FILE: &str = "datastore.redb";

/// An open, locked repo.
pub struct Repo {
    dir: PathBuf,
    config: NodeConfig,
    blockstore: Blockstore,
    key: Keypair,
    _lock: RepoLock,
}

impl Repo {
    /// Creates a repo in `dir` for `profile`. `app_defaults` are extra config sections (the
    /// app's) written alongside the node's.
    pub fn init(dir: &Path, profile: Profile, app_defaults: &Table) -> Result<PathBuf> {
        if dir.join(CONFIG_FILE).exists() {
            return Err(Error::AlreadyInitialized(dir.to_path_buf()));
        }
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let _lock = RepoLock::acquire(dir)?;
        let keystore = dir.join("keystore");
        let key = identity::generate(&keystore, identity::SELF_KEY)?;
        let node = NodeConfig::for_profile(profile, identity::peer_id(&key).to_string());
        let mut doc = Table::try_from(&node).map_err(|e| Error::Store(e.to_string()))?;
        for (k, v) in app_defaults {
            doc.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Blockstore::open(&dir.join(DATASTORE_FILE))?;
        write_atomic(&dir.join("version"), REPO_VERSION.to_string().as_bytes())?;
        write_config_doc(dir, &doc)?;
        Ok(dir.join(CONFIG_FILE))
    }

    /// Opens and locks the repo in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        if !dir.join(CONFIG_FILE).exists() {
            return Err(Error::NotInitialized(dir.to_path_buf()));
        }
        let lock = RepoLock::acquire(dir)?;
        let config = node_config(&read_config_doc(dir)?)?;
        let key = identity::load(&dir.join("keystore"), identity::SELF_KEY)?;
        let blockstore = Blockstore::open(&dir.join(DATASTORE_FILE))?;
        Ok(Repo {
            dir: dir.to_path_buf(),
            config,
            blockstore,
            key,
            _lock: lock,
        })
    }

    /// The repo directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The node's config.
    pub fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The block store.
    pub fn blockstore(&self) -> &Blockstore {
        &self.blockstore
    }

    /// The node key ("self").
    pub fn key(&self) -> &Keypair {
        &self.key
    }
}

/// Reads `$REPO/config.toml` as a TOML document.
pub fn read_config_doc(dir: &Path) -> Result<Table> {
    let path = dir.join(CONFIG_FILE);
    let text = fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::NotInitialized(dir.to_path_buf()),
        _ => Error::io(&path, e),
    })?;
    text.parse::<Table>()
        .map_err(|e| Error::Store(format!("{}: {e}", path.display())))
}

/// Extracts and validates the node's part of a config document.
pub fn node_config(doc: &Table) -> Result<NodeConfig> {
    let cfg: NodeConfig =
        doc.clone()
            .try_into()
            .map_err(|e: toml::de::Error| Error::BadConfigValue {
                key: CONFIG_FILE.into(),
                reason: e.message().to_string(),
            })?;
    cfg.validate()?;
    Ok(cfg)
}

/// Validates a document after `key` was set: any error is reported against that key.
pub fn node_config_after_set(doc: &Table, key: &str) -> Result<NodeConfig> {
    node_config(doc).map_err(|e| match e {
        Error::BadConfigValue { key: k, reason } if k == CONFIG_FILE => Error::BadConfigValue {
            key: key.into(),
            reason,
        },
        other => other,
    })
}

/// Writes the config document atomically (temp file, fsync, rename).
pub fn write_config_doc(dir: &Path, doc: &Table) -> Result<()> {
    let text = toml::to_string_pretty(doc).map_err(|e| Error::Store(e.to_string()))?;
    write_atomic(&dir.join(CONFIG_FILE), text.as_bytes())
}

/// Writes a file atomically and durably: temp file in the same directory, fsync, rename, fsync
/// of the directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let mut f = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_open_and_refuse_second_opener() {
        let dir = tempfile::tempdir().unwrap();
        let repo_dir = dir.path().join("repo");
        Repo::init(&repo_dir, Profile::Local, &Table::new()).unwrap();
        assert!(matches!(
            Repo::init(&repo_dir, Profile::Local, &Table::new()),
            Err(Error::AlreadyInitialized(_))
        ));
        let repo = Repo::open(&repo_dir).unwrap();
        assert_eq!(
            repo.config().identity.peer_id,
            identity::peer_id(repo.key()).to_string()
        );
        let err = Repo::open(&repo_dir).err().unwrap();
        assert!(err.to_string().contains("locked by pid"), "{err}");
    }

    #[test]
    fn open_without_init_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Repo::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("wanda init"), "{err}");
    }
}
