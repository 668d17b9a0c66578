//! `wanda add` through a running daemon: the paths are sent as one streamed multipart body
//! (Kubo's layout) and the answer is printed exactly like an offline add.

use crate::cli::AddArgs;
use crate::rpc_client::multipart::{MultipartBody, Part, Source};
use crate::rpc_client::{Body, call_stream_with};
use anyhow::{Result, anyhow, bail};
use indicatif::ProgressBar;
use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Adds `args.paths` (or stdin) through the daemon at `base`.
pub fn run(base: &str, args: &AddArgs, stdin: bool, bar: &ProgressBar) -> Result<()> {
    let parts = if stdin {
        vec![Part::File(String::new(), Source::Stdin)]
    } else {
        parts(&args.paths, args.recursive, args.hidden, args.wrap)?
    };
    let cid_version = args.cid_version.to_string();
    let raw_leaves = args.raw_leaves.map(|r| r.to_string());
    let flag = |b: bool| if b { "true" } else { "false" };
    let mut query: Vec<(&str, &str)> = vec![
        ("cid-version", &cid_version),
        ("chunker", &args.chunker),
        ("trickle", flag(args.trickle)),
        ("wrap-with-directory", flag(args.wrap)),
        ("hidden", flag(args.hidden)),
        ("pin", flag(args.pin)),
    ];
    if let Some(r) = &raw_leaves {
        query.push(("raw-leaves", r));
    }
    let body = MultipartBody::new(parts);
    let sent = body.sent();
    let done = Arc::new(AtomicBool::new(false));
    let ticker = {
        let (bar, done) = (bar.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                bar.set_position(sent.load(Ordering::Relaxed));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        })
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut last = None;
    let result = call_stream_with(base, "add", &query, Body::Multipart(body), |ev| {
        let Some(hash) = ev["Hash"].as_str() else {
            return Ok(true);
        };
        last = Some(hash.to_string());
        if !args.quieter {
            let line = if args.quiet {
                format!("{hash}\n")
            } else {
                format!("added {hash} {}\n", ev["Name"].as_str().unwrap_or_default())
            };
            bar.suspend(|| out.write_all(line.as_bytes()))?;
        }
        Ok(true)
    });
    done.store(true, Ordering::Relaxed);
    let _ = ticker.join();
    bar.finish_and_clear();
    result?;
    if args.quieter {
        let root = last.ok_or_else(|| anyhow!("the daemon reported no root"))?;
        writeln!(out, "{root}")?;
    }
    Ok(())
}

/// The entry name `add` gives a path (its base name; `.` and the like are resolved).
fn base_name(path: &Path) -> Result<String> {
    let canonical;
    let path = if path.file_name().is_none() {
        canonical = path
            .canonicalize()
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        canonical.as_path()
    } else {
        path
    };
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow!("{}: name is not UTF-8", path.display()))
}

/// The multipart entries for `paths`, checked the way an offline add checks them (directories
/// need `-r`, names are unique when wrapped or several, every file can be opened).
fn parts(paths: &[PathBuf], recursive: bool, hidden: bool, wrap: bool) -> Result<Vec<Part>> {
    let mut names = BTreeSet::new();
    for path in paths {
        let meta = fs::symlink_metadata(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        if meta.is_dir() && !recursive {
            bail!(
                "{} is a directory, use the '-r' flag to specify directories",
                path.display()
            );
        }
        if !names.insert(base_name(path)?) && (wrap || paths.len() > 1) {
            bail!("{}: two entries with the same name", path.display());
        }
    }
    let mut out = Vec::new();
    for path in paths {
        walk(path, base_name(path)?, hidden, &mut out)?;
    }
    Ok(out)
}

fn walk(path: &Path, name: String, hidden: bool, out: &mut Vec<Part>) -> Result<()> {
    let meta = fs::symlink_metadata(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        let target = target
            .to_str()
            .ok_or_else(|| anyhow!("{}: symlink target is not UTF-8", path.display()))?;
        out.push(Part::Symlink(name, target.to_string()));
    } else if meta.is_dir() {
        out.push(Part::Directory(name.clone()));
        let mut entries: Vec<_> = fs::read_dir(path)
            .and_then(|rd| rd.collect::<std::io::Result<Vec<_>>>())
            .map_err(|e| anyhow!("{}: {e}", path.display()))?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let child = entry.file_name();
            let child = child
                .to_str()
                .ok_or_else(|| anyhow!("{}: file name is not UTF-8", entry.path().display()))?;
            if child.starts_with('.') && !hidden {
                continue;
            }
            walk(&entry.path(), format!("{name}/{child}"), hidden, out)?;
        }
    } else if meta.is_file() {
        fs::File::open(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        out.push(Part::File(name, Source::Path(path.to_path_buf())));
    } else {
        bail!(
            "{}: not a regular file, directory or symlink",
            path.display()
        );
    }
    Ok(())
}
