//! Directories made from CIDs that are already in the store (e.g. a telescope session that
//! links its captures), with the same node layout — and so the same CID — as `add -r` of the
//! same files.

use super::add::{ImportedFile, Importer};
use super::dir_import::tree_err;
use crate::error::{Error, Result};
use cid::Cid;

/// One entry of a directory built by [`Importer::build_directory`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirLink {
    /// Entry name: non-empty, no `/`, not `.` or `..`.
    pub name: String,
    /// CID of the linked file or directory.
    pub cid: Cid,
    /// Cumulative DAG size of the linked node (the dag-pb link's Tsize).
    pub dag_size: u64,
}

impl Importer<'_> {
    /// Writes a UnixFS directory linking `entries` (HAMT-sharded above Kubo's threshold) to the
    /// sink and returns its root. The linked blocks are not read. Entry names must be unique.
    pub fn build_directory(&mut self, entries: &[DirLink]) -> Result<ImportedFile> {
        let mut seen = std::collections::BTreeSet::new();
        let mut tree = self.tree_builder(true);
        for e in entries {
            if e.name.is_empty() || e.name.contains('/') || e.name == "." || e.name == ".." {
                return Err(Error::InvalidInput(format!(
                    "directory entry name {:?} is empty, '.', '..' or contains '/'",
                    e.name
                )));
            }
            if !seen.insert(e.name.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "directory entry {:?} appears twice",
                    e.name
                )));
            }
            tree.put_link(&e.name, e.cid, e.dag_size)
                .map_err(tree_err)?;
        }
        self.emit_tree(tree, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unixfs::{AddEvent, AddOptions, HashOnlySink};

    fn add_dir(opts: &AddOptions, dir: &std::path::Path) -> (Cid, Vec<DirLink>) {
        let mut links = Vec::new();
        let mut sink = HashOnlySink;
        let mut ev = |e: AddEvent<'_>| {
            if let AddEvent::Added { path, cid, size } = e
                && let Some(name) = path.strip_prefix("d/")
            {
                links.push(DirLink {
                    name: name.to_string(),
                    cid: *cid,
                    dag_size: size,
                });
            }
        };
        let root = Importer::new(opts.clone(), &mut sink, &mut ev)
            .unwrap()
            .add_paths(&[dir], true)
            .unwrap();
        (root, links)
    }

    #[test]
    fn same_cid_as_recursive_add() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("d");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(d.join("a.jpg"), vec![7u8; 300_000]).unwrap();
        std::fs::write(d.join("session_metadata.json"), b"{}").unwrap();
        std::fs::write(d.join("b.jpg"), b"").unwrap();
        for opts in [
            AddOptions::default(),
            AddOptions {
                cid_version: 1,
                ..AddOptions::default()
            },
        ] {
            let (want, links) = add_dir(&opts, &d);
            assert_eq!(links.len(), 3);
            let mut sink = HashOnlySink;
            let mut ev = |_: AddEvent<'_>| {};
            let got = Importer::new(opts.clone(), &mut sink, &mut ev)
                .unwrap()
                .build_directory(&links)
                .unwrap();
            assert_eq!(got.cid, want);
        }
    }

    #[test]
    fn empty_directory_is_the_well_known_one() {
        let mut sink = HashOnlySink;
        let mut ev = |_: AddEvent<'_>| {};
        let got = Importer::new(AddOptions::default(), &mut sink, &mut ev)
            .unwrap()
            .build_directory(&[])
            .unwrap();
        assert_eq!(
            got.cid.to_string(),
            "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
        );
    }

    #[test]
    fn bad_names_are_refused() {
        let cid: Cid = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"
            .parse()
            .unwrap();
        for name in ["", "a/b", "..", "."] {
            let mut sink = HashOnlySink;
            let mut ev = |_: AddEvent<'_>| {};
            let link = DirLink {
                name: name.into(),
                cid,
                dag_size: 4,
            };
            assert!(
                Importer::new(AddOptions::default(), &mut sink, &mut ev)
                    .unwrap()
                    .build_directory(&[link])
                    .is_err(),
                "{name:?}"
            );
        }
        let a = DirLink {
            name: "x".into(),
            cid,
            dag_size: 4,
        };
        let mut sink = HashOnlySink;
        let mut ev = |_: AddEvent<'_>| {};
        assert!(
            Importer::new(AddOptions::default(), &mut sink, &mut ev)
                .unwrap()
                .build_directory(&[a.clone(), a])
                .is_err()
        );
    }
}
