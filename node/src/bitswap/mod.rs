//! Bitswap 1.2.0 (and 1.1.0/1.0.0 inbound and outbound): the block-exchange protocol Kubo and
//! Helia use, as a libp2p [`NetworkBehaviour`](libp2p::swarm::NetworkBehaviour).
//!
//! - [`Behaviour`] serves wants from the [`Blockstore`](crate::store::Blockstore) (HAVE /
//!   DONT_HAVE / blocks, remembering wants for blocks that arrive later) and fetches blocks
//!   for [`BitswapHandle::get`], verifying and storing them.
//! - [`message`] is the hand-written protobuf codec; [`protocol`] the stream framing;
//!   [`inbound`] hashes received blocks on the connection's task.
//! - [`BitswapLimits`] is what a peer may ask of the server before its wants are dropped and,
//!   if it keeps offending, it is cut off (`docs/NETWORK.md`, "Hostile peers: Bitswap").

mod behaviour;
mod client;
mod engine;
mod handle;
mod handler;
pub mod inbound;
pub mod inbound_streams;
mod ledger;
mod limits;
pub mod message;
mod pb;
pub mod prefix;
pub mod protocol;
mod serve_worker;
mod store_worker;

#[cfg(test)]
mod client_tests;
#[cfg(test)]
mod message_tests;

pub use behaviour::{Behaviour, Penalised};
pub use handle::{BitswapError, BitswapHandle, BitswapStats};
pub use handler::{Handler, HandlerIn, HandlerOut};
pub use limits::BitswapLimits;
pub use protocol::{MAX_MESSAGE_SIZE, Version};

use cid::Cid;
use libp2p::PeerId;

/// Largest total of block bytes put in one outgoing message (~2 MiB, below the 4 MiB limit).
pub const MAX_BATCH_BYTES: usize = 2 << 20;
/// Bytes (blocks, and answers) that may be queued towards one peer before further blocks and
/// answers wait.
pub const MAX_IN_FLIGHT_BYTES: usize = 8 << 20;

/// What the behaviour reports to the swarm owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BitswapEvent {
    /// A wanted block arrived, was verified and stored.
    BlockReceived {
        /// The block.
        cid: Cid,
        /// Who sent it.
        from: PeerId,
    },
    /// No connected peer has this wanted block: find providers and connect to them (pending
    /// wants are sent to every newly connected peer).
    NeedProviders {
        /// The block.
        cid: Cid,
    },
    /// A peer sent a block that cannot be valid (its bytes do not fit the CID prefix it came
    /// with) or that we never asked for. Its connections are being closed.
    BadBlock {
        /// The offender.
        peer: PeerId,
        /// The CID the bytes hash to, when one could be computed.
        cid: Option<Cid>,
        /// Human-readable cause.
        reason: String,
    },
    /// The peer negotiated a Bitswap stream with us (reported once per peer connection set).
    PeerUsesBitswap {
        /// The peer.
        peer: PeerId,
    },
    /// The peer broke the server's limits too often ([`BitswapLimits::max_strikes`] within
    /// [`BitswapLimits::strike_window`]): its connections are being closed and new ones are
    /// refused for [`BitswapLimits::penalty`].
    PeerPenalised {
        /// The offender.
        peer: PeerId,
        /// Its last offence.
        reason: String,
    },
}
