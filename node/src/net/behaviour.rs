//! The composed network behaviour: one sub-behaviour per protocol.

use super::config::NetConfig;
use crate::error::{Error, Result};
use libp2p::swarm::NetworkBehaviour;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::{
    StreamProtocol, autonat, connection_limits, dcutr, gossipsub, identify, identity::Keypair, kad,
    mdns, memory_connection_limits, ping, relay,
};
use std::time::Duration;

/// Every protocol the node speaks.
#[derive(NetworkBehaviour)]
pub struct NodeBehaviour {
    /// Caps pending and established connections (in all, per peer).
    pub limits: connection_limits::Behaviour,
    /// Refuses new connections while the process uses too much memory.
    pub memory: memory_connection_limits::Behaviour,
    /// Caps inbound connections per IP address.
    pub per_ip: super::ip_limits::Behaviour,
    /// `/ipfs/id/1.0.0`.
    pub identify: identify::Behaviour,
    /// `/ipfs/ping/1.0.0`.
    pub ping: ping::Behaviour,
    /// Kademlia DHT (protocol name from config).
    pub kad: kad::Behaviour<kad::store::MemoryStore>,
    /// Signed gossipsub.
    pub gossipsub: gossipsub::Behaviour,
    /// mDNS (lan profile only).
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    /// AutoNAT (public profile only).
    pub autonat: Toggle<autonat::Behaviour>,
    /// Relay client (transport side is always built; only used when listening via a relay).
    pub relay: relay::client::Behaviour,
    /// Hole punching (public profile only).
    pub dcutr: Toggle<dcutr::Behaviour>,
    /// Bitswap 1.2.0 (our own; also answers 1.1.0/1.0.0).
    pub bitswap: crate::bitswap::Behaviour,
    /// `/wanda/pins/1.0.0`: our pin list for peers, theirs for us.
    pub pin_list: super::pin_list::Behaviour,
}

impl NodeBehaviour {
    /// Builds the behaviour for `key` under `cfg`.
    pub fn new(
        key: &Keypair,
        relay: relay::client::Behaviour,
        cfg: &NetConfig,
        store: crate::store::Blockstore,
    ) -> Result<Self> {
        let peer_id = key.public().to_peer_id();
        let protocol = StreamProtocol::try_from_owned(cfg.kad_protocol.clone()).map_err(|e| {
            Error::BadConfigValue {
                key: "network.kad_protocol".into(),
                reason: e.to_string(),
            }
        })?;
        let mut kad_cfg = kad::Config::new(protocol);
        kad_cfg
            .set_query_timeout(Duration::from_secs(30))
            .set_record_filtering(kad::StoreInserts::FilterBoth)
            .set_provider_publication_interval(Some(cfg.reprovide_interval))
            .set_periodic_bootstrap_interval(
                (!cfg.bootstrap.is_empty()).then_some(Duration::from_secs(300)),
            );
        let mut kad =
            kad::Behaviour::with_config(peer_id, kad::store::MemoryStore::new(peer_id), kad_cfg);
        kad.set_mode(match cfg.dht_mode.as_str() {
            "server" => Some(kad::Mode::Server),
            "client" => Some(kad::Mode::Client),
            _ => None,
        });

        // signatures checked (Strict), every message held until judged (validate_messages,
        // net/pubsub.rs), small messages and control lists, a bounded seen-cache
        let gossip_cfg = gossipsub::ConfigBuilder::default()
            .validation_mode(gossipsub::ValidationMode::Strict)
            .validate_messages()
            .max_transmit_size(super::pubsub::MAX_TRANSMIT_SIZE)
            .max_publish_messages(256)
            .max_ihave_messages_heartbeat(10)
            .max_control_messages_sent(1000)
            .duplicate_cache_time(Duration::from_secs(120))
            .heartbeat_interval(Duration::from_millis(700))
            .build()
            .map_err(|e| Error::InvalidInput(format!("gossipsub config: {e}")))?;
        let mut gossipsub = gossipsub::Behaviour::new(
            gossipsub::MessageAuthenticity::Signed(key.clone()),
            gossip_cfg,
        )
        .map_err(|e| Error::InvalidInput(format!("gossipsub: {e}")))?;
        let scored = cfg
            .validators
            .topics()
            .map(|t| gossipsub::IdentTopic::new(t.clone()).hash());
        gossipsub
            .with_peer_score(
                super::pubsub::score_params(scored),
                super::pubsub::score_thresholds(),
            )
            .map_err(|e| Error::InvalidInput(format!("gossipsub scoring: {e}")))?;

        let mdns = if cfg.mdns {
            Some(
                mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id)
                    .map_err(|e| Error::InvalidInput(format!("mdns: {e}")))?,
            )
        } else {
            None
        };
        let l = &cfg.limits;
        let limits = connection_limits::ConnectionLimits::default()
            .with_max_established(Some(l.max_connections))
            .with_max_established_per_peer(Some(l.max_connections_per_peer))
            .with_max_pending_incoming(Some(l.max_pending))
            .with_max_pending_outgoing(Some(l.max_pending));
        let mut limits = connection_limits::Behaviour::new(limits);
        let mut per_ip =
            super::ip_limits::Behaviour::new(l.max_connections_per_ip, l.ip_limit_exempts_loopback);
        for addr in &cfg.peering {
            if let Some(libp2p::multiaddr::Protocol::P2p(p)) = addr.iter().last() {
                // peering peers are kept whatever the limits say (Kubo's Peering)
                limits.bypass_peer_id(&p);
                per_ip.bypass_peer_id(p);
            }
        }
        Ok(NodeBehaviour {
            limits,
            memory: memory_connection_limits::Behaviour::with_max_percentage(l.max_memory_fraction),
            per_ip,
            identify: identify::Behaviour::new(
                identify::Config::new("/ipfs/id/1.0.0".into(), key.public())
                    .with_agent_version(super::AGENT_VERSION.into()),
            ),
            ping: ping::Behaviour::new(ping::Config::new()),
            kad,
            gossipsub,
            mdns: mdns.into(),
            autonat: cfg
                .nat_traversal
                .then(|| autonat::Behaviour::new(peer_id, autonat::Config::default()))
                .into(),
            relay,
            dcutr: cfg
                .nat_traversal
                .then(|| dcutr::Behaviour::new(peer_id))
                .into(),
            pin_list: super::pin_list::Behaviour::new(store.clone()),
            bitswap: crate::bitswap::Behaviour::with_limits(store, cfg.bitswap.clone()),
        })
    }
}
