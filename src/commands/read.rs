//! `cat`, `get`, `ls`, `refs`.

use anyhow::Result;
use std::io::Write;
use std::path::{Path, PathBuf};
use wanda_node::dag_walk;
use wanda_node::repo::Repo;
use wanda_node::unixfs::{FileReader, export_to_path, list_directory, node_kind, resolve_path};

pub fn cat(repo: &Repo, path: &str, offset: u64, length: Option<u64>) -> Result<()> {
    let store = repo.blockstore();
    let resolved = resolve_path(store, path)?;
    let reader = FileReader::open(store, resolved.cid)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
    reader.copy_range(offset, length, &mut out)?;
    out.flush()?;
    Ok(())
}

/// `get`: through the daemon when one runs, else from the repo.
pub fn get(dir: &Path, path: &str, output: Option<PathBuf>) -> Result<()> {
    if let Some(base) = crate::rpc_client::api_url(dir) {
        return super::rpc::read::get(&base, path, output);
    }
    let repo = Repo::open(dir)?;
    let store = repo.blockstore();
    let resolved = resolve_path(store, path)?;
    let out = output.unwrap_or_else(|| {
        PathBuf::from(
            resolved
                .segments
                .last()
                .cloned()
                .unwrap_or_else(|| resolved.cid.to_string()),
        )
    });
    if out.exists() {
        anyhow::bail!("{} already exists; choose another --output", out.display());
    }
    eprintln!("Saving file(s) to {}", out.display());
    export_to_path(store, &resolved.cid, &out)?;
    Ok(())
}

/// `ls`: through the daemon when one runs, else from the repo.
pub fn ls(dir: &Path, path: &str) -> Result<()> {
    if let Some(base) = crate::rpc_client::api_url(dir) {
        return super::rpc::read::ls(&base, path);
    }
    let repo = Repo::open(dir)?;
    let store = repo.blockstore();
    let resolved = resolve_path(store, path)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for entry in list_directory(store, &resolved.cid)? {
        let (size, suffix) = match store.get(&entry.cid)? {
            Some(block) => {
                let kind = node_kind(&entry.cid, &block);
                let size = match kind {
                    wanda_node::unixfs::NodeKind::File(s)
                    | wanda_node::unixfs::NodeKind::Raw(s) => s.to_string(),
                    _ => "-".into(),
                };
                (size, if kind.is_dir() { "/" } else { "" })
            }
            None => (entry.tsize.to_string(), ""),
        };
        writeln!(out, "{} {} {}{}", entry.cid, size, entry.name, suffix)?;
    }
    Ok(())
}

/// `refs`: through the daemon when one runs, else from the repo.
pub fn refs(dir: &Path, path: &str, recursive: bool, unique: bool) -> Result<()> {
    if let Some(base) = crate::rpc_client::api_url(dir) {
        return super::rpc::read::refs(&base, path, recursive, unique);
    }
    let repo = Repo::open(dir)?;
    let store = repo.blockstore();
    let resolved = resolve_path(store, path)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let depth = if recursive { None } else { Some(1) };
    dag_walk::refs(store, &resolved.cid, unique, depth, &mut |_, child| {
        writeln!(out, "{child}")?;
        Ok(())
    })?;
    Ok(())
}
