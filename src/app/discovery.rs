//! Telescopes find each other through the DHT: every node provides a well-known rendezvous
//! CID (a raw CID of sha2-256 of the announcement topic's name) and periodically looks up its
//! other providers and connects to them. Known WANDA peers (PEER rows) that dropped are dialled
//! again, so direct connections to telescopes are kept.

use super::metadata::MetadataDb;
use cid::Cid;
use multihash_codetable::{Code, MultihashDigest};
use std::time::Duration;
use tokio::sync::watch;
use wanda_node::net::NodeHandle;

/// Raw codec.
const RAW: u64 = 0x55;

/// How often the rendezvous is refreshed and looked up during the first minute…
pub const EVERY: Duration = Duration::from_secs(10);
/// …and afterwards (a Pi on battery should not chatter).
pub const LATER: Duration = Duration::from_secs(120);

/// The rendezvous CID of a topic: `bafkrei…` of sha2-256(topic).
pub fn rendezvous_cid(topic: &str) -> Cid {
    Cid::new_v1(RAW, Code::Sha2_256.digest(topic.as_bytes()))
}

/// Runs until `stop`.
pub async fn discover(
    node: NodeHandle,
    db: MetadataDb,
    topic: String,
    mut stop: watch::Receiver<bool>,
) {
    let key = rendezvous_cid(&topic);
    let me = node.peer_id();
    for round in 0u32.. {
        if let Err(e) = node.provide(key).await {
            tracing::debug!("rendezvous provide: {e}");
        }
        let connected: std::collections::HashSet<String> = node
            .peers()
            .await
            .map(|p| p.into_iter().map(|p| p.peer).collect())
            .unwrap_or_default();
        match node.find_providers(key, 20, Duration::from_secs(8)).await {
            Ok(found) => {
                for p in found.into_iter().filter(|p| *p != me) {
                    if connected.contains(&p.to_string()) {
                        continue;
                    }
                    let addr: libp2p::Multiaddr = libp2p::multiaddr::Protocol::P2p(p).into();
                    match node.connect(addr).await {
                        Ok(_) => tracing::info!("found telescope {p} through the DHT rendezvous"),
                        Err(e) => tracing::debug!("dialling rendezvous peer {p}: {e}"),
                    }
                }
            }
            Err(e) => tracing::debug!("rendezvous lookup: {e}"),
        }
        // keep direct connections to known telescopes
        if let Ok(peers) = db.peers() {
            for row in peers.into_iter().filter(|r| r.is_wanda_node) {
                if connected.contains(&row.peer_id) || row.multiaddr.is_empty() {
                    continue;
                }
                let Ok(peer) = row.peer_id.parse::<libp2p::PeerId>() else {
                    continue;
                };
                let Ok(mut addr) = row.multiaddr.parse::<libp2p::Multiaddr>() else {
                    continue;
                };
                if !addr
                    .iter()
                    .any(|p| matches!(p, libp2p::multiaddr::Protocol::P2p(_)))
                {
                    addr.push(libp2p::multiaddr::Protocol::P2p(peer));
                }
                if node.connect(addr).await.is_ok() {
                    tracing::info!("reconnected to telescope {peer}");
                }
            }
        }
        let wait = if round < 6 { EVERY } else { LATER };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendezvous_is_a_stable_raw_cid() {
        let c = rendezvous_cid("/wanda-telescope");
        assert_eq!(c.codec(), RAW);
        assert_eq!(c, rendezvous_cid("/wanda-telescope"));
        assert_ne!(c, rendezvous_cid("/other"));
        assert!(c.to_string().starts_with("bafkrei"));
    }
}
