//! `wanda init`.

use anyhow::Result;
use std::path::Path;
use wanda_node::repo::{Profile, Repo};

pub fn run(dir: &Path, profile: &str) -> Result<()> {
    let profile: Profile = profile.parse().map_err(anyhow::Error::msg)?;
    Repo::init(
        dir,
        profile,
        &crate::app::config::AppConfig::default_sections(),
    )?;
    let repo = Repo::open(dir)?;
    println!("initialized WANDA repo at {}", dir.display());
    println!("peer identity: {}", repo.config().identity.peer_id);
    println!("network profile: {profile}");
    if profile != Profile::Local {
        // beyond loopback, strangers can reach the telescope: only the owner may control it
        println!();
        let (token, created) = super::auth::ensure_owner(dir, false)?;
        super::auth::print_usage(dir, &token, created);
    }
    Ok(())
}
