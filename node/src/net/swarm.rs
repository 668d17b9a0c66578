//! Building the swarm (TCP + QUIC, TLS/noise, yamux, DNS, relay client) and starting the loop.

use super::bandwidth::BandwidthMeter;
use super::behaviour::NodeBehaviour;
use super::config::NetConfig;
use super::event_loop::EventLoop;
use super::handle::NodeHandle;
use super::tls::TlsUpgrade;
use super::yamux::Yamux;
use crate::error::{Error, Result};
use libp2p::identity::Keypair;
use libp2p::{noise, tcp};
use std::time::Duration;
use tokio::sync::mpsc;

/// Starts a node with `key` and `cfg` on the current tokio runtime. Returns its handle once it
/// listens on every configured address; the event loop runs until [`NodeHandle::shutdown`].
pub async fn start(
    key: Keypair,
    cfg: NetConfig,
    store: crate::store::Blockstore,
) -> Result<(NodeHandle, tokio::task::JoinHandle<()>)> {
    let net_err = |e: String| Error::InvalidInput(format!("network: {e}"));
    let mut registry = libp2p::metrics::Registry::default();
    let mut swarm = libp2p::SwarmBuilder::with_existing_identity(key.clone())
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            (TlsUpgrade::new, noise::Config::new),
            {
                let streams = cfg.limits.max_streams;
                move || Yamux::new(streams)
            },
        )
        .map_err(|e| net_err(e.to_string()))?
        .with_quic()
        .with_dns()
        .map_err(|e| net_err(e.to_string()))?
        .with_relay_client(noise::Config::new, {
            let streams = cfg.limits.max_streams;
            move || Yamux::new(streams)
        })
        .map_err(|e| net_err(e.to_string()))?
        .with_bandwidth_metrics(&mut registry)
        .with_behaviour(|key, relay| {
            NodeBehaviour::new(key, relay, &cfg, store.clone()).map_err(Box::from)
        })
        .map_err(|e| net_err(e.to_string()))?
        .with_swarm_config(|c| {
            c.with_idle_connection_timeout(Duration::from_secs(120))
                // streams being negotiated at once on one connection
                .with_max_negotiating_inbound_streams(32)
        })
        .build();
    let mut pending_listens = 0;
    for addr in &cfg.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| Error::BadConfigValue {
                key: "addresses.swarm".into(),
                reason: format!("cannot listen on {addr}: {e}"),
            })?;
        pending_listens += 1;
    }
    let peer_id = *swarm.local_peer_id();
    let local_names = crate::ipns::LocalRecords::new(store.clone());
    serve_own_names(&mut swarm, &local_names, peer_id);
    let bandwidth = BandwidthMeter::new(registry);
    let bitswap = swarm.behaviour().bitswap.handle();
    let (tx, rx) = mpsc::channel(256);
    let mut event_loop = EventLoop::new(swarm, rx, cfg.clone(), bandwidth.clone());
    event_loop.wait_for_listeners(pending_listens).await?;
    event_loop.dial_bootstrap();
    let task = tokio::spawn(event_loop.run());
    let protocols = std::sync::Arc::new(vec![
        "/ipfs/id/1.0.0".to_string(),
        "/ipfs/id/push/1.0.0".into(),
        "/ipfs/ping/1.0.0".into(),
        cfg.kad_protocol.clone(),
        "/meshsub/1.1.0".into(),
        "/meshsub/1.0.0".into(),
        "/ipfs/bitswap/1.2.0".into(),
        "/ipfs/bitswap/1.1.0".into(),
        "/ipfs/bitswap/1.0.0".into(),
        super::pin_list::PIN_LIST_PROTOCOL.into(),
    ]);
    Ok((
        NodeHandle {
            peer_id,
            protocols,
            tx,
            bitswap,
            local_names,
            name_cache: Default::default(),
            publish_lock: Default::default(),
            bandwidth,
        },
        task,
    ))
}

/// Puts this node's still-valid own IPNS records into the Kademlia store, so peers can fetch
/// them after a restart.
fn serve_own_names(
    swarm: &mut libp2p::Swarm<NodeBehaviour>,
    local: &crate::ipns::LocalRecords,
    peer_id: libp2p::PeerId,
) {
    let now = std::time::SystemTime::now();
    for (name, bytes) in local.all().unwrap_or_default() {
        if crate::ipns::validate(&bytes, &name, now).is_ok() {
            let mut record = libp2p::kad::Record::new(name.routing_key(), bytes);
            record.publisher = Some(peer_id);
            use libp2p::kad::store::RecordStore;
            let _ = swarm.behaviour_mut().kad.store_mut().put(record);
        }
    }
}
