//! `add` of a stream of named entries (files, directories, symlinks), as they arrive in a Kubo
//! multipart request: `dir`, `dir/a.txt`, `dir/sub`, `dir/sub/b.bin`, … Gives the same CIDs and
//! the same `Added` events as [`Importer::add_paths`] over the same tree sent in its walk order.

use super::add::Importer;
use super::dir_import::tree_err;
use crate::error::{Error, Result};
use cid::Cid;
use rust_unixfs::dir::builder::BufferingTreeBuilder;
use std::collections::BTreeSet;
use std::io::Read;

/// What an entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory (its children follow as `name/child` entries).
    Directory,
    /// A regular file; its bytes are read from [`EntrySource::content`].
    File,
    /// A symlink to this target.
    Symlink(String),
}

/// A source of entries in parent-before-child order.
pub trait EntrySource {
    /// The next entry's `/`-separated path and kind, or `None` at the end.
    fn next_entry(&mut self) -> Result<Option<(String, EntryKind)>>;
    /// The current file's bytes (valid after `next_entry` returned a [`EntryKind::File`]).
    fn content(&mut self) -> &mut dyn Read;
}

/// The top-level directory being built.
struct OpenDir {
    name: String,
    tree: BufferingTreeBuilder,
    /// Every directory path declared or implied below (and including) the top one.
    dirs: BTreeSet<String>,
    /// Directories that received at least one child.
    non_empty: BTreeSet<String>,
}

/// Normalises an entry path: no empty, `.` or `..` segments; leading/trailing `/` dropped.
fn clean_path(raw: &str) -> Result<String> {
    let trimmed = raw.trim_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    for seg in trimmed.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return Err(Error::InvalidInput(format!(
                "entry name `{raw}` has an empty, `.` or `..` segment"
            )));
        }
    }
    Ok(trimmed.to_string())
}

impl Importer<'_> {
    /// Adds the entries of `src`. Top-level entries are what `add_paths` gets as arguments; the
    /// entries below a top-level directory `a` (`a/b`, …) come together, after `a`'s own entry
    /// if it has one (without, `a` is implied). A file with an empty name is
    /// named after its CID (like stdin). Returns the root: the wrapper with `-w`, else the last
    /// top-level entry.
    pub fn add_entries(&mut self, src: &mut dyn EntrySource) -> Result<Cid> {
        let mut wrapper = self.tree_builder(self.opts.wrap);
        let mut names = BTreeSet::new();
        let mut open: Option<OpenDir> = None;
        let mut last = None;
        while let Some((raw, kind)) = src.next_entry()? {
            let path = clean_path(&raw)?;
            match path.split_once('/') {
                None => {
                    if let Some(dir) = open.take() {
                        last = Some(self.close_dir(dir, &mut wrapper)?);
                    }
                    if path.is_empty() && kind != EntryKind::File {
                        return Err(Error::InvalidInput(
                            "a directory or symlink entry needs a name".into(),
                        ));
                    }
                    if !path.is_empty() && !names.insert(path.clone()) {
                        return Err(Error::InvalidInput(format!(
                            "{path}: two entries with the same name"
                        )));
                    }
                    match kind {
                        EntryKind::Directory => {
                            open = Some(OpenDir {
                                tree: self.tree_builder(false),
                                dirs: BTreeSet::from([path.clone()]),
                                non_empty: BTreeSet::new(),
                                name: path,
                            });
                        }
                        EntryKind::File | EntryKind::Symlink(_) => {
                            let file = match &kind {
                                EntryKind::Symlink(target) => self.import_symlink(target)?,
                                _ => self.import_stream(src.content())?,
                            };
                            let name = if path.is_empty() {
                                file.cid.to_string()
                            } else {
                                path
                            };
                            self.added(&name, &file.cid, file.dag_size);
                            if self.opts.wrap {
                                wrapper
                                    .put_link(&name, file.cid, file.dag_size)
                                    .map_err(tree_err)?;
                            }
                            last = Some(file.cid);
                        }
                    }
                }
                Some((top, _)) => {
                    if open.as_ref().is_none_or(|d| d.name != top) {
                        // a top-level directory without its own part (Kubo's clients may
                        // leave it out): open it, unless it was already finished
                        if !names.insert(top.to_string()) {
                            return Err(Error::InvalidInput(format!(
                                "entry `{path}` comes after the entries of `{top}` were closed \
                                 by another top-level entry"
                            )));
                        }
                        if let Some(dir) = open.take() {
                            last = Some(self.close_dir(dir, &mut wrapper)?);
                        }
                        open = Some(OpenDir {
                            tree: self.tree_builder(false),
                            dirs: BTreeSet::from([top.to_string()]),
                            non_empty: BTreeSet::new(),
                            name: top.to_string(),
                        });
                    }
                    let dir = open.as_mut().expect("opened above");
                    let mut parent = path.as_str();
                    while let Some((p, _)) = parent.rsplit_once('/') {
                        dir.dirs.insert(p.to_string());
                        dir.non_empty.insert(p.to_string());
                        parent = p;
                    }
                    match kind {
                        EntryKind::Directory => {
                            dir.dirs.insert(path);
                        }
                        EntryKind::File | EntryKind::Symlink(_) => {
                            let file = match &kind {
                                EntryKind::Symlink(target) => self.import_symlink(target)?,
                                _ => self.import_stream(src.content())?,
                            };
                            self.added(&path, &file.cid, file.dag_size);
                            let dir = open.as_mut().expect("checked above");
                            dir.tree
                                .put_link(&path, file.cid, file.dag_size)
                                .map_err(tree_err)?;
                        }
                    }
                }
            }
        }
        if let Some(dir) = open.take() {
            last = Some(self.close_dir(dir, &mut wrapper)?);
        }
        if self.opts.wrap {
            if last.is_none() {
                return Err(Error::InvalidInput("nothing to add".into()));
            }
            return Ok(self.emit_tree(wrapper, "")?.cid);
        }
        last.ok_or_else(|| Error::InvalidInput("nothing to add".into()))
    }

    /// Builds a finished top-level directory (empty subdirectories included) and links it into
    /// the wrapper.
    fn close_dir(&mut self, mut dir: OpenDir, wrapper: &mut BufferingTreeBuilder) -> Result<Cid> {
        for d in dir.dirs.difference(&dir.non_empty) {
            dir.tree
                .set_metadata(d, Default::default())
                .map_err(tree_err)?;
        }
        let root = self.emit_tree(dir.tree, &dir.name)?;
        if self.opts.wrap {
            wrapper
                .put_link(&dir.name, root.cid, root.dag_size)
                .map_err(tree_err)?;
        }
        Ok(root.cid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unixfs::{AddEvent, AddOptions, HashOnlySink};
    use std::io::Cursor;

    /// Entries held in memory.
    struct Mem {
        items: std::vec::IntoIter<(String, EntryKind, Vec<u8>)>,
        cur: Cursor<Vec<u8>>,
    }

    impl EntrySource for Mem {
        fn next_entry(&mut self) -> Result<Option<(String, EntryKind)>> {
            Ok(self.items.next().map(|(p, k, data)| {
                self.cur = Cursor::new(data);
                (p, k)
            }))
        }
        fn content(&mut self) -> &mut dyn Read {
            &mut self.cur
        }
    }

    fn mem(items: Vec<(&str, EntryKind, &[u8])>) -> Mem {
        Mem {
            items: items
                .into_iter()
                .map(|(p, k, d)| (p.to_string(), k, d.to_vec()))
                .collect::<Vec<_>>()
                .into_iter(),
            cur: Cursor::new(vec![]),
        }
    }

    /// Runs both importers; returns (root, events) for entries and for the same tree on disk.
    fn both(opts: AddOptions, tree: &[(&str, Option<&[u8]>)]) -> [(Cid, Vec<String>); 2] {
        let tmp = tempfile::tempdir().unwrap();
        let mut items = Vec::new();
        for (p, data) in tree {
            let full = tmp.path().join(p);
            match data {
                Some(d) => {
                    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
                    std::fs::write(&full, d).unwrap();
                    items.push((*p, EntryKind::File, *d));
                }
                None => {
                    std::fs::create_dir_all(&full).unwrap();
                    items.push((*p, EntryKind::Directory, &b""[..]));
                }
            }
        }
        let run = |f: &mut dyn FnMut(&mut Importer<'_>) -> Cid| {
            let mut events = Vec::new();
            let mut on = |e: AddEvent<'_>| {
                if let AddEvent::Added { path, cid, size } = e {
                    events.push(format!("{path} {cid} {size}"));
                }
            };
            let mut sink = HashOnlySink;
            let root = {
                let mut imp = Importer::new(opts.clone(), &mut sink, &mut on).unwrap();
                f(&mut imp)
            };
            (root, events)
        };
        let from_entries = run(&mut |imp| imp.add_entries(&mut mem(items.clone())).unwrap());
        let tops: Vec<std::path::PathBuf> = tree
            .iter()
            .filter(|(p, _)| !p.contains('/'))
            .map(|(p, _)| tmp.path().join(p))
            .collect();
        let refs: Vec<&std::path::Path> = tops.iter().map(|p| p.as_path()).collect();
        let from_disk = run(&mut |imp| imp.add_paths(&refs, true).unwrap());
        [from_entries, from_disk]
    }

    const TREE: &[(&str, Option<&[u8]>)] = &[
        ("d", None),
        ("d/a.txt", Some(b"alpha")),
        ("d/empty", None),
        ("d/sub", None),
        ("d/sub/b.bin", Some(b"beta beta")),
        ("top.txt", Some(b"top")),
    ];

    #[test]
    fn entries_give_the_same_cids_and_events_as_paths() {
        for wrap in [false, true] {
            for cid_version in [0, 1] {
                let opts = AddOptions {
                    wrap,
                    cid_version,
                    ..Default::default()
                };
                let [a, b] = both(opts, TREE);
                assert_eq!(a, b, "wrap={wrap} v{cid_version}");
            }
        }
    }

    #[test]
    fn implied_top_level_directories_give_the_same_cids() {
        let tree: Vec<_> = TREE.iter().filter(|(p, _)| *p != "d").copied().collect();
        let implied = both(AddOptions::default(), &tree);
        let [explicit, _] = both(AddOptions::default(), TREE);
        assert_eq!(implied[0].0, explicit.0);
    }

    #[test]
    fn unnamed_file_is_named_by_its_cid_and_bad_names_are_refused() {
        let mut sink = HashOnlySink;
        let mut names = Vec::new();
        let mut on = |e: AddEvent<'_>| {
            if let AddEvent::Added { path, .. } = e {
                names.push(path.to_string());
            }
        };
        let root = {
            let mut imp = Importer::new(AddOptions::default(), &mut sink, &mut on).unwrap();
            let root = imp
                .add_entries(&mut mem(vec![("", EntryKind::File, b"hello")]))
                .unwrap();
            for bad in [
                vec![
                    ("d/x", EntryKind::File, &b"1"[..]),
                    ("e", EntryKind::File, b"2"),
                    ("d/y", EntryKind::File, b"3"),
                ],
                vec![("../x", EntryKind::File, &b"1"[..])],
                vec![("a", EntryKind::File, b"1"), ("a", EntryKind::File, b"2")],
                vec![],
            ] {
                let e = imp.add_entries(&mut mem(bad)).unwrap_err();
                assert!(matches!(e, Error::InvalidInput(_)), "{e}");
            }
            root
        };
        assert_eq!(names[0], root.to_string());
    }
}
