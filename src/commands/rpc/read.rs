//! `get`, `ls`, `refs` through the daemon.

use crate::rpc_client::{call, call_raw, call_stream};
use anyhow::{Result, bail};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// `get`: the daemon sends a tar (fetching missing blocks from the network); its top entry is
/// written to `output` (default: the name the daemon chose, as offline).
pub fn get(base: &str, path: &str, output: Option<PathBuf>) -> Result<()> {
    if let Some(out) = output.as_ref().filter(|o| o.exists()) {
        bail!("{} already exists; choose another --output", out.display());
    }
    let mut archive = tar::Archive::new(call_raw(base, "get", &[("arg", path)])?);
    let mut out: Option<PathBuf> = None;
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.into_owned();
        let mut comps = name.components();
        let Some(Component::Normal(top)) = comps.next() else {
            bail!("the daemon sent an unsafe entry `{}`", name.display());
        };
        let rest = comps.as_path().to_path_buf();
        if rest
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            bail!("the daemon sent an unsafe entry `{}`", name.display());
        }
        let root = match &out {
            Some(root) => root.clone(),
            None => {
                let root = output.clone().unwrap_or_else(|| PathBuf::from(top));
                if root.exists() {
                    bail!("{} already exists; choose another --output", root.display());
                }
                eprintln!("Saving file(s) to {}", root.display());
                out = Some(root.clone());
                root
            }
        };
        refuse_symlinked_parents(&root, &rest)?;
        let dest = if rest.as_os_str().is_empty() {
            root
        } else {
            root.join(&rest)
        };
        if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        entry.set_preserve_mtime(false);
        entry.unpack(&dest)?;
    }
    Ok(())
}

/// Refuses to write below a symlink that an earlier entry created (it could point anywhere).
fn refuse_symlinked_parents(root: &Path, rest: &Path) -> Result<()> {
    let mut at = root.to_path_buf();
    let mut parents: Vec<_> = rest.components().collect();
    parents.pop();
    for c in parents {
        at.push(c);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            bail!("refusing to write below the symlink {}", at.display());
        }
    }
    Ok(())
}

/// `ls`: `<cid> <size or -> <name>[/]`, from the daemon's local blocks.
pub fn ls(base: &str, path: &str) -> Result<()> {
    let v = call(base, "ls", &[("arg", path), ("offline", "true")], None)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for l in v["Objects"][0]["Links"].as_array().into_iter().flatten() {
        let (size, suffix) = match l["Type"].as_u64() {
            Some(1) => ("-".to_string(), "/"),
            Some(2) => (l["Size"].as_u64().unwrap_or(0).to_string(), ""),
            _ => ("-".to_string(), ""),
        };
        writeln!(
            out,
            "{} {} {}{}",
            l["Hash"].as_str().unwrap_or_default(),
            size,
            l["Name"].as_str().unwrap_or_default(),
            suffix
        )?;
    }
    Ok(())
}

/// `refs [-r] [-u]`, from the daemon's local blocks.
pub fn refs(base: &str, path: &str, recursive: bool, unique: bool) -> Result<()> {
    let flag = |b: bool| if b { "true" } else { "false" };
    let args = [
        ("arg", path),
        ("recursive", flag(recursive)),
        ("unique", flag(unique)),
        ("offline", "true"),
    ];
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    call_stream(base, "refs", &args, |ev| {
        writeln!(out, "{}", ev["Ref"].as_str().unwrap_or_default())?;
        Ok(true)
    })
}
