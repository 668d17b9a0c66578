//! `wanda daemon`: the node, the RPC, the gateway and the telescope app until SIGINT/SIGTERM.

use crate::runtime::{RunOptions, Running, wait_for_signal};
use anyhow::Result;
use std::path::Path;
use wanda_node::repo::Repo;

pub fn run(dir: &Path) -> Result<()> {
    let repo = Repo::open(dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let running = Running::start(repo, RunOptions::default()).await?;
        println!("Daemon is ready");
        wait_for_signal().await;
        println!("Received interrupt signal, shutting down...");
        crate::runtime::exit_watchdog(std::time::Duration::from_secs(20));
        running.shutdown().await
    })
}
