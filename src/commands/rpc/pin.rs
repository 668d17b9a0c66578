//! `pin add|rm|ls` through the daemon.

use crate::cli::PinCommand;
use crate::rpc_client::{call, call_stream};
use anyhow::Result;

fn pins(v: &serde_json::Value) -> Vec<String> {
    v["Pins"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_str().map(str::to_string))
        .collect()
}

/// Runs one `pin` subcommand against the daemon at `base`.
pub fn run(base: &str, cmd: PinCommand) -> Result<()> {
    match cmd {
        PinCommand::Add {
            paths,
            recursive,
            name,
        } => {
            let how = if recursive {
                " recursively"
            } else {
                " directly"
            };
            for path in paths {
                let mut args = vec![
                    ("arg", path.as_str()),
                    // like `ipfs pin add`: blocks missing here are fetched from peers
                    ("recursive", if recursive { "true" } else { "false" }),
                ];
                if let Some(n) = &name {
                    args.push(("name", n));
                }
                for cid in pins(&call(base, "pin/add", &args, None)?) {
                    println!("pinned {cid}{how}");
                }
            }
        }
        PinCommand::Rm { paths } => {
            for path in paths {
                for cid in pins(&call(base, "pin/rm", &[("arg", &path)], None)?) {
                    println!("unpinned {cid}");
                }
            }
        }
        PinCommand::Ls { kind, quiet } => {
            let args = [("type", kind.as_str()), ("stream", "true")];
            call_stream(base, "pin/ls", &args, |v| {
                let cid = v["Cid"].as_str().unwrap_or_default();
                if quiet {
                    println!("{cid}");
                } else {
                    println!("{cid} {}", v["Type"].as_str().unwrap_or_default());
                }
                Ok(true)
            })?;
        }
    }
    Ok(())
}
