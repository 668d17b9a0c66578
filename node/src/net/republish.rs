//! IPNS republishing, as Kubo's republisher does: every period each name this node has
//! published (a key in the keystore with an own record in the datastore) is signed again with
//! the same value and TTL, the next sequence number and a fresh validity, and put in the DHT.
//! Names then outlive their records' lifetime, and peers that joined the DHT since the last
//! publish get the record. Names never published are left alone.

use super::handle::NodeHandle;
use crate::error::{Error, Result};
use crate::ipns::{IpnsName, IpnsRecord};
use crate::repo::keystore;
use libp2p::identity::Keypair;
use std::path::PathBuf;
use std::time::Duration;

/// Delay before the first round after start (Kubo: one minute), so names whose records
/// expired while the node was off come back soon.
pub const INITIAL_DELAY: Duration = Duration::from_secs(60);

/// What to republish and how often.
#[derive(Debug, Clone)]
pub struct Republisher {
    /// The repo's keystore (`self` and named keys).
    pub keystore: PathBuf,
    /// Time between rounds.
    pub period: Duration,
    /// Validity of the records signed again.
    pub lifetime: Duration,
}

impl Republisher {
    /// Runs rounds forever (the first after `min(INITIAL_DELAY, period)`); failures are logged
    /// and the next round tries again.
    pub fn spawn(self, node: NodeHandle) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut wait = INITIAL_DELAY.min(self.period);
            loop {
                tokio::time::sleep(wait).await;
                wait = self.period;
                match self.round(&node).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("IPNS: republished {n} name(s)"),
                    Err(e) => tracing::warn!("IPNS republish: {e}"),
                }
            }
        })
    }

    /// One round: republishes every key's name that has an own record. Returns how many.
    pub async fn round(&self, node: &NodeHandle) -> Result<usize> {
        let dir = self.keystore.clone();
        let keys = tokio::task::spawn_blocking(move || -> Result<Vec<Keypair>> {
            keystore::list(&dir)?
                .into_iter()
                .map(|(name, _)| keystore::load(&dir, &name))
                .collect()
        })
        .await
        .map_err(|e| Error::InvalidInput(format!("keystore task failed: {e}")))??;
        let mut done = 0;
        for key in keys {
            let name = IpnsName::from_public_key(&key.public());
            match node.republish_name(key, self.lifetime).await {
                Ok(true) => done += 1,
                Ok(false) => {}
                Err(e) => tracing::warn!("IPNS republish of {name}: {e}"),
            }
        }
        Ok(done)
    }
}

impl NodeHandle {
    /// Signs the last record this node published for `key` again (same value and TTL, next
    /// sequence number, valid for `lifetime` from now) and puts it in the DHT. Returns false
    /// when `key` has never published a record here.
    pub async fn republish_name(&self, key: Keypair, lifetime: Duration) -> Result<bool> {
        let name = IpnsName::from_public_key(&key.public());
        let local = self.local_names.clone();
        let last = tokio::task::spawn_blocking(move || local.get(&name))
            .await
            .map_err(|e| Error::InvalidInput(format!("republish task failed: {e}")))??;
        let Some(last) = last else {
            return Ok(false);
        };
        let record =
            IpnsRecord::from_bytes(&last).map_err(|e| Error::InvalidInput(e.to_string()))?;
        let value = record
            .value()
            .map_err(|e| Error::InvalidInput(e.to_string()))?
            .to_string();
        let ttl = record.ttl().unwrap_or(Duration::from_secs(60));
        self.publish_name(key, value, lifetime, ttl).await?;
        Ok(true)
    }
}
