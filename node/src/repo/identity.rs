//! The node's persistent identity key (Ed25519), stored in `$REPO/keystore/self.key`.

use crate::error::{Error, Result};
use libp2p_identity::{Keypair, PeerId};
use std::fs;
use std::io::Write;
use std::path::Path;

/// File name of the node key inside the keystore directory.
pub const SELF_KEY: &str = "self.key";

/// Generates a new Ed25519 key and writes it (protobuf encoding, mode 0600) to `keystore/name`.
pub fn generate(keystore: &Path, name: &str) -> Result<Keypair> {
    let key = Keypair::generate_ed25519();
    write_key(keystore, name, &key)?;
    Ok(key)
}

/// Writes `key` to `keystore/name` atomically and readable only by the owner.
pub fn write_key(keystore: &Path, name: &str, key: &Keypair) -> Result<()> {
    fs::create_dir_all(keystore).map_err(|e| Error::io(keystore, e))?;
    let bytes = key
        .to_protobuf_encoding()
        .map_err(|e| Error::Store(format!("cannot encode key: {e}")))?;
    let path = keystore.join(name);
    let tmp = keystore.join(format!(".{name}.tmp"));
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
    file.write_all(&bytes).map_err(|e| Error::io(&tmp, e))?;
    file.sync_all().map_err(|e| Error::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    Ok(())
}

/// Loads the key stored as `keystore/name`.
pub fn load(keystore: &Path, name: &str) -> Result<Keypair> {
    let path = keystore.join(name);
    let bytes = fs::read(&path).map_err(|e| Error::io(&path, e))?;
    Keypair::from_protobuf_encoding(&bytes)
        .map_err(|e| Error::Store(format!("{}: not a valid key: {e}", path.display())))
}

/// The peer id of a key.
pub fn peer_id(key: &Keypair) -> PeerId {
    key.public().to_peer_id()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_round_trips_and_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let key = generate(dir.path(), SELF_KEY).unwrap();
        let loaded = load(dir.path(), SELF_KEY).unwrap();
        assert_eq!(peer_id(&key), peer_id(&loaded));
        assert!(peer_id(&key).to_string().starts_with("12D3KooW"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(SELF_KEY))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
