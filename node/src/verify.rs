//! `repo verify`: re-hash every stored block.

use crate::error::Result;
use crate::store::Blockstore;
use cid::Cid;

/// Outcome of a verification run.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// Blocks checked.
    pub checked: u64,
    /// Blocks whose bytes do not match their multihash (as raw CIDv1), with the reason.
    pub corrupt: Vec<(String, String)>,
}

/// Re-hashes every block; `progress(done, total)` is called as it goes.
pub fn verify_repo(store: &Blockstore, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport> {
    let all = store.all_multihashes()?;
    let total = all.len() as u64;
    let mut report = VerifyReport::default();
    for mh in all {
        let cid = match cid::multihash::Multihash::<64>::from_bytes(&mh) {
            Ok(m) => Cid::new_v1(crate::ipld::RAW, m),
            Err(e) => {
                report
                    .corrupt
                    .push((hex(&mh), format!("bad multihash key: {e}")));
                continue;
            }
        };
        match store.get(&cid) {
            Ok(Some(data)) => {
                if let Err(e) = crate::ipld::verify_block(&cid, &data) {
                    report.corrupt.push((cid.to_string(), e.to_string()));
                }
            }
            Ok(None) => report
                .corrupt
                .push((cid.to_string(), "indexed but unreadable".into())),
            Err(e) => report.corrupt.push((cid.to_string(), e.to_string())),
        }
        report.checked += 1;
        progress(report.checked, total);
    }
    Ok(report)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
