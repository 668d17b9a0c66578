//! Gossipsub message validation: every message is held until it is judged, and only accepted
//! ones are forwarded and delivered (`validate_messages`). An author past its rate
//! (`pubsub.peer_rate`, `pubsub.peer_burst`) is ignored; a topic with an application validator
//! ([`Validators`], e.g. the app's check of capture announcements) gets its verdict; other
//! topics accept what fits gossipsub's size limit. A rejected message lowers the forwarding
//! peer's score (one is enough to graylist it on a scored topic).

use libp2p::PeerId;
use libp2p::gossipsub;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Largest gossipsub message (any topic).
pub const MAX_TRANSMIT_SIZE: usize = 64 * 1024;

/// An application's judgement of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Deliver and forward it.
    Accept,
    /// Drop it and penalise whoever forwarded it: it is invalid (forged, malformed).
    Reject(String),
    /// Drop it without penalty (e.g. a newer format this node does not know).
    Ignore(String),
}

/// Judges a message on one topic: `(author, data)`. The author is the message's signer
/// (gossipsub checks the signature first), `None` only for unsigned messages, which this
/// node never accepts.
pub type Validator = Arc<dyn Fn(Option<&PeerId>, &[u8]) -> Verdict + Send + Sync>;

/// Validators by topic name.
#[derive(Clone, Default)]
pub struct Validators(HashMap<String, Validator>);

impl Validators {
    /// Adds (or replaces) the validator of `topic`.
    pub fn insert(&mut self, topic: impl Into<String>, v: Validator) {
        self.0.insert(topic.into(), v);
    }

    /// The validator of `topic`.
    pub fn get(&self, topic: &str) -> Option<&Validator> {
        self.0.get(topic)
    }

    /// Topics with a validator.
    pub fn topics(&self) -> impl Iterator<Item = &String> {
        self.0.keys()
    }
}

impl std::fmt::Debug for Validators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Score parameters for topics with a validator: a peer earns a little for first deliveries
/// and time in the mesh, and one invalid message costs it more than the graylist threshold.
/// Nothing penalises a quiet peer (telescopes publish rarely), and peers sharing an address are
/// not penalised (several telescopes behind one home router, or one test machine).
pub fn score_params(
    topics: impl Iterator<Item = gossipsub::TopicHash>,
) -> gossipsub::PeerScoreParams {
    let mut params = gossipsub::PeerScoreParams {
        ip_colocation_factor_weight: 0.0,
        ..Default::default()
    };
    for t in topics {
        let tp = gossipsub::TopicScoreParams {
            topic_weight: 1.0,
            time_in_mesh_weight: 0.01,
            time_in_mesh_quantum: Duration::from_secs(1),
            time_in_mesh_cap: 600.0,
            first_message_deliveries_weight: 1.0,
            first_message_deliveries_decay: 0.9,
            first_message_deliveries_cap: 20.0,
            mesh_message_deliveries_weight: 0.0,
            mesh_failure_penalty_weight: 0.0,
            invalid_message_deliveries_weight: -100.0,
            invalid_message_deliveries_decay: 0.99,
            ..Default::default()
        };
        params.topics.insert(t, tp);
    }
    params
}

/// The thresholds (libp2p's defaults: graylisted below -80).
pub fn score_thresholds() -> gossipsub::PeerScoreThresholds {
    gossipsub::PeerScoreThresholds::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_invalid_message_graylists_and_quiet_peers_are_fine() {
        let t = gossipsub::IdentTopic::new("/wanda-telescope").hash();
        let p = score_params(std::iter::once(t.clone()));
        p.validate().unwrap();
        let tp = &p.topics[&t];
        // P4 is weight × count²: one invalid message
        let one = tp.topic_weight * tp.invalid_message_deliveries_weight;
        assert!(one < score_thresholds().graylist_threshold, "{one}");
        assert_eq!(tp.mesh_message_deliveries_weight, 0.0);
        assert_eq!(p.ip_colocation_factor_weight, 0.0);
    }
}
