//! Garbage collection: remove every block no pin protects, never touching running imports.

use crate::error::Result;
use crate::pinning::live_set;
use crate::store::Blockstore;

/// What a GC run removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    /// Multihashes (bytes) of removed blocks.
    pub removed: Vec<Vec<u8>>,
    /// Bytes of the removed blocks.
    pub freed_bytes: u64,
}

/// Runs a mark-and-sweep GC. Waits for running imports to finish and holds new ones back while
/// it runs, so it never removes a block of an import still in progress.
pub fn collect_garbage(store: &Blockstore) -> Result<GcReport> {
    let _pause = store.imports().pause_for_gc();
    let live = live_set(store)?;
    let mut report = GcReport::default();
    let dead: Vec<Vec<u8>> = store
        .all_multihashes()?
        .into_iter()
        .filter(|mh| !live.contains(mh))
        .collect();
    for batch in dead.chunks(1024) {
        for mh in batch {
            if let Ok(m) = cid::multihash::Multihash::<64>::from_bytes(mh) {
                let cid = cid::Cid::new_v1(crate::ipld::RAW, m);
                report.freed_bytes += store.size(&cid)?.unwrap_or(0);
            }
        }
        store.remove_multihashes(batch)?;
        report.removed.extend_from_slice(batch);
    }
    Ok(report)
}
