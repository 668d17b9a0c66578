//! Pin operations: add (recursive or direct), remove, list by type (recursive, direct, indirect).

use crate::dag_walk::walk_unique;
use crate::error::{Error, Result};
use crate::store::{Blockstore, PinMode, PinRecord};
use cid::Cid;
use std::collections::{BTreeMap, HashSet};

/// Which pins to list (`pin ls --type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinFilter {
    /// Recursive pins.
    Recursive,
    /// Direct pins.
    Direct,
    /// Blocks kept because a recursive pin is above them.
    Indirect,
    /// All of the above.
    All,
}

impl std::str::FromStr for PinFilter {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "recursive" => PinFilter::Recursive,
            "direct" => PinFilter::Direct,
            "indirect" => PinFilter::Indirect,
            "all" => PinFilter::All,
            other => {
                return Err(Error::InvalidInput(format!(
                    "invalid pin type `{other}` (recursive, direct, indirect or all)"
                )));
            }
        })
    }
}

/// The kind shown in `pin ls` output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PinKind {
    /// Recursive.
    Recursive,
    /// Direct.
    Direct,
    /// Indirect through the recursive pin.
    Indirect,
}

impl std::fmt::Display for PinKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PinKind::Recursive => "recursive",
            PinKind::Direct => "direct",
            PinKind::Indirect => "indirect",
        })
    }
}

/// Pins `cid`. A recursive pin first checks that every block of the DAG is present.
pub fn pin_add(store: &Blockstore, cid: &Cid, recursive: bool, name: Option<String>) -> Result<()> {
    if recursive {
        let mut seen = HashSet::new();
        walk_unique(store, cid, &mut seen, &mut |_, _| Ok(()))?;
    } else if !store.has(cid)? {
        return Err(Error::BlockNotFound(*cid));
    }
    let mode = if recursive {
        PinMode::Recursive
    } else {
        PinMode::Direct
    };
    store.put_pin(cid, &PinRecord { mode, name })
}

/// Unpins `cid`. Like Kubo, refuses when it is not pinned, or only pinned indirectly.
pub fn pin_rm(store: &Blockstore, cid: &Cid) -> Result<PinRecord> {
    if let Some(record) = store.remove_pin(cid)? {
        return Ok(record);
    }
    for (root, record) in store.list_pins()? {
        if record.mode == PinMode::Recursive {
            let mut seen = HashSet::new();
            let mut found = false;
            let _ = walk_unique(store, &root, &mut seen, &mut |c, _| {
                found |= c.hash() == cid.hash();
                Ok(())
            });
            if found {
                return Err(Error::Pin(format!(
                    "{cid} is pinned indirectly under {root}"
                )));
            }
        }
    }
    Err(Error::Pin(format!("{cid} is not pinned")))
}

/// Lists pins of the requested type, keyed by CID string for a stable order.
pub fn pin_ls(store: &Blockstore, filter: PinFilter) -> Result<BTreeMap<String, (Cid, PinKind)>> {
    let pins = store.list_pins()?;
    let mut out = BTreeMap::new();
    let want = |k: PinFilter| filter == PinFilter::All || filter == k;
    for (cid, record) in &pins {
        let kind = match record.mode {
            PinMode::Recursive => (PinFilter::Recursive, PinKind::Recursive),
            PinMode::Direct => (PinFilter::Direct, PinKind::Direct),
        };
        if want(kind.0) {
            out.insert(cid.to_string(), (*cid, kind.1));
        }
    }
    if want(PinFilter::Indirect) {
        let mut seen = HashSet::new();
        for (root, record) in &pins {
            if record.mode != PinMode::Recursive {
                continue;
            }
            walk_unique(store, root, &mut seen, &mut |c, _| {
                if c != root
                    && !pins
                        .iter()
                        .any(|(p, r)| p == c && r.mode == PinMode::Recursive)
                {
                    out.entry(c.to_string()).or_insert((*c, PinKind::Indirect));
                }
                Ok(())
            })?;
        }
    }
    Ok(out)
}

/// Multihashes of every block a pin protects (recursive DAGs and direct blocks). Blocks of a
/// recursive DAG that are missing are skipped, so GC can still run on an incomplete repo.
pub fn live_set(store: &Blockstore) -> Result<HashSet<Vec<u8>>> {
    let mut live = HashSet::new();
    for (cid, record) in store.list_pins()? {
        match record.mode {
            PinMode::Direct => {
                live.insert(cid.hash().to_bytes());
            }
            PinMode::Recursive => mark(store, &cid, &mut live)?,
        }
    }
    Ok(live)
}

fn mark(store: &Blockstore, root: &Cid, live: &mut HashSet<Vec<u8>>) -> Result<()> {
    let mut stack = vec![*root];
    while let Some(cid) = stack.pop() {
        if !live.insert(cid.hash().to_bytes()) {
            continue;
        }
        let Some(data) = store.get(&cid)? else {
            continue;
        };
        stack.extend(crate::dag_walk::block_links(&cid, &data)?);
    }
    Ok(())
}
