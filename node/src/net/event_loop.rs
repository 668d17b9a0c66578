//! The node's event loop: owns the swarm, serves [`super::NodeHandle`] commands and reacts to
//! network events (identify → routing table, DHT query results, pub/sub delivery).

use super::behaviour::{NodeBehaviour, NodeBehaviourEvent};
use super::config::NetConfig;
use super::handle::{Command, NetStats, PeerInfo, PubsubMessage, Reply};
use crate::error::{Error, Result};
use futures::StreamExt;
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::{ConnectionId, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, gossipsub, identify, kad, mdns};
use std::collections::HashMap;
use tokio::sync::{broadcast, mpsc};

mod names;
mod pin_list;

/// A running provider search: who asked, what was found so far, and how many are wanted.
type ProviderSearch = (Reply<Vec<PeerId>>, Vec<PeerId>, usize);

struct PeerState {
    addr: Multiaddr,
    connections: u32,
    identify: Option<identify::Info>,
}

pub(super) struct EventLoop {
    swarm: Swarm<NodeBehaviour>,
    commands: mpsc::Receiver<Command>,
    cfg: NetConfig,
    listen_addrs: Vec<Multiaddr>,
    peers: HashMap<PeerId, PeerState>,
    pending_dials: HashMap<ConnectionId, Reply<PeerId>>,
    pending_provide: HashMap<kad::QueryId, Reply<()>>,
    pending_providers: HashMap<kad::QueryId, ProviderSearch>,
    topics: HashMap<gossipsub::TopicHash, (String, broadcast::Sender<PubsubMessage>)>,
    /// Provider searches started for Bitswap: found providers are dialled.
    provider_dials: std::collections::HashSet<kad::QueryId>,
    stats: NetStats,
    /// IPNS publishes waiting for their DHT put.
    name_puts: HashMap<kad::QueryId, Reply<()>>,
    /// IPNS lookups in flight.
    name_lookups: HashMap<kad::QueryId, names::NameLookup>,
    /// Traffic counters, sampled every second for rates.
    bandwidth: super::bandwidth::BandwidthMeter,
    /// Trims connections between the watermarks.
    conn_mgr: super::limits::ConnManager,
    /// Pub/sub messages per author.
    pubsub_rate: super::limits::RateLimiter,
    /// When rejected pub/sub messages were last logged (one line a minute at most).
    last_reject_log: Option<std::time::Instant>,
    /// Peers penalised this hour (counted once each).
    penalised_peers: std::collections::HashSet<PeerId>,
    penalised_at: std::time::Instant,
}

impl EventLoop {
    pub(super) fn new(
        swarm: Swarm<NodeBehaviour>,
        commands: mpsc::Receiver<Command>,
        cfg: NetConfig,
        bandwidth: super::bandwidth::BandwidthMeter,
    ) -> Self {
        EventLoop {
            swarm,
            commands,
            listen_addrs: Vec::new(),
            peers: HashMap::new(),
            pending_dials: HashMap::new(),
            pending_provide: HashMap::new(),
            pending_providers: HashMap::new(),
            topics: HashMap::new(),
            provider_dials: Default::default(),
            stats: NetStats::default(),
            name_puts: HashMap::new(),
            name_lookups: HashMap::new(),
            bandwidth,
            conn_mgr: Default::default(),
            pubsub_rate: super::limits::RateLimiter::new(
                cfg.limits.peer_rate,
                cfg.limits.peer_burst,
            ),
            cfg,
            last_reject_log: None,
            penalised_peers: Default::default(),
            penalised_at: std::time::Instant::now(),
        }
    }

    /// Drives the swarm until every listener reported its address (or failed).
    pub(super) async fn wait_for_listeners(&mut self, count: usize) -> Result<()> {
        let mut seen = 0;
        while seen < count {
            match self.swarm.select_next_some().await {
                SwarmEvent::NewListenAddr { address, .. } => {
                    self.listen_addrs.push(address);
                    seen += 1;
                }
                SwarmEvent::ListenerClosed {
                    reason: Err(e),
                    addresses,
                    ..
                } => {
                    return Err(Error::InvalidInput(format!(
                        "listener on {addresses:?} failed: {e}"
                    )));
                }
                SwarmEvent::ListenerError { error, .. } => {
                    return Err(Error::InvalidInput(format!("listener failed: {error}")));
                }
                other => self.on_swarm_event(other),
            }
        }
        Ok(())
    }

    /// Dials bootstrap and peering addresses and starts a DHT bootstrap.
    pub(super) fn dial_bootstrap(&mut self) {
        let addrs: Vec<Multiaddr> = self
            .cfg
            .bootstrap
            .iter()
            .chain(&self.cfg.peering)
            .cloned()
            .collect();
        for addr in addrs {
            if let Some(peer) = peer_of(&addr)
                && self.cfg.peering.contains(&addr)
            {
                self.conn_mgr.protect(peer, "peering", true);
            }
            if let Some(peer) = peer_of(&addr) {
                self.swarm
                    .behaviour_mut()
                    .kad
                    .add_address(&peer, addr.clone());
            }
            if let Err(e) = self.swarm.dial(addr.clone()) {
                tracing::warn!("cannot dial bootstrap peer {addr}: {e}");
            }
        }
        if !self.cfg.bootstrap.is_empty() {
            let _ = self.swarm.behaviour_mut().kad.bootstrap();
        }
    }

    pub(super) async fn run(mut self) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                _ = tick.tick() => {
                    self.bandwidth.sample();
                    self.tick_names();
                    self.trim_connections();
                }
                command = self.commands.recv() => match command {
                    Some(Command::Shutdown(reply)) => {
                        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
                        for p in peers {
                            let _ = self.swarm.disconnect_peer_id(p);
                        }
                        let _ = reply.send(Ok(()));
                        return;
                    }
                    Some(cmd) => self.on_command(cmd),
                    None => return,
                },
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::ListenAddrs(r) => {
                let _ = r.send(Ok(self.listen_addrs.clone()));
            }
            Command::Connect(addr, r) => {
                if let Some(peer) = peer_of(&addr).filter(|p| self.swarm.is_connected(p)) {
                    // like Kubo: connecting to a connected peer succeeds
                    let _ = r.send(Ok(peer));
                    return;
                }
                let only_peer_id = addr.iter().count() == 1;
                let opts = match peer_of(&addr) {
                    // `/p2p/<id>` alone: dial with the addresses the behaviours know (Kademlia
                    // routing table, identify), e.g. a peer found as a DHT provider
                    Some(peer) if only_peer_id => DialOpts::peer_id(peer).build(),
                    Some(peer) => DialOpts::peer_id(peer)
                        .addresses(vec![addr.clone()])
                        .build(),
                    None => DialOpts::unknown_peer_id().address(addr.clone()).build(),
                };
                let id = opts.connection_id();
                match self.swarm.dial(opts) {
                    Ok(()) => {
                        self.pending_dials.insert(id, r);
                    }
                    Err(e) => {
                        let _ = r.send(Err(Error::InvalidInput(format!("dial {addr}: {e}"))));
                    }
                }
            }
            Command::Disconnect(peer, r) => {
                let res = self
                    .swarm
                    .disconnect_peer_id(peer)
                    .map_err(|_| Error::InvalidInput(format!("not connected to {peer}")));
                let _ = r.send(res);
            }
            Command::Peers(r) => {
                let list = self
                    .peers
                    .iter()
                    .map(|(peer, st)| {
                        let agent = st.identify.as_ref().map(|i| i.agent_version.clone());
                        PeerInfo {
                            peer: peer.to_string(),
                            addr: st.addr.to_string(),
                            is_wanda: agent.as_deref().is_some_and(|a| a.starts_with("wanda/")),
                            agent,
                            protocols: st
                                .identify
                                .as_ref()
                                .map(|i| i.protocols.iter().map(|p| p.to_string()).collect())
                                .unwrap_or_default(),
                        }
                    })
                    .collect();
                let _ = r.send(Ok(list));
            }
            Command::Provide(cid, r) => {
                let key = kad::RecordKey::new(&cid.hash().to_bytes());
                match self.swarm.behaviour_mut().kad.start_providing(key) {
                    Ok(id) => {
                        self.pending_provide.insert(id, r);
                    }
                    Err(e) => {
                        let _ = r.send(Err(Error::InvalidInput(format!("provide {cid}: {e}"))));
                    }
                }
            }
            Command::FindProviders(cid, limit, r) => {
                let key = kad::RecordKey::new(&cid.hash().to_bytes());
                let id = self.swarm.behaviour_mut().kad.get_providers(key);
                self.pending_providers
                    .insert(id, (r, Vec::new(), limit.max(1)));
            }
            Command::Publish(topic, data, r) => {
                let res = self
                    .swarm
                    .behaviour_mut()
                    .gossipsub
                    .publish(gossipsub::IdentTopic::new(&topic), data)
                    .map(|_| self.stats.pubsub_published += 1)
                    .map_err(|e| Error::InvalidInput(format!("publish on {topic}: {e}")));
                let _ = r.send(res);
            }
            Command::Subscribe(topic, r) => {
                let t = gossipsub::IdentTopic::new(&topic);
                let hash = t.hash();
                let res = match self.swarm.behaviour_mut().gossipsub.subscribe(&t) {
                    Ok(_) => Ok(self
                        .topics
                        .entry(hash)
                        .or_insert_with(|| (topic.clone(), broadcast::channel(1024).0))
                        .1
                        .subscribe()),
                    Err(e) => Err(Error::InvalidInput(format!("subscribe {topic}: {e}"))),
                };
                let _ = r.send(res);
            }
            Command::Unsubscribe(topic, r) => {
                let t = gossipsub::IdentTopic::new(&topic);
                self.swarm.behaviour_mut().gossipsub.unsubscribe(&t);
                self.topics.remove(&t.hash());
                let _ = r.send(Ok(()));
            }
            Command::Topics(r) => {
                let _ = r.send(Ok(self.topics.values().map(|(n, _)| n.clone()).collect()));
            }
            Command::TopicPeers(topic, r) => {
                let gs = &self.swarm.behaviour().gossipsub;
                let peers = match topic {
                    Some(t) => {
                        let hash = gossipsub::IdentTopic::new(t).hash();
                        gs.all_peers()
                            .filter(|(_, topics)| topics.contains(&&hash))
                            .map(|(p, _)| *p)
                            .collect()
                    }
                    None => gs.all_peers().map(|(p, _)| *p).collect(),
                };
                let _ = r.send(Ok(peers));
            }
            Command::Stats(r) => {
                let mut stats = self.stats;
                stats.peers = self.peers.len();
                stats.connections = self.conn_mgr.total();
                stats.connections_trimmed = self.conn_mgr.trimmed;
                let _ = r.send(Ok(stats));
            }
            Command::Protect(peer, tag, on) => self.conn_mgr.protect(peer, &tag, on),
            Command::PutName(name, record, r) => self.put_name(name, record, r),
            Command::GetName(name, deadline, r) => self.get_name(name, deadline, r),
            Command::PeerPins {
                peer,
                after,
                limit,
                reply,
            } => self.peer_pins(peer, after, limit, reply),
            Command::Shutdown(_) => unreachable!("handled in run"),
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<NodeBehaviourEvent>) {
        match event {
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!("listening on {address}");
                self.listen_addrs.push(address);
            }
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                ..
            } => {
                let mut addr = endpoint.get_remote_address().clone();
                if matches!(
                    addr.iter().last(),
                    Some(libp2p::multiaddr::Protocol::P2p(_))
                ) {
                    addr.pop();
                }
                let st = self.peers.entry(peer_id).or_insert_with(|| PeerState {
                    addr,
                    connections: 0,
                    identify: None,
                });
                st.connections += 1;
                let n = st.connections;
                self.conn_mgr
                    .connections(peer_id, n, std::time::Instant::now());
                if let Some(r) = self.pending_dials.remove(&connection_id) {
                    let _ = r.send(Ok(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                ..
            } => {
                if num_established == 0 {
                    self.peers.remove(&peer_id);
                } else if let Some(st) = self.peers.get_mut(&peer_id) {
                    st.connections = num_established;
                }
                self.conn_mgr
                    .connections(peer_id, num_established, std::time::Instant::now());
            }
            SwarmEvent::IncomingConnectionError { error, .. } => {
                if matches!(error, libp2p::swarm::ListenError::Denied { .. }) {
                    self.stats.connections_refused += 1;
                }
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                error,
                ..
            } => {
                if matches!(error, libp2p::swarm::DialError::Denied { .. }) {
                    self.stats.connections_refused += 1;
                }
                if let Some(r) = self.pending_dials.remove(&connection_id) {
                    let _ = r.send(Err(Error::InvalidInput(format!("dial failed: {error}"))));
                }
            }
            SwarmEvent::Behaviour(ev) => self.on_behaviour_event(ev),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, ev: NodeBehaviourEvent) {
        match ev {
            NodeBehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let kad_protocol = self.cfg.kad_protocol.clone();
                if info.protocols.iter().any(|p| p.as_ref() == kad_protocol) {
                    for addr in &info.listen_addrs {
                        self.swarm
                            .behaviour_mut()
                            .kad
                            .add_address(&peer_id, addr.clone());
                    }
                }
                if let Some(st) = self.peers.get_mut(&peer_id) {
                    st.identify = Some(info);
                }
            }
            NodeBehaviourEvent::Kad(kad::Event::OutboundQueryProgressed {
                id,
                result,
                step,
                ..
            }) => self.on_kad_progress(id, result, step.last),
            NodeBehaviourEvent::Kad(kad::Event::InboundRequest {
                request:
                    kad::InboundRequest::PutRecord {
                        source,
                        record: Some(record),
                        ..
                    },
            }) => self.on_inbound_put(source, record),
            NodeBehaviourEvent::Kad(kad::Event::InboundRequest {
                request:
                    kad::InboundRequest::AddProvider {
                        record: Some(record),
                    },
            }) => self.on_inbound_provider(record),
            NodeBehaviourEvent::Gossipsub(gossipsub::Event::Message {
                propagation_source,
                message_id,
                message,
            }) => self.on_pubsub_message(propagation_source, message_id, message),
            NodeBehaviourEvent::Bitswap(crate::bitswap::BitswapEvent::BlockReceived {
                from,
                ..
            }) => self.conn_mgr.useful(&from, std::time::Instant::now()),
            NodeBehaviourEvent::Kad(kad::Event::RoutingUpdated { peer, .. }) => {
                self.conn_mgr.useful(&peer, std::time::Instant::now());
            }
            NodeBehaviourEvent::Bitswap(crate::bitswap::BitswapEvent::PeerPenalised {
                peer,
                reason,
            }) => {
                tracing::warn!("cut off {peer} for breaking the Bitswap limits: {reason}");
                self.penalised(peer);
            }
            NodeBehaviourEvent::Bitswap(crate::bitswap::BitswapEvent::NeedProviders { cid }) => {
                // no connected peer has it: ask the DHT and dial whoever provides it
                let key = kad::RecordKey::new(&cid.hash().to_bytes());
                let id = self.swarm.behaviour_mut().kad.get_providers(key);
                self.provider_dials.insert(id);
            }
            NodeBehaviourEvent::Bitswap(crate::bitswap::BitswapEvent::BadBlock {
                peer,
                reason,
                ..
            }) => {
                tracing::warn!("peer {peer} sent a bad block ({reason}); disconnected");
            }
            NodeBehaviourEvent::PinList(ev) => self.on_pin_list_event(ev),
            NodeBehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    self.swarm
                        .behaviour_mut()
                        .kad
                        .add_address(&peer, addr.clone());
                    if !self.swarm.is_connected(&peer) {
                        let _ = self.swarm.dial(addr);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_kad_progress(&mut self, id: kad::QueryId, result: kad::QueryResult, last: bool) {
        match result {
            kad::QueryResult::PutRecord(res) => self.on_put_record(id, res),
            kad::QueryResult::GetRecord(res) => self.on_get_record(id, res, last),
            kad::QueryResult::StartProviding(res) => {
                if let Some(r) = self.pending_provide.remove(&id) {
                    // With no peers at all the local record still stands (and is served).
                    let res = match res {
                        Ok(_) => Ok(()),
                        Err(kad::AddProviderError::Timeout { .. }) if self.peers.is_empty() => {
                            Ok(())
                        }
                        Err(e) => Err(Error::InvalidInput(format!("provide: {e}"))),
                    };
                    let _ = r.send(res);
                }
            }
            kad::QueryResult::GetProviders(res) if self.provider_dials.contains(&id) => {
                if let Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) = res {
                    let me = *self.swarm.local_peer_id();
                    for p in providers {
                        if p != me && !self.swarm.is_connected(&p) {
                            let _ = self.swarm.dial(DialOpts::peer_id(p).build());
                        }
                    }
                }
                if last {
                    self.provider_dials.remove(&id);
                }
            }
            kad::QueryResult::GetProviders(res) => {
                let done = match (res, self.pending_providers.get_mut(&id)) {
                    (Ok(kad::GetProvidersOk::FoundProviders { providers, .. }), Some(entry)) => {
                        for p in providers {
                            if !entry.1.contains(&p) {
                                entry.1.push(p);
                            }
                        }
                        entry.1.len() >= entry.2
                    }
                    _ => false,
                };
                if done || last {
                    if let Some((r, found, _)) = self.pending_providers.remove(&id) {
                        let _ = r.send(Ok(found));
                    }
                    if let Some(mut q) = self.swarm.behaviour_mut().kad.query_mut(&id) {
                        q.finish();
                    }
                }
            }
            _ => {}
        }
    }
}

impl EventLoop {
    /// Judges a pub/sub message (rate limit, then the topic's validator), reports the verdict
    /// to gossipsub (which forwards only accepted messages) and delivers accepted ones.
    fn on_pubsub_message(
        &mut self,
        source: PeerId,
        id: gossipsub::MessageId,
        message: gossipsub::Message,
    ) {
        use super::pubsub::Verdict;
        let now = std::time::Instant::now();
        let name = self.topics.get(&message.topic).map(|(n, _)| n.clone());
        let verdict = match message.source {
            None => Verdict::Reject("unsigned".into()),
            Some(author) if !self.pubsub_rate.allow(author, now) => {
                Verdict::Ignore(format!("{author} is over its rate"))
            }
            Some(author) => match name.as_deref().and_then(|n| self.cfg.validators.get(n)) {
                Some(v) => v(Some(&author), &message.data),
                None => Verdict::Accept,
            },
        };
        let acceptance = match &verdict {
            Verdict::Accept => gossipsub::MessageAcceptance::Accept,
            Verdict::Reject(_) => gossipsub::MessageAcceptance::Reject,
            Verdict::Ignore(_) => gossipsub::MessageAcceptance::Ignore,
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&id, &source, acceptance);
        match verdict {
            Verdict::Accept => {
                self.stats.pubsub_received += 1;
                self.conn_mgr.useful(&source, now);
                if let (Some(name), Some((_, tx))) = (name, self.topics.get(&message.topic)) {
                    let _ = tx.send(PubsubMessage {
                        topic: name,
                        from: message.source.map(|p| p.to_string()),
                        data: message.data,
                        seqno: message.sequence_number,
                    });
                }
            }
            Verdict::Reject(why) => {
                self.stats.pubsub_rejected += 1;
                self.penalised(source);
                let quiet = self
                    .last_reject_log
                    .is_some_and(|t| now.duration_since(t).as_secs() < 60);
                if !quiet {
                    self.last_reject_log = Some(now);
                    tracing::warn!(
                        "rejected a pub/sub message forwarded by {source} (author {:?}): {why}",
                        message.source
                    );
                }
            }
            Verdict::Ignore(why) => {
                self.stats.pubsub_ignored += 1;
                tracing::debug!("ignored a pub/sub message from {source}: {why}");
            }
        }
    }

    /// Counts a peer penalised for misbehaving (each peer once an hour).
    fn penalised(&mut self, peer: PeerId) {
        if self.penalised_at.elapsed() > std::time::Duration::from_secs(3600)
            || self.penalised_peers.len() >= 4096
        {
            self.penalised_peers.clear();
            self.penalised_at = std::time::Instant::now();
        }
        if self.penalised_peers.insert(peer) {
            self.stats.peers_penalised += 1;
        }
    }

    /// Closes the least useful connections when there are more than the high watermark.
    fn trim_connections(&mut self) {
        let l = &self.cfg.limits;
        let trim = self.conn_mgr.to_trim(
            l.low_water,
            l.high_water,
            l.grace,
            std::time::Instant::now(),
        );
        if trim.is_empty() {
            return;
        }
        tracing::info!(
            "{} connections open (high water {}): closing {} peers",
            self.conn_mgr.total(),
            l.high_water,
            trim.len()
        );
        let now = std::time::Instant::now();
        for p in trim {
            if self.swarm.disconnect_peer_id(p).is_ok() {
                self.conn_mgr.trimmed += 1;
            }
            // not a candidate again while its connections close
            self.conn_mgr.connections(p, 0, now);
        }
    }
}

/// The peer id at the end of a multiaddr (`…/p2p/<id>`).
fn peer_of(addr: &Multiaddr) -> Option<PeerId> {
    addr.iter().find_map(|p| match p {
        libp2p::multiaddr::Protocol::P2p(peer) => Some(peer),
        _ => None,
    })
}
