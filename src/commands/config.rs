//! `wanda config show | KEY [VALUE]`.

use anyhow::Result;
use std::path::Path;
use wanda_node::repo::config::{get_key, parse_value, set_key};
use wanda_node::repo::{
    NodeConfig, RepoLock, node_config, node_config_after_set, read_config_doc, write_config_doc,
};

pub fn run(dir: &Path, key: &str, value: Option<String>, json: bool) -> Result<()> {
    let doc = read_config_doc(dir)?;
    if key == "show" && value.is_none() {
        print!("{}", toml::to_string_pretty(&doc)?);
        return Ok(());
    }
    let cfg = node_config(&doc)?;
    let defaults = defaults_for(&cfg)?;
    match value {
        None => {
            let v = get_key(&doc, key)
                .ok_or_else(|| wanda_node::Error::UnknownConfigKey(key.into()))?;
            match v {
                toml::Value::String(s) => println!("{s}"),
                other => println!("{}", serde_json::to_string_pretty(other)?),
            }
        }
        Some(raw) => {
            let _lock = RepoLock::acquire(dir)?;
            let _config_lock = super::auth::ConfigLock::acquire(dir)?;
            let mut doc = read_config_doc(dir)?;
            set_key(&mut doc, &defaults, key, parse_value(&raw, json)?)?;
            node_config_after_set(&doc, key)?;
            crate::app::config::AppConfig::from_doc(&doc)?;
            write_config_doc(dir, &doc)?;
        }
    }
    Ok(())
}

/// The document of known keys: the node's sections for the repo's profile and the app's.
fn defaults_for(cfg: &NodeConfig) -> Result<toml::Table> {
    let defaults = NodeConfig::for_profile(cfg.network.profile, cfg.identity.peer_id.clone());
    let mut doc = toml::Table::try_from(defaults)?;
    doc.extend(crate::app::config::AppConfig::default_sections());
    Ok(doc)
}
