//! What the host needs from the repo config, parsed and checked once.

use crate::error::{Error, Result};
use crate::repo::NodeConfig;
use libp2p::Multiaddr;
use std::time::Duration;

/// Network settings of a running node.
#[derive(Debug, Clone)]
pub struct NetConfig {
    /// Addresses to listen on.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start (must carry `/p2p/<id>`).
    pub bootstrap: Vec<Multiaddr>,
    /// Peers to keep connected.
    pub peering: Vec<Multiaddr>,
    /// Kademlia protocol name.
    pub kad_protocol: String,
    /// `client`, `server` or `auto`.
    pub dht_mode: String,
    /// mDNS discovery.
    pub mdns: bool,
    /// AutoNAT + relay client + DCUtR.
    pub nat_traversal: bool,
    /// Maximum established connections.
    pub max_connections: u32,
    /// Gossipsub topic for capture announcements.
    pub topic: String,
    /// How often provider records are re-announced.
    pub reprovide_interval: Duration,
    /// Limits against hostile and greedy peers.
    pub limits: super::limits::NetLimits,
    /// Application validators of pub/sub topics (set by the app, not the config file).
    pub validators: super::pubsub::Validators,
    /// What the Bitswap server accepts from one peer.
    pub bitswap: crate::bitswap::BitswapLimits,
}

fn addrs(key: &str, list: &[String]) -> Result<Vec<Multiaddr>> {
    list.iter()
        .map(|a| {
            a.parse().map_err(|e| Error::BadConfigValue {
                key: key.into(),
                reason: format!("`{a}`: {e}"),
            })
        })
        .collect()
}

impl NetConfig {
    /// Reads the network settings of a repo config.
    pub fn from_config(cfg: &NodeConfig) -> Result<Self> {
        Ok(NetConfig {
            listen: addrs("addresses.swarm", &cfg.addresses.swarm)?,
            bootstrap: addrs("network.bootstrap", &cfg.network.bootstrap)?,
            peering: addrs("network.peering", &cfg.network.peering)?,
            kad_protocol: cfg.network.kad_protocol.clone(),
            dht_mode: cfg.network.dht_mode.clone(),
            mdns: cfg.network.mdns,
            nat_traversal: cfg.network.nat_traversal,
            max_connections: cfg.network.max_connections,
            topic: cfg.pubsub.topic.clone(),
            reprovide_interval: Duration::from_secs(12 * 3600),
            limits: super::limits::NetLimits {
                max_connections: cfg.network.max_connections,
                max_connections_per_peer: cfg.swarm.max_connections_per_peer,
                max_connections_per_ip: cfg.swarm.max_connections_per_ip,
                ip_limit_exempts_loopback: true,
                max_pending: cfg.swarm.max_pending_connections,
                low_water: cfg.swarm.conn_low_water,
                high_water: cfg.swarm.conn_high_water,
                grace: crate::repo::config::parse_duration(&cfg.swarm.conn_grace_period)
                    .unwrap_or(Duration::from_secs(20)),
                max_memory_fraction: f64::from(cfg.swarm.max_memory_percent) / 100.0,
                max_streams: cfg.swarm.max_streams_per_connection as usize,
                peer_rate: cfg.pubsub.peer_rate,
                peer_burst: cfg.pubsub.peer_burst,
            },
            validators: Default::default(),
            bitswap: crate::bitswap::BitswapLimits {
                max_queued_entries_per_peer: cfg.bitswap.max_queued_entries_per_peer as usize,
                max_lookups_per_message: cfg.bitswap.max_lookups_per_message as usize,
                max_entries_per_message: cfg.bitswap.max_entries_per_message as usize,
                max_entries_per_second: cfg.bitswap.max_entries_per_second as usize,
                read_budget_per_connection: crate::repo::config::parse_size(
                    &cfg.bitswap.read_budget_per_connection,
                )
                .map(|b| b as usize)
                .unwrap_or(8 << 20),
                max_strikes: cfg.bitswap.max_strikes as usize,
                penalty: crate::repo::config::parse_duration(&cfg.bitswap.penalty)
                    .unwrap_or(Duration::from_secs(600)),
                ..Default::default()
            },
        })
    }

    /// A loopback-only config with ephemeral ports (tests and demos).
    pub fn loopback() -> Self {
        NetConfig {
            listen: vec!["/ip4/127.0.0.1/tcp/0".parse().expect("valid multiaddr")],
            bootstrap: vec![],
            peering: vec![],
            kad_protocol: "/ipfs/kad/1.0.0".into(),
            dht_mode: "server".into(),
            mdns: false,
            nat_traversal: false,
            max_connections: 128,
            topic: "/wanda-telescope".into(),
            reprovide_interval: Duration::from_secs(12 * 3600),
            limits: Default::default(),
            validators: Default::default(),
            bitswap: Default::default(),
        }
    }
}
