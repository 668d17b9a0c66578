//! `wanda add`: Kubo-compatible import with a progress bar.

use crate::cli::AddArgs;
use crate::progress::bytes_bar;
use anyhow::{Result, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use wanda_node::repo::Repo;
use wanda_node::store::{PinMode, PinRecord};
use wanda_node::unixfs::{AddEvent, AddOptions, HashOnlySink, Importer, StoreSink};

pub fn run(dir: &Path, args: AddArgs) -> Result<()> {
    let opts = AddOptions {
        cid_version: args.cid_version,
        raw_leaves: args.raw_leaves,
        chunk_size: AddOptions::parse_chunker(&args.chunker)?,
        trickle: args.trickle,
        wrap: args.wrap,
        hidden: args.hidden,
        only_hash: args.only_hash,
        pin: args.pin,
        ..AddOptions::default()
    };
    opts.validate()?;
    let stdin = args.paths.is_empty() || args.paths.iter().any(|p| p == Path::new("-"));
    if stdin && args.paths.len() > 1 {
        bail!("stdin (`-`) cannot be combined with other paths");
    }
    for p in &args.paths {
        if !stdin {
            std::fs::symlink_metadata(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        }
    }
    let total = if stdin { 0 } else { input_size(&args.paths) };
    let bar = bytes_bar(total, args.progress && !args.quieter);
    if !opts.only_hash
        && let Some(base) = crate::rpc_client::api_url(dir)
    {
        return super::rpc::add::run(&base, &args, stdin, &bar);
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut print_err: Option<std::io::Error> = None;
    let quiet = args.quiet;
    let quieter = args.quieter;
    let mut on_event = |ev: AddEvent<'_>| match ev {
        AddEvent::Bytes(n) => bar.inc(n),
        AddEvent::Added { path, cid, .. } => {
            if quieter {
                return;
            }
            let line = if quiet {
                format!("{cid}\n")
            } else {
                format!("added {cid} {path}\n")
            };
            let r = bar.suspend(|| out.write_all(line.as_bytes()));
            if let Err(e) = r {
                print_err.get_or_insert(e);
            }
        }
    };
    let root = if opts.only_hash {
        let mut sink = HashOnlySink;
        let mut importer = Importer::new(opts.clone(), &mut sink, &mut on_event)?;
        import(&mut importer, &args.paths, stdin, args.recursive)?
    } else {
        let repo = Repo::open(dir)?;
        let mut sink = StoreSink::new(repo.blockstore())?;
        let root = {
            let mut importer = Importer::new(opts.clone(), &mut sink, &mut on_event)?;
            import(&mut importer, &args.paths, stdin, args.recursive)?
        };
        let pin = opts.pin.then_some((
            root,
            PinRecord {
                mode: PinMode::Recursive,
                name: None,
            },
        ));
        sink.finish(pin)?;
        root
    };
    bar.finish_and_clear();
    if let Some(e) = print_err {
        return Err(e.into());
    }
    if args.quieter {
        writeln!(std::io::stdout(), "{root}")?;
    }
    Ok(())
}

fn import(
    importer: &mut Importer<'_>,
    paths: &[PathBuf],
    stdin: bool,
    recursive: bool,
) -> Result<cid::Cid> {
    if stdin {
        return Ok(importer.add_stream(std::io::stdin().lock(), None)?);
    }
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    Ok(importer.add_paths(&refs, recursive)?)
}

/// Total bytes under the given paths (for the progress bar; errors count as 0).
fn input_size(paths: &[PathBuf]) -> u64 {
    fn size(p: &Path) -> u64 {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => std::fs::read_dir(p)
                .map(|rd| rd.flatten().map(|e| size(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) if m.is_file() => m.len(),
            _ => 0,
        }
    }
    paths.iter().map(|p| size(p)).sum()
}
