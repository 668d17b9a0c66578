//! The async handle other tasks use to fetch blocks through the behaviour.

use super::client::Waiter;
use crate::store::Blockstore;
use bytes::Bytes;
use cid::Cid;
use libp2p::PeerId;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Why a Bitswap fetch failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BitswapError {
    /// No peer delivered the block in time.
    #[error("bitswap: timed out fetching {0}")]
    Timeout(Cid),
    /// The behaviour (and so the swarm) is gone.
    #[error("bitswap: the network behaviour has shut down")]
    Shutdown,
    /// The blockstore failed.
    #[error("bitswap: blockstore error: {0}")]
    Store(String),
}

/// Counters for `stats` (block and byte totals since start, current ledger sizes, and what
/// the server refused of hostile peers).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BitswapStats {
    /// Blocks sent to peers.
    pub blocks_sent: u64,
    /// Block bytes sent to peers.
    pub bytes_sent: u64,
    /// Wanted blocks received and stored.
    pub blocks_received: u64,
    /// Bytes of wanted blocks received.
    pub bytes_received: u64,
    /// Blocks received that were already complete (late duplicates).
    pub duplicate_blocks: u64,
    /// CIDs we currently want.
    pub wanted: usize,
    /// Per peer: remembered wants plus queued blocks in its server ledger.
    pub ledgers: HashMap<PeerId, usize>,
    /// Peers known to speak Bitswap.
    pub bitswap_peers: usize,
    /// Datastore lookups made for peers' wants (on the serve thread).
    pub lookups: u64,
    /// Received messages refused whole: over `max_entries_per_message` entries, or wanting
    /// an identity CID.
    pub messages_refused: u64,
    /// Wantlist entries dropped: in refused messages, past a peer's queue
    /// (`max_queued_entries_per_peer`), past a message's lookups (`max_lookups_per_message`),
    /// or with a CID over `max_cid_len`.
    pub entries_refused: u64,
    /// Received frames that were malformed or over the size limit (their stream was closed).
    pub bad_frames: u64,
    /// Received frames that missed their deadline (their stream was closed).
    pub frame_timeouts: u64,
    /// Offences counted (bad frames, oversized messages, identity-CID wants).
    pub strikes: u64,
    /// Peers cut off since start.
    pub peers_penalised: u64,
    /// Connections refused because their peer was cut off.
    pub connections_denied: u64,
    /// Peers cut off now.
    pub penalised_now: usize,
}

/// A request from a handle to the behaviour.
pub(super) enum Command {
    /// Fetch a block.
    Get(Cid, Waiter),
    /// A block was added to the store outside the behaviour.
    BlockAdded(Cid),
    /// Report counters.
    Stats(oneshot::Sender<BitswapStats>),
}

/// Cheap, clonable access to a running [`super::Behaviour`] from any task.
#[derive(Clone)]
pub struct BitswapHandle {
    tx: mpsc::UnboundedSender<Command>,
    store: Blockstore,
}

impl BitswapHandle {
    pub(super) fn new(tx: mpsc::UnboundedSender<Command>, store: Blockstore) -> Self {
        BitswapHandle { tx, store }
    }

    /// Returns the block, from the local store if present, else from the network.
    /// Received blocks are verified and stored before this returns. The bytes are shared with
    /// every other waiter of the block (no copy per waiter).
    pub async fn get(&self, cid: Cid, timeout: Duration) -> Result<Bytes, BitswapError> {
        if let Some(data) = self
            .store
            .get(&cid)
            .map_err(|e| BitswapError::Store(e.to_string()))?
        {
            return Ok(data.into());
        }
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Get(cid, tx))
            .map_err(|_| BitswapError::Shutdown)?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(BitswapError::Shutdown),
            // Dropping `rx` lets the behaviour cancel the want on its next tick.
            Err(_) => Err(BitswapError::Timeout(cid)),
        }
    }

    /// Tells the behaviour that `cid` was just stored locally, so peers waiting for it are
    /// served (HAVE or the block) and local waiters complete.
    pub fn block_added(&self, cid: Cid) -> Result<(), BitswapError> {
        self.tx
            .send(Command::BlockAdded(cid))
            .map_err(|_| BitswapError::Shutdown)
    }

    /// Current counters.
    pub async fn stats(&self) -> Result<BitswapStats, BitswapError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Command::Stats(tx))
            .map_err(|_| BitswapError::Shutdown)?;
        rx.await.map_err(|_| BitswapError::Shutdown)
    }
}
