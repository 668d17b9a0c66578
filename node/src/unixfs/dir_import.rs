//! `add` of paths: single files, `-r` directory trees (HAMT-sharded above Kubo's threshold),
//! symlinks and `-w` wrapping, reporting entries in Kubo's order.

use super::add::{ImportedFile, Importer};
use crate::error::{Error, Result};
use cid::Cid;
use rust_unixfs::dir::builder::{BufferingTreeBuilder, TreeOptions};
use std::fs;
use std::path::Path;

/// The default [`AddOptions::shard_threshold`](super::AddOptions::shard_threshold): rust-unixfs
/// shards a directory whose links (name + CID bytes) add up to strictly more than this. Kubo
/// 0.22 (boxo 0.11) shards at `>= HAMTShardingSize` (262144), so the threshold is one less; the
/// vector `dir-links-262144-hamt` pins this boundary.
pub const HAMT_THRESHOLD: u64 = 256 * 1024 - 1;

impl Importer<'_> {
    /// Adds files or directories (directories need `recursive`). Returns the root CID: the
    /// wrapper with `-w`, else the last path's CID.
    pub fn add_paths(&mut self, paths: &[&Path], recursive: bool) -> Result<Cid> {
        if paths.is_empty() {
            return Err(Error::InvalidInput("no path given".into()));
        }
        let mut names = std::collections::BTreeSet::new();
        for path in paths {
            let meta = fs::symlink_metadata(path).map_err(|e| Error::io(*path, e))?;
            if meta.is_dir() && !recursive {
                return Err(Error::InvalidInput(format!(
                    "{} is a directory, use the '-r' flag to specify directories",
                    path.display()
                )));
            }
            if !names.insert(base_name(path)?) && (self.opts.wrap || paths.len() > 1) {
                return Err(Error::InvalidInput(format!(
                    "{}: two entries with the same name",
                    path.display()
                )));
            }
        }
        for path in paths {
            precheck(path, self.opts.hidden)?;
        }
        let mut tree = self.tree_builder(self.opts.wrap);
        let mut last = None;
        for path in paths {
            let name = base_name(path)?;
            let meta = fs::symlink_metadata(path).map_err(|e| Error::io(*path, e))?;
            if meta.is_dir() {
                let mut own = self.tree_builder(false);
                let mut any = false;
                self.walk_dir(path, &name, &mut own, &mut any)?;
                if !any {
                    own.set_metadata(&name, Default::default())
                        .map_err(tree_err)?;
                }
                let root = self.emit_tree(own, &name)?;
                if self.opts.wrap {
                    tree.put_link(&name, root.cid, root.dag_size)
                        .map_err(tree_err)?;
                }
                last = Some(root.cid);
            } else {
                let file = self.import_entry(path, &meta)?;
                self.added(&name, &file.cid, file.dag_size);
                if self.opts.wrap {
                    tree.put_link(&name, file.cid, file.dag_size)
                        .map_err(tree_err)?;
                }
                last = Some(file.cid);
            }
        }
        if self.opts.wrap {
            return Ok(self.emit_tree(tree, "")?.cid);
        }
        last.ok_or_else(|| Error::InvalidInput("nothing to add".into()))
    }

    /// Imports stdin (or any stream) the way `ipfs add` does without a path: the CID is the name.
    pub fn add_stream(&mut self, reader: impl std::io::Read, name: Option<&str>) -> Result<Cid> {
        let file = self.import_stream(reader)?;
        let cid_name = file.cid.to_string();
        let display = name.unwrap_or(&cid_name).to_string();
        self.added(&display, &file.cid, file.dag_size);
        if self.opts.wrap {
            let mut tree = self.tree_builder(true);
            tree.put_link(&display, file.cid, file.dag_size)
                .map_err(tree_err)?;
            return Ok(self.emit_tree(tree, "")?.cid);
        }
        Ok(file.cid)
    }

    pub(super) fn tree_builder(&self, wrap: bool) -> BufferingTreeBuilder {
        let mut opts = TreeOptions::default();
        opts.cid_version(self.opts.version());
        opts.block_size_limit(None);
        opts.shard_threshold(Some(self.opts.shard_threshold));
        if wrap {
            opts.wrap_with_directory();
        }
        BufferingTreeBuilder::new(opts)
    }

    fn import_entry(&mut self, path: &Path, meta: &fs::Metadata) -> Result<ImportedFile> {
        if meta.file_type().is_symlink() {
            let target = fs::read_link(path).map_err(|e| Error::io(path, e))?;
            let target = target.to_str().ok_or_else(|| {
                Error::InvalidInput(format!("{}: symlink target is not UTF-8", path.display()))
            })?;
            return self.import_symlink(target);
        }
        if !meta.is_file() {
            return Err(Error::InvalidInput(format!(
                "{}: not a regular file, directory or symlink",
                path.display()
            )));
        }
        let file = fs::File::open(path).map_err(|e| Error::io(path, e))?;
        self.import_stream(std::io::BufReader::with_capacity(0, file))
            .map_err(|e| match e {
                Error::IoBare(io) => Error::io(path, io),
                other => other,
            })
    }

    fn walk_dir(
        &mut self,
        dir: &Path,
        prefix: &str,
        tree: &mut BufferingTreeBuilder,
        any: &mut bool,
    ) -> Result<()> {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .collect::<std::io::Result<_>>()
            .map_err(|e| Error::io(dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        let mut has_children = false;
        for entry in entries {
            let name = entry.file_name();
            let name = name.to_str().ok_or_else(|| {
                Error::InvalidInput(format!(
                    "{}: file name is not UTF-8",
                    entry.path().display()
                ))
            })?;
            if name.starts_with('.') && !self.opts.hidden {
                continue;
            }
            let path = entry.path();
            let full = format!("{prefix}/{name}");
            let meta = fs::symlink_metadata(&path).map_err(|e| Error::io(&path, e))?;
            has_children = true;
            if meta.is_dir() {
                self.walk_dir(&path, &full, tree, any)?;
            } else {
                let file = self.import_entry(&path, &meta)?;
                self.added(&full, &file.cid, file.dag_size);
                tree.put_link(&full, file.cid, file.dag_size)
                    .map_err(tree_err)?;
                *any = true;
            }
        }
        if !has_children {
            tree.set_metadata(prefix, Default::default())
                .map_err(tree_err)?;
            *any = true;
        }
        Ok(())
    }

    /// Writes the directory nodes of `tree` (post-order), reports each directory entry and
    /// returns the root. Interior HAMT shard nodes (empty path) are not entries; the wrapper
    /// (also an empty path) is reported last, as Kubo does.
    pub(super) fn emit_tree(
        &mut self,
        tree: BufferingTreeBuilder,
        root_name: &str,
    ) -> Result<ImportedFile> {
        let mut iter = tree.build();
        let mut last = None;
        while let Some(node) = iter.next_borrowed() {
            let node = node.map_err(|e| Error::InvalidInput(format!("directory: {e}")))?;
            let (cid, size, path) = (node.cid.to_owned(), node.total_size, node.path.to_string());
            self.sink.put(&cid, node.block.to_vec())?;
            if !path.is_empty() {
                self.added(&path, &cid, size);
            }
            last = Some((cid, size, path));
        }
        let (cid, dag_size, path) =
            last.ok_or_else(|| Error::Store("directory builder produced no root".into()))?;
        if path.is_empty() {
            self.added(root_name, &cid, dag_size);
        }
        Ok(ImportedFile {
            cid,
            dag_size,
            file_size: 0,
        })
    }
}

/// Checks before anything is written that every directory can be listed and every file opened,
/// so an unreadable entry fails the add with the repo unchanged.
fn precheck(path: &Path, hidden: bool) -> Result<()> {
    let meta = fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        for entry in fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let entry = entry.map_err(|e| Error::io(path, e))?;
            if entry.file_name().to_string_lossy().starts_with('.') && !hidden {
                continue;
            }
            precheck(&entry.path(), hidden)?;
        }
    } else if meta.is_file() {
        fs::File::open(path).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

fn base_name(path: &Path) -> Result<String> {
    let canonical;
    let path = if path.file_name().is_none() {
        canonical = path.canonicalize().map_err(|e| Error::io(path, e))?;
        canonical.as_path()
    } else {
        path
    };
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| Error::InvalidInput(format!("{}: name is not UTF-8", path.display())))
}

pub(super) fn tree_err(e: rust_unixfs::dir::builder::TreeBuildingFailed) -> Error {
    Error::InvalidInput(format!("directory: {e}"))
}
