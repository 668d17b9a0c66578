//! `dag export|import` through the daemon.

use crate::cli::DagCommand;
use crate::rpc_client::multipart::{MultipartBody, Part, Source};
use crate::rpc_client::{Body, call_raw, call_stream_with, copy_to_stdout};
use anyhow::Result;

/// Runs one `dag` subcommand against the daemon at `base`.
pub fn run(base: &str, cmd: DagCommand) -> Result<()> {
    match cmd {
        DagCommand::Export { cid } => {
            copy_to_stdout(call_raw(
                base,
                "dag/export",
                &[("arg", &cid), ("offline", "true")],
            )?)?;
        }
        DagCommand::Import { files, pin_roots } => {
            let pin = if pin_roots { "true" } else { "false" };
            for file in files {
                let source = if file.as_os_str() == "-" {
                    Source::Stdin
                } else {
                    std::fs::File::open(&file)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
                    Source::Path(file.clone())
                };
                let body = MultipartBody::new(vec![Part::File(String::new(), source)]);
                let args = [("pin-roots", pin), ("stats", "true")];
                let mut blocks = 0;
                call_stream_with(base, "dag/import", &args, Body::Multipart(body), |v| {
                    if let Some(root) = v["Root"]["Cid"]["/"].as_str() {
                        println!("Pinned root\t{root}\tsuccess");
                    }
                    if let Some(n) = v["Stats"]["BlockCount"].as_u64() {
                        blocks = n;
                    }
                    Ok(true)
                })
                .map_err(|e| {
                    if file.as_os_str() == "-" {
                        e
                    } else {
                        anyhow::anyhow!("{}: {e}", file.display())
                    }
                })?;
                eprintln!("Imported {blocks} blocks");
            }
        }
    }
    Ok(())
}
