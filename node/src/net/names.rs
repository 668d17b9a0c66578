//! IPNS over the DHT, the handle side: [`NodeHandle::publish_name`] signs the next record,
//! keeps it in the datastore and puts it in the DHT; [`NodeHandle::resolve_name`] answers from
//! the cache, from own records, or from a validated DHT lookup.

use super::handle::{Command, NodeHandle};
use crate::error::{Error, Result};
use crate::ipns::{IpnsName, IpnsRecord, create_record, validate};
use libp2p::identity::Keypair;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How long a DHT lookup of a name may take.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(30);

/// A resolved IPNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedName {
    /// The content path the record points at (`/ipfs/<cid>`…).
    pub value: String,
    /// How long the record may be cached (its signed TTL).
    pub ttl: Duration,
    /// The serialized, validated record.
    pub record: Vec<u8>,
}

/// Resolved names and when they expire from the cache.
pub(super) type NameCache = Arc<Mutex<HashMap<IpnsName, (ResolvedName, Instant)>>>;

fn ipns_err(e: crate::ipns::IpnsError) -> Error {
    Error::InvalidInput(e.to_string())
}

/// Validates `bytes` as a record of `name` now and extracts what resolvers need.
fn resolved(name: &IpnsName, bytes: Vec<u8>) -> Result<(ResolvedName, SystemTime)> {
    let v = validate(&bytes, name, SystemTime::now()).map_err(ipns_err)?;
    Ok((
        ResolvedName {
            value: v.value,
            ttl: v.ttl.unwrap_or_default(),
            record: bytes,
        },
        v.validity,
    ))
}

impl NodeHandle {
    /// Publishes `value` (e.g. `/ipfs/<cid>`) under the name of `key`: signs a record with the
    /// next sequence number (previous + 1, kept in the datastore across restarts), valid for
    /// `lifetime` and cacheable for `ttl`, and stores it in the DHT. With no DHT peers at all
    /// the record is kept locally (and served to peers that ask later).
    pub async fn publish_name(
        &self,
        key: Keypair,
        value: String,
        lifetime: Duration,
        ttl: Duration,
    ) -> Result<IpnsName> {
        if !(value.starts_with("/ipfs/") || value.starts_with("/ipns/")) || value.len() <= 6 {
            return Err(Error::InvalidInput(format!(
                "invalid path {value:?}: expected /ipfs/<cid> or /ipns/<name>"
            )));
        }
        let name = IpnsName::from_public_key(&key.public());
        let _guard = self.publish_lock.lock().await;
        let local = self.local_names.clone();
        let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
            let sequence = match local.get(&name)? {
                Some(prev) => IpnsRecord::from_bytes(&prev)
                    .map(|r| r.sequence().saturating_add(1))
                    .unwrap_or(0),
                None => 0,
            };
            let eol = SystemTime::now() + lifetime;
            let record = create_record(&key, &value, sequence, eol, ttl).map_err(ipns_err)?;
            let bytes = record.to_bytes();
            local.put(&name, &bytes)?;
            Ok(bytes)
        })
        .await
        .map_err(|e| Error::InvalidInput(format!("publish task failed: {e}")))??;
        self.lock_cache().remove(&name);
        self.call(|r| Command::PutName(name, bytes, r)).await?;
        Ok(name)
    }

    /// Resolves `name` without the network: from the cache while the record's TTL lasts, else
    /// from this node's own records. `None` when neither has it.
    pub async fn resolve_name_local(&self, name: &IpnsName) -> Result<Option<ResolvedName>> {
        if let Some((r, until)) = self.lock_cache().get(name)
            && *until > Instant::now()
        {
            return Ok(Some(r.clone()));
        }
        let local = self.local_names.clone();
        let n = *name;
        let own = tokio::task::spawn_blocking(move || local.get(&n))
            .await
            .map_err(|e| Error::InvalidInput(format!("resolve task failed: {e}")))??;
        Ok(own.and_then(|bytes| resolved(name, bytes).ok().map(|(r, _)| r)))
    }

    /// Resolves `name` to its current value: without the network when it can
    /// ([`Self::resolve_name_local`]), else from the best valid record the DHT returns within
    /// [`RESOLVE_TIMEOUT`].
    pub async fn resolve_name(&self, name: &IpnsName) -> Result<ResolvedName> {
        if let Some(r) = self.resolve_name_local(name).await? {
            return Ok(r);
        }
        let deadline = Instant::now() + RESOLVE_TIMEOUT;
        let bytes = self.call(|r| Command::GetName(*name, deadline, r)).await?;
        let (r, validity) = resolved(name, bytes)?;
        let for_ttl = Instant::now() + r.ttl;
        let for_eol = validity
            .duration_since(SystemTime::now())
            .map(|d| Instant::now() + d)
            .unwrap_or_else(|_| Instant::now());
        if !r.ttl.is_zero() {
            self.lock_cache()
                .insert(*name, (r.clone(), for_ttl.min(for_eol)));
        }
        Ok(r)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, HashMap<IpnsName, (ResolvedName, Instant)>> {
        self.name_cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}
