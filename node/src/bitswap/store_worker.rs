//! Stores received blocks off the swarm's event loop. A thread writes whatever has queued up
//! meanwhile in one transaction and reports back; the behaviour then completes the wants and
//! serves peers waiting for the blocks. Fetched blocks are unpinned cache, so the transactions
//! are not fsync'd ([`Blockstore::cache_writer`]): the commit that pins them makes them durable,
//! and a crash before it only loses whole cached blocks.
//!
//! Blocks come here already verified: their CIDs were computed from their bytes on the
//! connection's task ([`super::inbound`]), and only CIDs the node asked for are submitted.

use crate::store::Blockstore;
use cid::Cid;
use libp2p::PeerId;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

/// Most bytes written in one transaction.
const BATCH_BYTES: usize = 32 << 20;
/// Most blocks written in one transaction.
const BATCH_BLOCKS: usize = 512;

/// A wanted block received from `peer`, its CID computed from its bytes.
pub(super) struct Received {
    pub(super) peer: PeerId,
    pub(super) cid: Cid,
    pub(super) data: bytes::Bytes,
}

/// What became of a [`Received`] block.
pub(super) enum Stored {
    /// Stored (atomic; durable with the store's next durable commit).
    Ok(Received),
    /// The datastore refused the write.
    Failed(Cid, String),
}

/// The storing thread's mailbox and its reports.
pub(super) struct StoreWorker {
    tx: std_mpsc::Sender<Received>,
    /// Reports, polled by the behaviour.
    pub(super) rx: mpsc::UnboundedReceiver<Stored>,
}

impl StoreWorker {
    /// Starts the thread; it ends when the worker is dropped.
    pub(super) fn spawn(store: Blockstore) -> Self {
        let (tx, inbox) = std_mpsc::channel();
        let (reports, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("bitswap-store".into())
            .spawn(move || run(&store, &inbox, &reports))
            .expect("cannot start the bitswap store thread");
        StoreWorker { tx, rx }
    }

    /// Queues a block for storage.
    pub(super) fn submit(&self, block: Received) {
        if let Err(std_mpsc::SendError(b)) = self.tx.send(block) {
            tracing::warn!("bitswap: store thread gone; dropping {}", b.cid);
        }
    }
}

fn run(
    store: &Blockstore,
    inbox: &std_mpsc::Receiver<Received>,
    reports: &mpsc::UnboundedSender<Stored>,
) {
    while let Ok(first) = inbox.recv() {
        let mut bytes = first.data.len();
        let mut batch = vec![first];
        while bytes < BATCH_BYTES && batch.len() < BATCH_BLOCKS {
            match inbox.try_recv() {
                Ok(b) => {
                    bytes += b.data.len();
                    batch.push(b);
                }
                Err(_) => break,
            }
        }
        match write(store, &batch) {
            Ok(()) => batch.into_iter().for_each(|b| {
                let _ = reports.send(Stored::Ok(b));
            }),
            Err(e) => batch.into_iter().for_each(|b| {
                let _ = reports.send(Stored::Failed(b.cid, e.to_string()));
            }),
        }
    }
}

/// Writes blocks in one atomic (not fsync'd) transaction.
fn write(store: &Blockstore, blocks: &[Received]) -> crate::error::Result<()> {
    if blocks.is_empty() {
        return Ok(());
    }
    let mut writer = store.cache_writer()?;
    for b in blocks {
        writer.put(&b.cid, &b.data)?;
    }
    writer.finish()
}
