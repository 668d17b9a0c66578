//! `wanda key gen|list`: named IPNS keys in `$REPO/keystore/` (through the daemon when it runs).

use crate::rpc_client::{api_url, call};
use anyhow::{Result, bail};
use clap::Subcommand;
use std::path::Path;
use wanda_node::ipns::IpnsName;
use wanda_node::repo::keystore;

/// `wanda key …`.
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create a new key and print its IPNS name (k51…).
    Gen {
        /// Name of the key.
        name: String,
        /// Key type: ed25519 or secp256k1.
        #[arg(short = 't', long = "type", default_value = "ed25519")]
        kind: String,
    },
    /// List keys (`self` is the node key).
    List {
        /// Show IPNS names too.
        #[arg(short = 'l')]
        long: bool,
    },
}

fn keystore_of(dir: &Path) -> Result<std::path::PathBuf> {
    if !dir.join(wanda_node::repo::CONFIG_FILE).exists() {
        bail!(wanda_node::Error::NotInitialized(dir.to_path_buf()));
    }
    Ok(keystore::dir(dir))
}

/// Runs a `key` subcommand.
pub fn run(dir: &Path, cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::Gen { name, kind } => {
            let id = match api_url(dir) {
                Some(base) => {
                    call(&base, "key/gen", &[("arg", &name), ("type", &kind)], None)?["Id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                }
                None => {
                    let key = keystore::generate(&keystore_of(dir)?, &name, &kind)?;
                    IpnsName::from_public_key(&key.public()).to_string()
                }
            };
            println!("{id}");
        }
        KeyCommand::List { long } => {
            let keys: Vec<(String, String)> = match api_url(dir) {
                Some(base) => call(&base, "key/list", &[], None)?["Keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|k| {
                        (
                            k["Name"].as_str().unwrap_or_default().to_string(),
                            k["Id"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect(),
                None => keystore::list(&keystore_of(dir)?)?
                    .into_iter()
                    .map(|(n, id)| (n, id.to_string()))
                    .collect(),
            };
            for (name, id) in keys {
                if long {
                    println!("{id} {name}");
                } else {
                    println!("{name}");
                }
            }
        }
    }
    Ok(())
}
