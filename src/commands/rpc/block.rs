//! `block get|put|stat|rm` through the daemon.

use crate::cli::BlockCommand;
use crate::rpc_client::multipart::{MultipartBody, Part, Source};
use crate::rpc_client::{Body, call, call_raw, call_stream, call_stream_with, copy_to_stdout};
use anyhow::{Result, bail};

/// Runs one `block` subcommand against the daemon at `base`.
pub fn run(base: &str, cmd: BlockCommand) -> Result<()> {
    match cmd {
        BlockCommand::Get { cid } => {
            copy_to_stdout(call_raw(
                base,
                "block/get",
                &[("arg", &cid), ("offline", "true")],
            )?)?;
        }
        BlockCommand::Put {
            file,
            cid_codec,
            pin,
        } => {
            let source = match file {
                Some(path) => {
                    std::fs::File::open(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    Source::Path(path)
                }
                None => Source::Stdin,
            };
            let body = MultipartBody::new(vec![Part::File(String::new(), source)]);
            let pin = if pin { "true" } else { "false" };
            let args = [("cid-codec", cid_codec.as_str()), ("pin", pin)];
            call_stream_with(base, "block/put", &args, Body::Multipart(body), |v| {
                println!("{}", v["Key"].as_str().unwrap_or_default());
                Ok(true)
            })?;
        }
        BlockCommand::Stat { cid } => {
            let v = call(
                base,
                "block/stat",
                &[("arg", &cid), ("offline", "true")],
                None,
            )?;
            println!(
                "Key: {}\nSize: {}",
                v["Key"].as_str().unwrap_or_default(),
                v["Size"].as_u64().unwrap_or(0)
            );
        }
        BlockCommand::Rm { cids, force } => {
            let mut args: Vec<(&str, &str)> = cids.iter().map(|c| ("arg", c.as_str())).collect();
            if force {
                args.push(("force", "true"));
            }
            let mut failed = false;
            call_stream(base, "block/rm", &args, |v| {
                match v["Error"].as_str().filter(|e| !e.is_empty()) {
                    Some(e) => {
                        eprintln!("Error: {e}");
                        failed = true;
                    }
                    None => println!("removed {}", v["Hash"].as_str().unwrap_or_default()),
                }
                Ok(true)
            })?;
            if failed {
                bail!("some blocks were not removed");
            }
        }
    }
    Ok(())
}
