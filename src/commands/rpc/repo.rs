//! `repo gc|stat` through the daemon (`repo verify` needs the repo itself: stop the daemon).

use crate::cli::RepoCommand;
use crate::rpc_client::{call, call_stream};
use anyhow::{Result, bail};

/// Runs one `repo` subcommand against the daemon at `base`.
pub fn run(base: &str, cmd: RepoCommand) -> Result<()> {
    match cmd {
        RepoCommand::Gc { quiet } => {
            let mut removed = 0u64;
            call_stream(base, "repo/gc", &[], |v| {
                removed += 1;
                if !quiet {
                    println!("removed {}", v["Key"]["/"].as_str().unwrap_or_default());
                }
                Ok(true)
            })?;
            if quiet {
                println!("{removed}");
            }
        }
        RepoCommand::Stat { human } => {
            let v = call(base, "repo/stat", &[], None)?;
            let n = |k: &str| v[k].as_u64().unwrap_or(0);
            let fmt = |x: u64| {
                if human {
                    indicatif::HumanBytes(x).to_string()
                } else {
                    x.to_string()
                }
            };
            println!("NumObjects: {}", n("NumObjects"));
            println!("RepoSize:   {}", fmt(n("RepoSize")));
            println!("BlockBytes: {}", fmt(n("BlockBytes")));
            println!("StorageMax: {}", fmt(n("StorageMax")));
            println!("RepoPath:   {}", v["RepoPath"].as_str().unwrap_or_default());
            println!("Version:    {}", v["Version"].as_str().unwrap_or_default());
        }
        RepoCommand::Verify => {
            bail!("repo verify needs the repo itself; stop the daemon first")
        }
    }
    Ok(())
}
