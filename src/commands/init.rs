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
    Ok(())
}
