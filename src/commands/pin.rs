//! `wanda pin add|rm|ls`.

use crate::cli::PinCommand;
use anyhow::Result;
use wanda_node::pinning::{PinFilter, pin_add, pin_ls, pin_rm};
use wanda_node::repo::Repo;
use wanda_node::unixfs::resolve_path;

/// Runs a `pin` subcommand: through the daemon when one runs, else on the repo.
pub fn run(dir: &std::path::Path, cmd: PinCommand) -> Result<()> {
    if let Some(base) = crate::rpc_client::api_url(dir) {
        return super::rpc::pin::run(&base, cmd);
    }
    let repo = Repo::open(dir)?;
    let store = repo.blockstore();
    match cmd {
        PinCommand::Add {
            paths,
            recursive,
            name,
        } => {
            for path in paths {
                let cid = resolve_path(store, &path)?.cid;
                pin_add(store, &cid, recursive, name.clone())?;
                let how = if recursive {
                    " recursively"
                } else {
                    " directly"
                };
                println!("pinned {cid}{how}");
            }
        }
        PinCommand::Rm { paths } => {
            for path in paths {
                let cid = resolve_path(store, &path)?.cid;
                pin_rm(store, &cid)?;
                println!("unpinned {cid}");
            }
        }
        PinCommand::Ls { kind, quiet } => {
            let filter: PinFilter = kind.parse()?;
            for (cid, kind) in pin_ls(store, filter)?.values() {
                if quiet {
                    println!("{cid}");
                } else {
                    println!("{cid} {kind}");
                }
            }
        }
    }
    Ok(())
}
