//! What the Bitswap server accepts from one peer, and the list of peers it has cut off.
//!
//! Every limit bounds either the work a message can cause or the memory a peer can pin; what
//! happens at each one is in `docs/NETWORK.md` ("Hostile peers: Bitswap").

use libp2p::PeerId;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// Limits of the Bitswap server towards each peer. [`Default`] holds the values the node uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitswapLimits {
    /// Entries queued for one peer, counted across messages: wants for blocks we lack
    /// (remembered until the block arrives), wants awaiting a datastore lookup, blocks queued
    /// to send and HAVE/DONT_HAVE answers not yet sent. A new want past it is dropped
    /// (neither answered nor remembered). Like boxo's `MaxQueuedWantlistEntriesPerPeer`: 1024.
    pub max_queued_entries_per_peer: usize,
    /// Longest CID (bytes) accepted in a want, cancel or presence; longer entries are dropped
    /// unread. Like boxo's `MaximumAllowedCid`: 168.
    pub max_cid_len: usize,
    /// New wants of one message that may need a datastore lookup; further new wants of the
    /// same message are dropped, not answered (a false DONT_HAVE would make an honest client
    /// stop asking us; it asks again later instead). 256.
    pub max_lookups_per_message: usize,
    /// Wantlist entries (and, separately, block presences) in one message. Entries are
    /// counted while the frame arrives: at one past this the frame is refused unread and
    /// undecoded (its stream closed), and that is a strike. 4096.
    pub max_entries_per_message: usize,
    /// Wantlist entries and block presences one connection may send per second, on average
    /// (a token bucket holding a second's worth, and at least one largest message): a message
    /// past it is delivered, and its stream read further, only once the bucket has refilled.
    /// The peer is slowed, not refused: nothing of its is lost, no strike. 8192.
    pub max_entries_per_second: usize,
    /// An inbound stream on which no frame starts for this long is closed (no strike: boxo
    /// keeps its wantlist stream open and opens a new one when a write fails). 60 s.
    pub stream_idle_timeout: Duration,
    /// Once a frame's length has arrived, its body must arrive within this long plus one
    /// second per [`BitswapLimits::min_frame_rate`] bytes; else the stream is closed (counted,
    /// no strike: a slow link is not an attack). 10 s.
    pub frame_timeout: Duration,
    /// Slowest mean rate (bytes/s) a frame body may arrive at, on top of
    /// [`BitswapLimits::frame_timeout`]. 16 KiB/s (a 4 MiB frame: 10 s + 256 s).
    pub min_frame_rate: usize,
    /// Bytes of frames being read at once on one connection (frame buffers are allocated
    /// only once their bytes may be read; a larger frame waits for room). At least one
    /// largest frame always fits. 8 MiB.
    pub read_budget_per_connection: usize,
    /// Strikes (malformed or oversized frames, messages with too many entries, wants for
    /// identity CIDs) within [`BitswapLimits::strike_window`] that cut a peer off. 3.
    pub max_strikes: usize,
    /// How long a strike counts. 60 s.
    pub strike_window: Duration,
    /// How long a cut-off peer is refused (every connection, inbound and outbound). 10 min.
    pub penalty: Duration,
    /// Peers remembered as cut off; past it the oldest penalty is forgotten early. 1024.
    pub max_penalised_peers: usize,
}

impl Default for BitswapLimits {
    fn default() -> Self {
        BitswapLimits {
            max_queued_entries_per_peer: 1024,
            max_cid_len: 168,
            max_lookups_per_message: 256,
            max_entries_per_message: 4096,
            max_entries_per_second: 8192,
            stream_idle_timeout: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(10),
            min_frame_rate: 16 << 10,
            read_budget_per_connection: 8 << 20,
            max_strikes: 3,
            strike_window: Duration::from_secs(60),
            penalty: Duration::from_secs(600),
            max_penalised_peers: 1024,
        }
    }
}

impl BitswapLimits {
    /// The deadline for the body of a `len`-byte frame, from when its length arrived.
    pub fn frame_deadline(&self, len: usize) -> Duration {
        let rate = self.min_frame_rate.max(1) as u64;
        self.frame_timeout + Duration::from_millis((len as u64).saturating_mul(1000) / rate)
    }

    /// The per-connection read budget, never below one largest frame.
    pub(super) fn read_budget(&self) -> usize {
        self.read_budget_per_connection
            .clamp(super::MAX_MESSAGE_SIZE, u32::MAX as usize)
    }
}

/// Peers cut off, each until its penalty expires; bounded, oldest forgotten first.
#[derive(Debug, Default)]
pub(super) struct Penalties {
    until: HashMap<PeerId, Instant>,
    /// In the order penalties were given (so expiry order: every penalty lasts as long).
    /// A peer penalised again appears twice; the older entry is stale.
    order: VecDeque<(PeerId, Instant)>,
}

impl Penalties {
    /// Cuts `peer` off until `now + duration`, forgetting the oldest penalties past `max`.
    pub(super) fn add(&mut self, peer: PeerId, now: Instant, duration: Duration, max: usize) {
        self.expire(now);
        let until = now + duration;
        self.until.insert(peer, until);
        self.order.push_back((peer, until));
        while self.until.len() > max.max(1) {
            self.pop_oldest();
        }
        // stale entries (peers penalised again) never outnumber the live ones for long
        if self.order.len() > 2 * self.until.len() + 16 {
            let until = &self.until;
            self.order.retain(|(p, t)| until.get(p) == Some(t));
        }
    }

    /// Whether `peer` is cut off at `now` (a penalty ends at its expiry instant).
    pub(super) fn contains(&mut self, peer: &PeerId, now: Instant) -> bool {
        self.expire(now);
        self.until.contains_key(peer)
    }

    /// Peers cut off at `now`.
    pub(super) fn count(&self, now: Instant) -> usize {
        self.until.values().filter(|t| **t > now).count()
    }

    fn pop_oldest(&mut self) {
        while let Some((peer, t)) = self.order.pop_front() {
            if self.until.get(&peer) == Some(&t) {
                self.until.remove(&peer);
                return;
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(peer, t)) = self.order.front() {
            if t > now {
                break;
            }
            self.order.pop_front();
            if self.until.get(&peer) == Some(&t) {
                self.until.remove(&peer);
            }
        }
    }
}

/// A token bucket of entries per second: one per connection, shared by its streams.
#[derive(Debug)]
pub(super) struct EntryBucket {
    tokens: f64,
    capacity: f64,
    rate: f64,
    last: Instant,
}

impl EntryBucket {
    /// A full bucket refilling `rate` tokens a second, holding `max(rate, burst)`.
    pub(super) fn new(rate: usize, burst: usize, now: Instant) -> Self {
        let rate = rate.max(1) as f64;
        let capacity = rate.max(burst as f64);
        EntryBucket {
            tokens: capacity,
            capacity,
            rate,
            last: now,
        }
    }

    /// Takes `n` tokens (going into debt if need be); returns when the bucket is out of
    /// debt, if it is in debt now.
    pub(super) fn take(&mut self, n: usize, now: Instant) -> Option<Instant> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity) - n as f64;
        (self.tokens < 0.0).then(|| now + Duration::from_secs_f64(-self.tokens / self.rate))
    }
}

/// Recent strikes of one peer.
#[derive(Debug, Default)]
pub(super) struct Strikes(VecDeque<Instant>);

impl Strikes {
    /// Records a strike at `now`; returns whether the peer now has `max` strikes within
    /// `window` (strikes older than the window are forgotten).
    pub(super) fn add(&mut self, now: Instant, window: Duration, max: usize) -> bool {
        while let Some(&t) = self.0.front() {
            if now.duration_since(t) < window {
                break;
            }
            self.0.pop_front();
        }
        self.0.push_back(now);
        self.0.len() >= max.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_penalty_ends_exactly_at_its_expiry() {
        let mut p = Penalties::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        let t0 = Instant::now();
        let d = Duration::from_secs(600);
        p.add(a, t0, d, 10);
        assert!(p.contains(&a, t0));
        assert!(!p.contains(&b, t0));
        assert!(
            p.contains(&a, t0 + d - Duration::from_nanos(1)),
            "one tick before"
        );
        assert!(!p.contains(&a, t0 + d), "at expiry");
        assert_eq!(p.count(t0 + d), 0);
    }

    #[test]
    fn penalised_again_extends_and_the_list_is_bounded() {
        let mut p = Penalties::default();
        let t0 = Instant::now();
        let d = Duration::from_secs(10);
        let a = PeerId::random();
        p.add(a, t0, d, 3);
        p.add(a, t0 + Duration::from_secs(5), d, 3);
        // the first penalty's expiry does not end the second one
        assert!(p.contains(&a, t0 + d));
        assert!(!p.contains(&a, t0 + Duration::from_secs(15)));

        // at the cap the oldest is forgotten first (`a`, then peers[0])
        let t1 = t0 + Duration::from_secs(6);
        let peers: Vec<PeerId> = (0..4).map(|_| PeerId::random()).collect();
        for (i, peer) in peers.iter().enumerate() {
            p.add(*peer, t1 + Duration::from_millis(i as u64), d, 3);
        }
        assert_eq!(p.count(t1), 3);
        assert!(!p.contains(&a, t1));
        assert!(!p.contains(&peers[0], t1));
        assert!(peers[1..].iter().all(|q| p.contains(q, t1)));
        // many re-penalties leave a bounded order queue
        for i in 0..1000 {
            p.add(peers[3], t1 + Duration::from_millis(i), d, 3);
        }
        assert!(p.order.len() <= 2 * p.until.len() + 17);
    }

    #[test]
    fn strikes_cut_off_at_the_limit_within_the_window() {
        let mut s = Strikes::default();
        let t0 = Instant::now();
        let w = Duration::from_secs(60);
        assert!(!s.add(t0, w, 3));
        assert!(!s.add(t0 + Duration::from_secs(1), w, 3));
        assert!(s.add(t0 + Duration::from_secs(2), w, 3), "third strike");

        let mut s = Strikes::default();
        assert!(!s.add(t0, w, 3));
        assert!(!s.add(t0 + Duration::from_secs(1), w, 3));
        // the first strike left the window exactly then: two strikes, not three
        assert!(!s.add(t0 + w, w, 3));
        // the second one is still in it
        assert!(s.add(t0 + w + Duration::from_millis(500), w, 3));
    }

    #[test]
    fn the_entry_bucket_holds_a_second_and_slows_what_is_over() {
        let t0 = Instant::now();
        let mut b = EntryBucket::new(8192, 4096, t0);
        // exactly a second's worth at once: no wait
        assert_eq!(b.take(8192, t0), None);
        // one more: wait for one token
        let wait = b.take(1, t0).unwrap() - t0;
        assert!(
            wait > Duration::ZERO && wait < Duration::from_millis(1),
            "{wait:?}"
        );
        // after a second, a second's worth again (never more)
        let t1 = t0 + Duration::from_secs(5);
        assert_eq!(b.take(8191, t1), None);
        assert!(b.take(2, t1).is_some());
        // a rate under one message still lets one message through at once
        let mut slow = EntryBucket::new(10, 4096, t0);
        assert_eq!(slow.take(4096, t0), None);
        let wait = slow.take(10, t0).unwrap() - t0;
        assert_eq!(wait, Duration::from_secs(1));
    }

    #[test]
    fn frame_deadline_grows_with_length() {
        let l = BitswapLimits::default();
        assert_eq!(l.frame_deadline(0), Duration::from_secs(10));
        assert_eq!(l.frame_deadline(16 << 10), Duration::from_secs(11));
        assert_eq!(l.frame_deadline(4 << 20), Duration::from_secs(266));
        assert_eq!(l.read_budget(), 8 << 20);
        let small = BitswapLimits {
            read_budget_per_connection: 1,
            ..l
        };
        assert_eq!(small.read_budget(), super::super::MAX_MESSAGE_SIZE);
    }
}
