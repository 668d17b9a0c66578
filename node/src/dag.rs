//! `dag export` / `dag import`: whole DAGs as CAR v1 files, as Kubo does them.

use crate::blocks::BlockSource;
use crate::car::{CarReader, export_dfs};
use crate::error::{Error, Result};
use crate::pinning::pin_add;
use crate::store::Blockstore;
use cid::Cid;
use std::io::{Read, Write};

/// What `import_car` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// Roots named in the CAR header.
    pub roots: Vec<Cid>,
    /// Blocks read (each verified against its CID).
    pub blocks: u64,
    /// Bytes of those blocks' data (Kubo's `BlockBytesCount`).
    pub block_bytes: u64,
}

/// Writes the DAG under `root` as a CAR v1 in Kubo's order (depth-first, each block once).
/// `src` is the local store, or a source that also fetches from the network.
pub fn export_car(src: &dyn BlockSource, root: &Cid, out: &mut dyn Write) -> Result<()> {
    src.get_block(root)?;
    let get = |cid: &Cid| match src.get_block(cid) {
        Ok(block) => Ok(Some(block)),
        Err(Error::BlockNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    };
    export_dfs(std::slice::from_ref(root), get, out).map_err(|e| Error::Car(e.to_string()))?;
    Ok(())
}

/// Reads a CAR, verifies every block against its CID, stores them in one durable write and,
/// with `pin_roots`, pins each root recursively (which requires the complete DAG, as in Kubo).
/// A corrupt block aborts the import before anything is committed for small CARs.
pub fn import_car(store: &Blockstore, input: impl Read, pin_roots: bool) -> Result<ImportReport> {
    let mut reader = CarReader::new(input).map_err(|e| Error::Car(e.to_string()))?;
    let roots = reader.roots().to_vec();
    let mut writer = store.writer()?;
    let (mut blocks, mut block_bytes) = (0, 0);
    while let Some((cid, data)) = reader.next_block().map_err(|e| Error::Car(e.to_string()))? {
        writer.put(&cid, &data)?;
        blocks += 1;
        block_bytes += data.len() as u64;
    }
    writer.finish()?;
    if pin_roots {
        for root in &roots {
            pin_add(store, root, true, None)
                .map_err(|e| Error::Pin(format!("pinning root {root}: {e}")))?;
        }
    }
    Ok(ImportReport {
        roots,
        blocks,
        block_bytes,
    })
}
