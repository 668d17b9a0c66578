//! `wanda repo gc|stat|verify`.

use crate::cli::RepoCommand;
use crate::progress::count_bar;
use anyhow::{Result, bail};
use wanda_node::repo::Repo;

/// Runs a `repo` subcommand: through the daemon when one runs (except `verify`), else on the
/// repo.
pub fn run(dir: &std::path::Path, cmd: RepoCommand) -> Result<()> {
    if let Some(base) = crate::rpc_client::api_url(dir)
        && !matches!(cmd, RepoCommand::Verify)
    {
        return super::rpc::repo::run(&base, cmd);
    }
    let repo = Repo::open(dir)?;
    let repo = &repo;
    let store = repo.blockstore();
    match cmd {
        RepoCommand::Gc { quiet } => {
            let report = wanda_node::gc::collect_garbage(store)?;
            if quiet {
                println!("{}", report.removed.len());
            } else {
                for mh in &report.removed {
                    let mh = cid::multihash::Multihash::<64>::from_bytes(mh)?;
                    println!("removed {}", cid::Cid::new_v1(wanda_node::ipld::RAW, mh));
                }
            }
        }
        RepoCommand::Stat { human } => {
            let stats = store.stats()?;
            let max = repo.config().max_storage_bytes();
            let fmt = |n: u64| {
                if human {
                    indicatif::HumanBytes(n).to_string()
                } else {
                    n.to_string()
                }
            };
            println!("NumObjects: {}", stats.num_blocks);
            println!("RepoSize:   {}", fmt(stats.disk_bytes));
            println!("BlockBytes: {}", fmt(stats.block_bytes));
            println!("StorageMax: {}", fmt(max));
            println!("RepoPath:   {}", repo.dir().display());
            println!("Version:    wanda-repo@{}", wanda_node::repo::REPO_VERSION);
        }
        RepoCommand::Verify => {
            let total = store.stats()?.num_blocks;
            let bar = count_bar(total, "blocks");
            let report =
                wanda_node::verify::verify_repo(store, &mut |done, _| bar.set_position(done))?;
            bar.finish_and_clear();
            for (cid, reason) in &report.corrupt {
                eprintln!("block {cid} was corrupt ({reason})");
            }
            if !report.corrupt.is_empty() {
                bail!(
                    "{} of {} blocks are corrupt",
                    report.corrupt.len(),
                    report.checked
                );
            }
            println!("verified repo integrity ({} blocks)", report.checked);
        }
    }
    Ok(())
}
