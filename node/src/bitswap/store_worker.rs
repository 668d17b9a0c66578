//! Stores received blocks off the swarm's event loop. A thread verifies each block, writes
//! whatever has queued up meanwhile in one transaction (one fsync per batch, not per block) and
//! reports back; the behaviour then completes the wants and serves peers waiting for the blocks.

use crate::store::Blockstore;
use cid::Cid;
use libp2p::PeerId;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

/// Most bytes written in one transaction.
const BATCH_BYTES: usize = 32 << 20;
/// Most blocks written in one transaction.
const BATCH_BLOCKS: usize = 512;

/// A block received from `peer`, not yet verified.
pub(super) struct Received {
    pub(super) peer: PeerId,
    pub(super) cid: Cid,
    pub(super) data: Vec<u8>,
}

/// What became of a [`Received`] block.
pub(super) enum Stored {
    /// Verified and durably stored.
    Ok(Received),
    /// Does not match its CID (or cannot be decoded): never stored.
    Bad(Received, String),
    /// Verified, but the datastore refused the write.
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

    /// Queues a block for verification and storage.
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
        let mut good = Vec::with_capacity(batch.len());
        for b in batch {
            match crate::ipld::verify_block(&b.cid, &b.data) {
                Ok(()) => good.push(b),
                Err(e) => {
                    let _ = reports.send(Stored::Bad(b, e.to_string()));
                }
            }
        }
        match write(store, &good) {
            Ok(()) => good.into_iter().for_each(|b| {
                let _ = reports.send(Stored::Ok(b));
            }),
            Err(e) => good.into_iter().for_each(|b| {
                let _ = reports.send(Stored::Failed(b.cid, e.to_string()));
            }),
        }
    }
}

/// Writes verified blocks in one durable transaction.
fn write(store: &Blockstore, blocks: &[Received]) -> crate::error::Result<()> {
    if blocks.is_empty() {
        return Ok(());
    }
    let mut writer = store.writer()?;
    for b in blocks {
        writer.put(&b.cid, &b.data)?;
    }
    writer.finish()
}
