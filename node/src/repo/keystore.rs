//! Named keys for IPNS (`wanda key gen/list`), stored beside the node key as
//! `$REPO/keystore/<name>.key` (protobuf encoding, mode 0600). `self` is the node key.

use super::identity;
use crate::error::{Error, Result};
use crate::ipns::IpnsName;
use libp2p_identity::Keypair;
use std::path::{Path, PathBuf};

/// Name of the node key in listings and `--key`.
pub const SELF: &str = "self";

/// The keystore directory of a repo.
pub fn dir(repo: &Path) -> PathBuf {
    repo.join("keystore")
}

/// A key name is 1–64 characters of `A-Z a-z 0-9 . _ -`, not starting with `.`.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!(
            "invalid key name {name:?}: use 1-64 of A-Z a-z 0-9 . _ -"
        )))
    }
}

fn file_name(name: &str) -> String {
    if name == SELF {
        identity::SELF_KEY.to_string()
    } else {
        format!("{name}.key")
    }
}

/// Generates a new key `name` of `kind` (`ed25519`, the default, or `secp256k1`).
pub fn generate(keystore: &Path, name: &str, kind: &str) -> Result<Keypair> {
    check_name(name)?;
    if name == SELF {
        return Err(Error::InvalidInput(
            "cannot create key with name 'self'".into(),
        ));
    }
    if keystore.join(file_name(name)).exists() {
        return Err(Error::InvalidInput(format!(
            "key with name '{name}' already exists"
        )));
    }
    let key = match kind {
        "ed25519" => Keypair::generate_ed25519(),
        "secp256k1" => Keypair::generate_secp256k1(),
        other => {
            return Err(Error::InvalidInput(format!(
                "unsupported key type {other:?} (use ed25519 or secp256k1)"
            )));
        }
    };
    identity::write_key(keystore, &file_name(name), &key)?;
    Ok(key)
}

/// Loads key `name` (`self` is the node key).
pub fn load(keystore: &Path, name: &str) -> Result<Keypair> {
    check_name(name)?;
    if !keystore.join(file_name(name)).exists() {
        return Err(Error::InvalidInput(format!("no key named '{name}'")));
    }
    identity::load(keystore, &file_name(name))
}

/// Every key as (name, IPNS name): `self` first, then by name.
pub fn list(keystore: &Path) -> Result<Vec<(String, IpnsName)>> {
    let mut names = Vec::new();
    let entries = std::fs::read_dir(keystore).map_err(|e| Error::io(keystore, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(keystore, e))?;
        let file = entry.file_name();
        let Some(stem) = file.to_str().and_then(|f| f.strip_suffix(".key")) else {
            continue;
        };
        if stem != "self" && check_name(stem).is_ok() {
            names.push(stem.to_string());
        }
    }
    names.sort();
    names.insert(0, SELF.to_string());
    names
        .into_iter()
        .map(|n| {
            let key = load(keystore, &n)?;
            Ok((n, IpnsName::from_public_key(&key.public())))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_list_and_load() {
        let dir = tempfile::tempdir().unwrap();
        let ks = dir.path();
        let node = identity::generate(ks, identity::SELF_KEY).unwrap();
        let k = generate(ks, "m42", "ed25519").unwrap();
        generate(ks, "alpha", "secp256k1").unwrap();
        let listed = list(ks).unwrap();
        let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["self", "alpha", "m42"]);
        assert_eq!(listed[0].1, IpnsName::from_public_key(&node.public()));
        assert_eq!(listed[2].1, IpnsName::from_public_key(&k.public()));
        assert_eq!(
            load(ks, "m42").unwrap().public(),
            k.public(),
            "loads what was generated"
        );
        assert!(generate(ks, "m42", "ed25519").is_err(), "duplicate");
        assert!(generate(ks, "self", "ed25519").is_err());
        assert!(generate(ks, "../x", "ed25519").is_err());
        assert!(generate(ks, "r", "rsa").is_err());
        assert!(
            load(ks, "nope")
                .unwrap_err()
                .to_string()
                .contains("no key named")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(ks.join("m42.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
