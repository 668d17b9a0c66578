//! One module per command group; `run` dispatches.

mod add;
pub(crate) mod auth;
mod block;
mod config;
mod daemon;
mod dag;
mod demo;
mod init;
pub(crate) mod key;
pub(crate) mod name;
mod online;
mod pin;
mod read;
mod repo;
mod rpc;
pub(crate) mod stats;

use crate::cli::{Cli, Command};
use anyhow::{Context, Result};
use std::path::PathBuf;
use wanda_node::repo::Repo;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    if let Command::Demo(args) = cli.command {
        return demo::run(cli.repo, args);
    }
    let repo_dir = repo_dir(cli.repo)?;
    crate::rpc_client::set_auth(cli.api_auth.as_deref(), &repo_dir);
    match cli.command {
        Command::Init { profile } => init::run(&repo_dir, &profile),
        Command::Auth { cmd } => auth::run(&repo_dir, cmd),
        Command::Config { key, value, json } => config::run(&repo_dir, &key, value, json),
        Command::Add(args) => add::run(&repo_dir, args),
        Command::Cat {
            path,
            offset,
            length,
            timeout,
        } => match crate::rpc_client::api_url(&repo_dir) {
            Some(base) => online::cat(&base, &path, offset, length, &timeout),
            None => read::cat(&open(&repo_dir)?, &path, offset, length),
        },
        Command::Get { path, output } => read::get(&repo_dir, &path, output),
        Command::Ls { path } => read::ls(&repo_dir, &path),
        Command::Block(cmd) => block::run(&repo_dir, cmd),
        Command::Refs {
            path,
            recursive,
            unique,
        } => read::refs(&repo_dir, &path, recursive, unique),
        Command::Dag(cmd) => dag::run(&repo_dir, cmd),
        Command::Pin(cmd) => pin::run(&repo_dir, cmd),
        Command::Repo(cmd) => repo::run(&repo_dir, cmd),
        Command::Daemon => daemon::run(&repo_dir),
        Command::Demo(_) => unreachable!("handled above"),
        Command::Id => online::id(&repo_dir),
        Command::Swarm(cmd) => online::swarm(&repo_dir, cmd),
        Command::Pubsub(cmd) => online::pubsub(&repo_dir, cmd),
        Command::Routing(cmd) => online::routing(&repo_dir, cmd),
        Command::Key(cmd) => key::run(&repo_dir, cmd),
        Command::Name(cmd) => name::run(&repo_dir, cmd),
        Command::Stats(cmd) => stats::run(&repo_dir, cmd),
    }
}

/// `--repo`, else `$WANDA_REPO` (clap reads it), else `~/.wanda`.
fn repo_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    if let Some(dir) = flag {
        return Ok(dir);
    }
    let home = std::env::var_os("HOME").context("HOME is not set; pass --repo DIR")?;
    Ok(PathBuf::from(home).join(".wanda"))
}

fn open(dir: &std::path::Path) -> Result<Repo> {
    Ok(Repo::open(dir)?)
}
