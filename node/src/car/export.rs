//! `ipfs dag export`-compatible DAG export: depth-first, pre-order, each block once.
//!
//! Kubo's `dag export` walks the DAG with go-ipld-prime's `ExploreAllRecursively`
//! selector and writes each block to the CAR the first time it is loaded
//! (go-car `TraverseV1`/`SelectiveCar` with links visited only once). That is a
//! pre-order depth-first walk over children in link order (dag-pb `Links` order,
//! dag-cbor/dag-json document order), skipping CIDs already written.
//!
//! Identity-hash CIDs: neither go-car's selective writer nor go-ipld-prime special-cases
//! them, and Kubo's blockstore (boxo `idstore`) serves their digest as the block. So
//! Kubo *does* write a section for each identity CID it reaches (once, like any
//! block). We do the same, taking the data from the CID's digest without calling
//! `get`, so stores that never persist identity blocks work unchanged.

use std::collections::HashSet;
use std::io::Write;

use cid::Cid;

use super::{CarError, CarWriter};
use crate::ipld::{IDENTITY, LinksError, links};

/// Why a DAG export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError<E> {
    /// A block reachable from the roots is not available.
    #[error("cannot export DAG: block {0} is missing")]
    Missing(Cid),
    /// The block source failed while fetching a block.
    #[error("cannot export DAG: reading block {cid} failed: {error}")]
    Get {
        /// The block being fetched.
        cid: Cid,
        /// The source's error.
        error: E,
    },
    /// A block's links could not be decoded (unsupported codec or malformed data).
    #[error("cannot export DAG: {0}")]
    Links(Box<LinksError>),
    /// Writing the CAR failed.
    #[error("cannot export DAG: {0}")]
    Car(#[from] CarError),
}

impl<E> From<LinksError> for ExportError<E> {
    fn from(e: LinksError) -> Self {
        ExportError::Links(Box::new(e))
    }
}

/// Writes a CARv1 with header `roots` containing every block reachable from them, in
/// Kubo `ipfs dag export` order (pre-order DFS, children in link order, each CID once;
/// several roots are walked one after another sharing the "already written" set).
///
/// `get` returns a block's bytes, `Ok(None)` if absent (→ [`ExportError::Missing`]).
/// Blocks from `get` are trusted (not re-hashed), as in Kubo. Returns `out` on success;
/// on error, `out` holds a partial CAR.
pub fn export_dfs<W, E, F>(roots: &[Cid], mut get: F, out: W) -> Result<W, ExportError<E>>
where
    W: Write,
    F: FnMut(&Cid) -> Result<Option<Vec<u8>>, E>,
{
    let mut car = CarWriter::new(out, roots)?;
    let mut written: HashSet<Cid> = HashSet::new();
    let mut stack: Vec<Cid> = roots.iter().rev().copied().collect();
    while let Some(cid) = stack.pop() {
        if !written.insert(cid) {
            continue;
        }
        let data = if cid.hash().code() == IDENTITY {
            cid.hash().digest().to_vec()
        } else {
            get(&cid)
                .map_err(|error| ExportError::Get { cid, error })?
                .ok_or(ExportError::Missing(cid))?
        };
        let children = links(&cid, &data)?;
        car.write_block(&cid, &data)?;
        stack.extend(children.into_iter().rev());
    }
    Ok(car.finish()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::car::CarReader;
    use crate::ipld::{DAG_CBOR, RAW};
    use ipld_core::ipld::Ipld;
    use multihash::Multihash;
    use multihash_codetable::{Code, MultihashDigest};
    use std::collections::HashMap;

    fn put(store: &mut HashMap<Cid, Vec<u8>>, value: Ipld) -> Cid {
        let bytes = serde_ipld_dagcbor::to_vec(&value).unwrap();
        let cid = Cid::new_v1(DAG_CBOR, Code::Sha2_256.digest(&bytes));
        store.insert(cid, bytes);
        cid
    }

    fn order(car: &[u8]) -> Vec<Cid> {
        let mut reader = CarReader::new(car).unwrap();
        let mut out = Vec::new();
        while let Some((cid, _)) = reader.next_block().unwrap() {
            out.push(cid);
        }
        out
    }

    #[test]
    fn preorder_dfs_each_block_once_with_identity() {
        let mut store = HashMap::new();
        let leaf = Cid::new_v1(RAW, Code::Sha2_256.digest(b"leaf"));
        store.insert(leaf, b"leaf".to_vec());
        let inline = Cid::new_v1(RAW, Multihash::<64>::wrap(IDENTITY, b"hi").unwrap());
        let a = put(
            &mut store,
            Ipld::List(vec![Ipld::Link(leaf), Ipld::Link(inline)]),
        );
        let b = put(&mut store, Ipld::List(vec![Ipld::Link(leaf)]));
        let root = put(
            &mut store,
            Ipld::List(vec![Ipld::Link(a), Ipld::Link(b), Ipld::Link(a)]),
        );
        let get = |c: &Cid| Ok::<_, std::convert::Infallible>(store.get(c).cloned());
        let car = export_dfs(&[root], get, Vec::new()).unwrap();
        assert_eq!(order(&car), vec![root, a, leaf, inline, b]);
    }

    #[test]
    fn missing_block_is_named() {
        let mut store = HashMap::new();
        let absent = Cid::new_v1(RAW, Code::Sha2_256.digest(b"absent"));
        let root = put(&mut store, Ipld::List(vec![Ipld::Link(absent)]));
        let get = |c: &Cid| Ok::<_, anyhow::Error>(store.get(c).cloned());
        let err = export_dfs(&[root], get, Vec::new()).unwrap_err();
        assert!(matches!(err, ExportError::Missing(c) if c == absent));
        assert!(err.to_string().contains(&absent.to_string()));
    }

    #[test]
    fn source_errors_carry_the_cid() {
        let root = Cid::new_v1(RAW, Code::Sha2_256.digest(b"r"));
        let get = |_: &Cid| Err::<Option<Vec<u8>>, _>(anyhow::anyhow!("disk on fire"));
        let msg = export_dfs(&[root], get, Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("disk on fire") && msg.contains(&root.to_string()),
            "{msg}"
        );
    }
}
