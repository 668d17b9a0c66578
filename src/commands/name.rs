//! `wanda name publish|resolve`: IPNS over the DHT (needs the daemon).

use crate::rpc_client::{call, require_daemon};
use anyhow::Result;
use clap::Subcommand;
use std::path::Path;

/// `wanda name …`.
#[derive(Subcommand, Debug)]
pub enum NameCommand {
    /// Publish a content path under a key's IPNS name.
    Publish {
        /// Key to sign with (`wanda key list`).
        #[arg(short, long, default_value = "self")]
        key: String,
        /// How long the record stays valid.
        #[arg(short, long, default_value = "24h")]
        lifetime: String,
        /// How long resolvers may cache the record.
        #[arg(long, default_value = "1m")]
        ttl: String,
        /// `/ipfs/<cid>` (or a bare CID).
        path: String,
    },
    /// Print the path an IPNS name points at (default: this node's name).
    Resolve {
        /// `k51…` or `/ipns/k51…`.
        name: Option<String>,
    },
}

/// Runs a `name` subcommand.
pub fn run(dir: &Path, cmd: NameCommand) -> Result<()> {
    let base = require_daemon(dir)?;
    match cmd {
        NameCommand::Publish {
            key,
            lifetime,
            ttl,
            path,
        } => {
            let v = call(
                &base,
                "name/publish",
                &[
                    ("arg", &path),
                    ("key", &key),
                    ("lifetime", &lifetime),
                    ("ttl", &ttl),
                ],
                None,
            )?;
            println!(
                "Published to {}: {}",
                v["Name"].as_str().unwrap_or_default(),
                v["Value"].as_str().unwrap_or_default()
            );
        }
        NameCommand::Resolve { name } => {
            let args: Vec<(&str, &str)> = name.iter().map(|n| ("arg", n.as_str())).collect();
            let v = call(&base, "name/resolve", &args, None)?;
            println!("{}", v["Path"].as_str().unwrap_or_default());
        }
    }
    Ok(())
}
