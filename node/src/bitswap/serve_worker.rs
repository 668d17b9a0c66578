//! Serves peers' wants off the swarm's event loop: the `bitswap-serve` thread looks wanted
//! CIDs up in the datastore and reads the blocks to send, and reports back; the behaviour
//! turns the reports into HAVE / DONT_HAVE answers and block messages.
//!
//! The behaviour gives each peer at most one lookup job (of at most [`LOOKUP_BATCH`] CIDs) and
//! one read job (of at most [`super::MAX_BATCH_BYTES`]) at a time, and the thread takes jobs in
//! order: so peers are served round-robin, and a peer flooding us with wants waits behind
//! everyone else's next job rather than in front of it. The queue holds at most two jobs per
//! connected peer.

use crate::store::Blockstore;
use bytes::Bytes;
use cid::Cid;
use libp2p::PeerId;
use std::sync::mpsc as std_mpsc;
use tokio::sync::mpsc;

/// Most CIDs looked up for one peer in one job (one round).
pub(super) const LOOKUP_BATCH: usize = 64;
/// Most CIDs handed to one read job (it reads until [`super::MAX_BATCH_BYTES`] and hands the
/// rest back unread).
pub(super) const READ_BATCH: usize = 256;

/// Work for the thread. `epoch` names the peer's state the job was made for, so a report for
/// a peer that disconnected and came back meanwhile is ignored.
pub(super) enum Job {
    /// Which of these CIDs do we hold?
    Lookup {
        peer: PeerId,
        epoch: u64,
        cids: Vec<Cid>,
    },
    /// Read these blocks, in order, until `max_bytes` have been read.
    Read {
        peer: PeerId,
        epoch: u64,
        cids: Vec<Cid>,
        max_bytes: usize,
    },
}

/// What the thread found.
pub(super) enum Report {
    /// Each CID of a lookup job, and whether we hold it.
    Looked {
        peer: PeerId,
        epoch: u64,
        found: Vec<(Cid, bool)>,
    },
    /// The blocks of a read job; `missing` were not stored any more, `unread` did not fit.
    Read {
        peer: PeerId,
        epoch: u64,
        blocks: Vec<(Cid, Bytes)>,
        missing: Vec<Cid>,
        unread: Vec<Cid>,
    },
}

/// The serving thread's mailbox and its reports.
pub(super) struct ServeWorker {
    tx: std_mpsc::Sender<Job>,
    /// Reports, polled by the behaviour.
    pub(super) rx: mpsc::UnboundedReceiver<Report>,
}

impl ServeWorker {
    /// Starts the thread; it ends when the worker is dropped.
    pub(super) fn spawn(store: Blockstore) -> Self {
        let (tx, inbox) = std_mpsc::channel();
        let (reports, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("bitswap-serve".into())
            .spawn(move || run(&store, &inbox, &reports))
            .expect("cannot start the bitswap serve thread");
        ServeWorker { tx, rx }
    }

    /// Queues a job.
    pub(super) fn submit(&self, job: Job) {
        if self.tx.send(job).is_err() {
            tracing::warn!("bitswap: serve thread gone; dropping a job");
        }
    }
}

fn run(
    store: &Blockstore,
    inbox: &std_mpsc::Receiver<Job>,
    reports: &mpsc::UnboundedSender<Report>,
) {
    while let Ok(job) = inbox.recv() {
        let report = match job {
            Job::Lookup { peer, epoch, cids } => Report::Looked {
                peer,
                epoch,
                found: cids.into_iter().map(|c| (c, has(store, &c))).collect(),
            },
            Job::Read {
                peer,
                epoch,
                cids,
                max_bytes,
            } => read(store, peer, epoch, cids, max_bytes),
        };
        if reports.send(report).is_err() {
            return;
        }
    }
}

fn has(store: &Blockstore, cid: &Cid) -> bool {
    store.has(cid).unwrap_or_else(|e| {
        tracing::warn!("bitswap: looking up {cid} failed: {e}");
        false
    })
}

/// Reads blocks in order until `max_bytes` (the block that crosses it included, so nothing
/// read is wasted).
fn read(store: &Blockstore, peer: PeerId, epoch: u64, cids: Vec<Cid>, max_bytes: usize) -> Report {
    let (mut blocks, mut missing, mut unread) = (Vec::new(), Vec::new(), Vec::new());
    let mut bytes = 0;
    for cid in cids {
        if bytes >= max_bytes {
            unread.push(cid);
            continue;
        }
        match store.get(&cid) {
            Ok(Some(data)) => {
                bytes += data.len();
                blocks.push((cid, Bytes::from(data)));
            }
            Ok(None) => missing.push(cid),
            Err(e) => {
                tracing::warn!("bitswap: reading {cid} failed: {e}");
                missing.push(cid);
            }
        }
    }
    Report::Read {
        peer,
        epoch,
        blocks,
        missing,
        unread,
    }
}
