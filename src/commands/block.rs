//! `wanda block get|put|stat|rm`.

use crate::cli::BlockCommand;
use anyhow::{Result, bail};
use cid::Cid;
use multihash_codetable::{Code, MultihashDigest};
use std::io::{Read, Write};
use wanda_node::parse_cid;
use wanda_node::repo::Repo;
use wanda_node::store::{PinMode, PinRecord};

/// Runs a `block` subcommand: through the daemon when one runs, else on the repo.
pub fn run(dir: &std::path::Path, cmd: BlockCommand) -> Result<()> {
    if let Some(base) = crate::rpc_client::api_url(dir) {
        return super::rpc::block::run(&base, cmd);
    }
    let repo = Repo::open(dir)?;
    let store = repo.blockstore();
    match cmd {
        BlockCommand::Get { cid } => {
            let cid = parse_cid(&cid)?;
            std::io::stdout().write_all(&store.get_required(&cid)?)?;
        }
        BlockCommand::Put {
            file,
            cid_codec,
            pin,
        } => {
            let codec = codec_code(&cid_codec)?;
            let mut data = Vec::new();
            match file {
                Some(path) => {
                    data = std::fs::read(&path)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
                }
                None => {
                    std::io::stdin().read_to_end(&mut data)?;
                }
            };
            if data.len() > 2 << 20 {
                bail!(
                    "block of {} bytes is larger than the 2 MiB limit",
                    data.len()
                );
            }
            let cid = Cid::new_v1(codec, Code::Sha2_256.digest(&data));
            if codec != wanda_node::ipld::RAW {
                wanda_node::dag_walk::block_links(&cid, &data)?;
            }
            store.put(&cid, &data)?;
            if pin {
                store.put_pin(
                    &cid,
                    &PinRecord {
                        mode: PinMode::Direct,
                        name: None,
                    },
                )?;
            }
            println!("{cid}");
        }
        BlockCommand::Stat { cid } => {
            let cid = parse_cid(&cid)?;
            let size = store
                .size(&cid)?
                .ok_or(wanda_node::Error::BlockNotFound(cid))?;
            println!("Key: {cid}\nSize: {size}");
        }
        BlockCommand::Rm { cids, force } => {
            let cids: Vec<Cid> = cids
                .iter()
                .map(|c| parse_cid(c))
                .collect::<Result<_, _>>()?;
            let pinned: Vec<_> = store.list_pins()?;
            let mut failed = false;
            for cid in cids {
                if pinned.iter().any(|(p, _)| p.hash() == cid.hash()) {
                    eprintln!("Error: cannot remove {cid}: pinned");
                    failed = true;
                    continue;
                }
                if store.remove(&cid)? {
                    println!("removed {cid}");
                } else if !force {
                    eprintln!("Error: {cid}: block not found");
                    failed = true;
                }
            }
            if failed {
                bail!("some blocks were not removed");
            }
        }
    }
    Ok(())
}

fn codec_code(name: &str) -> Result<u64> {
    Ok(match name {
        "raw" => wanda_node::ipld::RAW,
        "dag-pb" => wanda_node::ipld::DAG_PB,
        "dag-cbor" => wanda_node::ipld::DAG_CBOR,
        "dag-json" => wanda_node::ipld::DAG_JSON,
        other => bail!("unsupported --cid-codec `{other}` (raw, dag-pb, dag-cbor, dag-json)"),
    })
}
