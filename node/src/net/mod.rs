//! The libp2p host: transports, the composed behaviour, and the event loop behind
//! [`NodeHandle`], the async API the daemon and app use.
//!
//! Only the profile decides what leaves loopback: the built-in `local` profile listens on
//! 127.0.0.1, has no bootstrap peers and no discovery (see `repo/profile.rs`).

pub mod announce;
mod bandwidth;
mod behaviour;
mod block_source;
pub mod coalesce;
mod config;
mod event_loop;
mod handle;
pub mod ip_limits;
pub mod limits;
mod names;
mod pin_list;
pub mod pubsub;
mod republish;
mod swarm;
pub mod tls;
pub mod yamux;

pub use announce::{ANNOUNCEMENT_VERSION, CaptureAnnouncement};
pub use bandwidth::Bandwidth;
pub use block_source::NetworkBlocks;
pub use config::NetConfig;
pub use handle::{NetStats, NodeHandle, PeerInfo, PubsubMessage};
pub use limits::NetLimits;
pub use names::{RESOLVE_TIMEOUT, ResolvedName};
pub use pin_list::{
    MAX_PIN_PAGE, PEER_PINS_TIMEOUT, PIN_LIST_PROTOCOL, PeerPin, PeerPinsError, PinListRequest,
    PinListResponse, PinPage, WirePin,
};
pub use pubsub::{Validator, Validators, Verdict};
pub use republish::Republisher;
pub use swarm::start;

/// Agent version sent in identify (`wanda/<version>`).
pub const AGENT_VERSION: &str = concat!("wanda/", env!("CARGO_PKG_VERSION"));
