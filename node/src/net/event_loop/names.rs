//! IPNS over the DHT, the event-loop side: validated inbound `PutRecord`s (record filtering is
//! on, so Kademlia stores nothing by itself), provider records, publishing and lookups.

use super::EventLoop;
use crate::error::{Error, Result};
use crate::ipns::{IpnsName, check_dht_record};
use crate::net::handle::Reply;
use libp2p::kad::store::RecordStore;
use libp2p::{PeerId, kad};
use std::time::{Duration, Instant, SystemTime};

/// Once a valid record is in hand, how long to keep listening for a better one.
const GRACE: Duration = Duration::from_secs(2);

/// A running name lookup.
pub(super) struct NameLookup {
    name: IpnsName,
    reply: Reply<Vec<u8>>,
    best: Option<Vec<u8>>,
    found_at: Option<Instant>,
    deadline: Instant,
}

impl EventLoop {
    /// Stores `record` locally (the kad store serves it) and at the peers closest to the name.
    pub(super) fn put_name(&mut self, name: IpnsName, record: Vec<u8>, reply: Reply<()>) {
        let rec = kad::Record::new(name.routing_key(), record);
        match self
            .swarm
            .behaviour_mut()
            .kad
            .put_record(rec, kad::Quorum::One)
        {
            Ok(id) => {
                self.name_puts.insert(id, reply);
            }
            Err(e) => {
                let _ = reply.send(Err(Error::InvalidInput(format!("publish {name}: {e}"))));
            }
        }
    }

    /// Starts a DHT lookup of `name`; answered by [`Self::on_get_record`] or [`Self::tick_names`].
    pub(super) fn get_name(&mut self, name: IpnsName, deadline: Instant, reply: Reply<Vec<u8>>) {
        let id = self
            .swarm
            .behaviour_mut()
            .kad
            .get_record(kad::RecordKey::new(&name.routing_key()));
        self.name_lookups.insert(
            id,
            NameLookup {
                name,
                reply,
                best: None,
                found_at: None,
                deadline,
            },
        );
    }

    /// An inbound `PutRecord`: stored only if it validates and is not worse than what we hold.
    pub(super) fn on_inbound_put(&mut self, source: PeerId, mut record: kad::Record) {
        let kad = &mut self.swarm.behaviour_mut().kad;
        let stored = kad.store_mut().get(&record.key).map(|r| r.value.clone());
        match check_dht_record(
            record.key.as_ref(),
            &record.value,
            stored.as_deref(),
            SystemTime::now(),
        ) {
            Ok(valid) => {
                // never keep a record past its signed end of life
                let eol = valid
                    .validity
                    .duration_since(SystemTime::now())
                    .map(|d| Instant::now() + d)
                    .unwrap_or_else(|_| Instant::now());
                record.expires = Some(record.expires.map_or(eol, |e| e.min(eol)));
                if let Err(e) = kad.store_mut().put(record) {
                    tracing::debug!("IPNS record from {source} not stored: {e}");
                }
            }
            Err(e) => tracing::debug!("refused DHT record from {source}: {e}"),
        }
    }

    /// An inbound `AddProvider` (already checked by Kademlia to come from the provider itself).
    pub(super) fn on_inbound_provider(&mut self, record: kad::ProviderRecord) {
        if let Err(e) = self
            .swarm
            .behaviour_mut()
            .kad
            .store_mut()
            .add_provider(record)
        {
            tracing::debug!("provider record not stored: {e}");
        }
    }

    /// Progress of a publish started by [`Self::put_name`].
    pub(super) fn on_put_record(&mut self, id: kad::QueryId, res: kad::PutRecordResult) {
        let Some(reply) = self.name_puts.remove(&id) else {
            return;
        };
        let routing_peers: usize = self
            .swarm
            .behaviour_mut()
            .kad
            .kbuckets()
            .map(|b| b.num_entries())
            .sum();
        let res = match res {
            Ok(_) => Ok(()),
            // alone on the network: the record stands locally and is served when asked
            Err(_) if routing_peers == 0 => Ok(()),
            Err(e) => Err(Error::InvalidInput(format!(
                "published locally, but no DHT peer accepted the record: {e}"
            ))),
        };
        let _ = reply.send(res);
    }

    /// Progress of a lookup started by [`Self::get_name`]: every record found is validated
    /// (and compared with the best so far) before it counts.
    pub(super) fn on_get_record(
        &mut self,
        id: kad::QueryId,
        res: kad::GetRecordResult,
        last: bool,
    ) {
        let Some(lookup) = self.name_lookups.get_mut(&id) else {
            return;
        };
        if let Ok(kad::GetRecordOk::FoundRecord(found)) = res {
            let key = lookup.name.routing_key();
            match check_dht_record(
                &key,
                &found.record.value,
                lookup.best.as_deref(),
                SystemTime::now(),
            ) {
                Ok(_) => {
                    lookup.best = Some(found.record.value);
                    lookup.found_at.get_or_insert_with(Instant::now);
                }
                Err(e) => tracing::debug!(
                    "ignored IPNS record for {} from {:?}: {e}",
                    lookup.name,
                    found.peer
                ),
            }
        }
        if last {
            self.finish_lookup(id, false);
        }
    }

    /// Called every second: ends lookups past their deadline or their grace period.
    pub(super) fn tick_names(&mut self) {
        let now = Instant::now();
        let due: Vec<(kad::QueryId, bool)> = self
            .name_lookups
            .iter()
            .filter_map(|(id, l)| {
                if l.found_at.is_some_and(|t| now >= t + GRACE) {
                    Some((*id, false))
                } else if now >= l.deadline {
                    Some((*id, true))
                } else {
                    None
                }
            })
            .collect();
        for (id, timed_out) in due {
            self.finish_lookup(id, timed_out);
        }
    }

    fn finish_lookup(&mut self, id: kad::QueryId, timed_out: bool) {
        let Some(lookup) = self.name_lookups.remove(&id) else {
            return;
        };
        if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
            q.finish();
        }
        let res: Result<Vec<u8>> = match lookup.best {
            Some(best) => Ok(best),
            None if timed_out => Err(Error::FetchTimeout(format!("IPNS name {}", lookup.name))),
            None => Err(Error::InvalidInput(format!(
                "could not resolve name {}: no valid record found",
                lookup.name
            ))),
        };
        let _ = lookup.reply.send(res);
    }
}
