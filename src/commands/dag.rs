//! `wanda dag export|import` (CAR v1).

use crate::cli::DagCommand;
use anyhow::Result;
use std::io::Write;
use wanda_node::repo::Repo;

/// Runs a `dag` subcommand: through the daemon when one runs, else on the repo.
pub fn run(dir: &std::path::Path, cmd: DagCommand) -> Result<()> {
    if let Some(base) = crate::rpc_client::api_url(dir) {
        return super::rpc::dag::run(&base, cmd);
    }
    let repo = Repo::open(dir)?;
    let store = repo.blockstore();
    match cmd {
        DagCommand::Export { cid } => {
            let cid = wanda_node::parse_cid(&cid)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
            wanda_node::dag::export_car(store, &cid, &mut out)?;
            out.flush()?;
        }
        DagCommand::Import { files, pin_roots } => {
            for file in files {
                let report = if file.as_os_str() == "-" {
                    wanda_node::dag::import_car(store, std::io::stdin().lock(), pin_roots)?
                } else {
                    let f = std::fs::File::open(&file)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                    wanda_node::dag::import_car(store, std::io::BufReader::new(f), pin_roots)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
                };
                for root in &report.roots {
                    if pin_roots {
                        println!("Pinned root\t{root}\tsuccess");
                    }
                }
                eprintln!("Imported {} blocks", report.blocks);
            }
        }
    }
    Ok(())
}
