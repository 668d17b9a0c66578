//! `wanda auth`: the owner's credentials (docs/API.md, "Access").
//!
//! - `wanda auth` lists the credentials in `api.authorizations` (never their secrets).
//! - `wanda auth owner [--rotate]` makes sure an `owner` credential covering everything
//!   exists (a fresh random bearer token; `--rotate` replaces it, which ends every login made
//!   with the old one) and prints how to use it: the token, a `curl` line, and a pairing link
//!   for a phone with its QR code.
//!
//! Works while the daemon runs: `config.toml` is replaced atomically under `config.lock`, and
//! the daemon follows it within a second.

use anyhow::{Context, Result};
use base64::Engine;
use std::path::Path;
use wanda_node::repo::config::ApiAuthorization;
use wanda_node::repo::{node_config, read_config_doc, write_config_doc};

/// The name `wanda auth owner` and `wanda init --profile lan|public` use.
pub const OWNER: &str = "owner";

#[derive(clap::Subcommand, Debug)]
pub enum AuthCommand {
    /// Create the owner credential if there is none (or replace it with --rotate) and print
    /// how to use it: token, curl example, phone pairing link and QR code.
    Owner {
        /// Replace the token: every login and script using the old one stops working.
        #[arg(long)]
        rotate: bool,
    },
}

/// Holds `$REPO/config.lock` while the config file is read, changed and written.
pub struct ConfigLock(#[allow(dead_code)] std::fs::File);

impl ConfigLock {
    /// Waits for the lock.
    pub fn acquire(dir: &Path) -> Result<Self> {
        let path = dir.join("config.lock");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        f.lock()
            .with_context(|| format!("cannot lock {}", path.display()))?;
        Ok(ConfigLock(f))
    }
}

pub fn run(dir: &Path, cmd: Option<AuthCommand>) -> Result<()> {
    match cmd {
        None => list(dir),
        Some(AuthCommand::Owner { rotate }) => {
            let token = ensure_owner(dir, rotate)?;
            print_usage(dir, &token.0, token.1);
            Ok(())
        }
    }
}

fn list(dir: &Path) -> Result<()> {
    let cfg = node_config(&read_config_doc(dir)?)?;
    if cfg.api.authorizations.is_empty() {
        println!(
            "no credentials: only this host (and, on loopback, the RPC) can control the telescope."
        );
        println!("create the owner's with: wanda auth owner");
        return Ok(());
    }
    for (name, a) in &cfg.api.authorizations {
        let kind = a.auth_secret.split(':').next().unwrap_or("?");
        println!("{name}\t{kind}\t{}", a.allowed_paths.join(" "));
    }
    if !cfg.api.allowed_origins.is_empty() {
        println!("trusted origins: {}", cfg.api.allowed_origins.join(" "));
    }
    Ok(())
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Makes sure `api.authorizations.owner` exists (a new random bearer token when it does not,
/// or with `rotate`). Returns its token (the secret after `bearer:`) and whether it is new.
pub fn ensure_owner(dir: &Path, rotate: bool) -> Result<(String, bool)> {
    let _lock = ConfigLock::acquire(dir)?;
    let mut doc = read_config_doc(dir)?;
    let cfg = node_config(&doc)?;
    if let Some(existing) = cfg.api.authorizations.get(OWNER)
        && !rotate
    {
        let token = existing
            .auth_secret
            .strip_prefix("bearer:")
            .map(str::to_string)
            .with_context(|| {
                format!(
                    "api.authorizations.{OWNER} is not a bearer token; use --rotate to replace it"
                )
            })?;
        return Ok((token, false));
    }
    let token = new_token();
    let auth = ApiAuthorization {
        auth_secret: format!("bearer:{token}"),
        allowed_paths: vec!["/".into()],
    };
    let value = toml::Value::try_from(&auth)?;
    let api = doc
        .entry("api")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .context("config.toml: `api` is not a section")?;
    api.entry("authorizations")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .context("config.toml: `api.authorizations` is not a section")?
        .insert(OWNER.into(), value);
    node_config(&doc)?;
    write_config_doc(dir, &doc)?;
    Ok((token, true))
}

/// Where a phone can open the web UI: the main listener's address, or this host's LAN
/// addresses when it listens on all of them.
fn ui_urls(dir: &Path) -> Vec<String> {
    let Ok(cfg) = read_config_doc(dir).and_then(|d| node_config(&d)) else {
        return vec![];
    };
    let Ok(addr) = crate::rpc_client::multiaddr_to_socket(&cfg.addresses.gateway) else {
        return vec![];
    };
    let port = match std::fs::read_to_string(dir.join("gateway"))
        .ok()
        .and_then(|ma| crate::rpc_client::multiaddr_to_socket(ma.trim()).ok())
    {
        Some(live) => live.port(),
        None => addr.port(),
    };
    if addr.ip().is_unspecified() {
        crate::net_addrs::lan_ipv4()
            .into_iter()
            .map(|ip| format!("http://{ip}:{port}"))
            .collect()
    } else {
        vec![crate::runtime::http_url(std::net::SocketAddr::new(
            addr.ip(),
            port,
        ))]
    }
}

/// Prints the token, a curl line, and the pairing link with its QR code.
pub fn print_usage(dir: &Path, token: &str, created: bool) {
    if created {
        println!("owner credential created (api.authorizations.{OWNER}, allowed_paths [\"/\"]).");
    } else {
        println!("owner credential (api.authorizations.{OWNER}):");
    }
    println!();
    println!("  token: {token}");
    println!();
    println!("Keep it secret: it controls the telescope. Use it");
    println!("  - in the web UI: Log in, paste the token;");
    println!("  - in scripts: curl -H 'Authorization: Bearer {token}' -X POST \\");
    println!(
        "      -H 'Content-Type: application/json' -d '{{\"action\":\"start\"}}' http://<pi>:8080/api/mount/tracking"
    );
    println!("  - for the RPC from another host: wanda --api-auth bearer:{token} …");
    let urls = ui_urls(dir);
    if let Some(first) = urls.first() {
        println!();
        println!("Pair a phone: open this link on it (or scan the code); it logs the phone in:");
        for u in &urls {
            println!("  {u}/#token={token}");
        }
        if let Ok(code) = qrcode::QrCode::new(format!("{first}/#token={token}")) {
            let art = code
                .render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build();
            println!("{art}");
        }
    }
    println!("Revoke it (and every login made with it): wanda auth owner --rotate");
}
