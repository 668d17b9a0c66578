//! Limits of the libp2p host against hostile or greedy peers: the settings ([`NetLimits`]), the
//! connection manager that trims connections between a low and a high watermark
//! ([`ConnManager`], Kubo's `Swarm.ConnMgr`), and per-author pub/sub rate limits
//! ([`RateLimiter`]). Hard caps on connections, pending connections and memory are libp2p's
//! `connection_limits` and `memory_connection_limits` behaviours (`behaviour.rs`); streams and
//! buffered bytes per connection are capped by our yamux (`yamux.rs`).

use libp2p::PeerId;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The host's limits (from the `swarm` and `pubsub` config sections).
#[derive(Debug, Clone)]
pub struct NetLimits {
    /// Established connections at most (`network.max_connections`).
    pub max_connections: u32,
    /// Established connections to one peer.
    pub max_connections_per_peer: u32,
    /// Established inbound connections from one IP address.
    pub max_connections_per_ip: u32,
    /// Whether loopback addresses are exempt from `max_connections_per_ip`.
    pub ip_limit_exempts_loopback: bool,
    /// Connections being set up at once, each direction.
    pub max_pending: u32,
    /// Trim down to this many connections…
    pub low_water: u32,
    /// …once there are more than this many.
    pub high_water: u32,
    /// Connections younger than this are never trimmed.
    pub grace: Duration,
    /// New connections are refused above this share of the machine's memory (0–1).
    pub max_memory_fraction: f64,
    /// Streams per connection.
    pub max_streams: usize,
    /// Pub/sub messages per second per author.
    pub peer_rate: u32,
    /// Pub/sub burst per author.
    pub peer_burst: u32,
}

impl Default for NetLimits {
    fn default() -> Self {
        NetLimits {
            max_connections: 128,
            max_connections_per_peer: 3,
            max_connections_per_ip: 16,
            ip_limit_exempts_loopback: true,
            max_pending: 32,
            low_water: 32,
            high_water: 96,
            grace: Duration::from_secs(20),
            max_memory_fraction: 0.5,
            max_streams: 256,
            peer_rate: 10,
            peer_burst: 200,
        }
    }
}

/// What the connection manager knows of one connected peer.
#[derive(Debug, Clone)]
struct PeerEntry {
    connected_at: Instant,
    /// Last time the peer did something useful for us (a block, a DHT answer, a message).
    last_useful: Option<Instant>,
    connections: u32,
}

/// Trims connections between watermarks, least useful first.
///
/// Protected peers (`network.peering`, and peers the app protects — WANDA telescopes it works
/// with) and peers within the grace period are never trimmed. Among the rest a peer is worth
/// its last useful moment (a block, a DHT answer, a valid message): peers never useful go
/// first, then the least recently useful; among equals, the oldest connection goes first.
#[derive(Debug, Default)]
pub struct ConnManager {
    peers: HashMap<PeerId, PeerEntry>,
    /// Protections by tag (a peer is protected while any tag holds it).
    protected: HashMap<PeerId, HashSet<String>>,
    /// Connections closed by trimming, in all.
    pub trimmed: u64,
}

impl ConnManager {
    /// A peer's connection count changed (`connections` = established now; 0 = gone).
    pub fn connections(&mut self, peer: PeerId, connections: u32, now: Instant) {
        if connections == 0 {
            self.peers.remove(&peer);
            return;
        }
        let e = self.peers.entry(peer).or_insert(PeerEntry {
            connected_at: now,
            last_useful: None,
            connections,
        });
        e.connections = connections;
    }

    /// `peer` did something useful.
    pub fn useful(&mut self, peer: &PeerId, now: Instant) {
        if let Some(e) = self.peers.get_mut(peer) {
            e.last_useful = Some(now);
        }
    }

    /// Protects `peer` under `tag` (or lifts that protection).
    pub fn protect(&mut self, peer: PeerId, tag: &str, on: bool) {
        if on {
            self.protected
                .entry(peer)
                .or_default()
                .insert(tag.to_string());
        } else if let Some(tags) = self.protected.get_mut(&peer) {
            tags.remove(tag);
            if tags.is_empty() {
                self.protected.remove(&peer);
            }
        }
    }

    /// Whether `peer` is protected.
    pub fn is_protected(&self, peer: &PeerId) -> bool {
        self.protected.contains_key(peer)
    }

    /// Established connections in all.
    pub fn total(&self) -> u32 {
        self.peers.values().map(|e| e.connections).sum()
    }

    /// The peers to disconnect now: none while at most `high` connections are open; else the
    /// least useful unprotected peers past their grace period, until `low` would remain.
    pub fn to_trim(&self, low: u32, high: u32, grace: Duration, now: Instant) -> Vec<PeerId> {
        let mut total = self.total();
        if total <= high {
            return Vec::new();
        }
        let mut candidates: Vec<(&PeerId, &PeerEntry)> = self
            .peers
            .iter()
            .filter(|(p, e)| {
                !self.protected.contains_key(*p)
                    && now.saturating_duration_since(e.connected_at) >= grace
            })
            .collect();
        // never useful first, then least recently useful; older connections first among equals
        candidates.sort_by_key(|(_, e)| (e.last_useful, e.connected_at));
        let mut out = Vec::new();
        for (p, e) in candidates {
            if total <= low {
                break;
            }
            total = total.saturating_sub(e.connections);
            out.push(*p);
        }
        out
    }
}

/// A token bucket per author: `rate` tokens a second, at most `burst` saved up. At most
/// [`RateLimiter::MAX_TRACKED`] authors are tracked; the idlest are forgotten first.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: HashMap<PeerId, (f64, Instant)>,
}

impl RateLimiter {
    /// Authors tracked at once.
    pub const MAX_TRACKED: usize = 4096;

    /// `rate` per second, `burst` at once.
    pub fn new(rate: u32, burst: u32) -> Self {
        RateLimiter {
            rate: f64::from(rate.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: HashMap::new(),
        }
    }

    /// Whether `peer` may send one more message at `now` (and takes a token if so).
    pub fn allow(&mut self, peer: PeerId, now: Instant) -> bool {
        if !self.buckets.contains_key(&peer) && self.buckets.len() >= Self::MAX_TRACKED {
            // forget the fullest buckets: their authors were quiet longest
            let (rate, burst) = (self.rate, self.burst);
            let mut levels: Vec<(PeerId, f64)> = self
                .buckets
                .iter()
                .map(|(p, (t, at))| {
                    (
                        *p,
                        (t + now.saturating_duration_since(*at).as_secs_f64() * rate).min(burst),
                    )
                })
                .collect();
            levels.sort_by(|a, b| b.1.total_cmp(&a.1));
            for (p, _) in levels.into_iter().take(Self::MAX_TRACKED / 4) {
                self.buckets.remove(&p);
            }
        }
        let (rate, burst) = (self.rate, self.burst);
        let (tokens, at) = self.buckets.entry(peer).or_insert((burst, now));
        *tokens = (*tokens + now.saturating_duration_since(*at).as_secs_f64() * rate).min(burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_trimmed_at_the_high_water_mark_and_down_to_low_past_it() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(60);
        let mut cm = ConnManager::default();
        let peers: Vec<PeerId> = (0..10).map(|_| PeerId::random()).collect();
        for p in &peers {
            cm.connections(*p, 1, t0);
        }
        assert!(cm.to_trim(5, 10, Duration::from_secs(20), later).is_empty());
        let extra = PeerId::random();
        cm.connections(extra, 1, t0);
        let trim = cm.to_trim(5, 10, Duration::from_secs(20), later);
        assert_eq!(trim.len(), 6, "11 open, trimmed to 5");
    }

    #[test]
    fn protected_young_and_useful_peers_are_kept() {
        let t0 = Instant::now();
        let later = t0 + Duration::from_secs(60);
        let mut cm = ConnManager::default();
        let (protected, young, useful, idle) = (
            PeerId::random(),
            PeerId::random(),
            PeerId::random(),
            PeerId::random(),
        );
        for p in [protected, useful, idle] {
            cm.connections(p, 1, t0);
        }
        cm.connections(young, 1, later - Duration::from_secs(5));
        cm.protect(protected, "peering", true);
        cm.useful(&useful, t0 + Duration::from_secs(30));
        // 4 open, high 3, low 1: the idle one goes first, then the useful one; the protected
        // and the young one stay
        let trim = cm.to_trim(1, 3, Duration::from_secs(20), later);
        assert_eq!(trim, vec![idle, useful]);
        cm.protect(protected, "peering", false);
        assert!(!cm.is_protected(&protected));
        assert!(
            cm.to_trim(1, 3, Duration::from_secs(20), later)
                .contains(&protected)
        );
    }

    #[test]
    fn rate_limits_allow_the_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(2, 5);
        let p = PeerId::random();
        for i in 0..5 {
            assert!(rl.allow(p, t0), "message {i} of the burst");
        }
        assert!(!rl.allow(p, t0), "one past the burst");
        assert!(rl.allow(PeerId::random(), t0), "others are not affected");
        // half a second later: one token back
        assert!(rl.allow(p, t0 + Duration::from_millis(500)));
        assert!(!rl.allow(p, t0 + Duration::from_millis(500)));
    }

    #[test]
    fn rate_limiter_memory_is_bounded() {
        let t0 = Instant::now();
        let mut rl = RateLimiter::new(1, 1);
        for _ in 0..RateLimiter::MAX_TRACKED + 10 {
            rl.allow(PeerId::random(), t0);
        }
        assert!(rl.buckets.len() <= RateLimiter::MAX_TRACKED);
    }
}
