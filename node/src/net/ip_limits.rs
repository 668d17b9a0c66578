//! A cap on established inbound connections from one IP address: fresh peer ids cost nothing,
//! addresses do, so one host cannot take every connection slot (Kubo's resource manager
//! limits connections per IP the same way). Loopback is exempt unless told otherwise (several
//! local processes, and tests of many nodes on one machine).

use libp2p::PeerId;
use libp2p::core::transport::PortUse;
use libp2p::core::{ConnectedPoint, Endpoint, Multiaddr};
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, FromSwarm, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm, dummy,
};
use std::collections::HashMap;
use std::net::IpAddr;
use std::task::{Context, Poll};

/// The IP address a multiaddr starts with.
fn ip_of(addr: &Multiaddr) -> Option<IpAddr> {
    match addr.iter().next()? {
        Protocol::Ip4(ip) => Some(IpAddr::V4(ip)),
        Protocol::Ip6(ip) => Some(match ip.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(ip),
        }),
        _ => None,
    }
}

/// Refused: too many connections from one address.
#[derive(Debug)]
pub struct TooManyFromAddress {
    /// The address.
    pub ip: IpAddr,
    /// The cap.
    pub max: u32,
}

impl std::fmt::Display for TooManyFromAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} already has {} connections (swarm.max_connections_per_ip)",
            self.ip, self.max
        )
    }
}

impl std::error::Error for TooManyFromAddress {}

/// The behaviour.
pub struct Behaviour {
    max: u32,
    exempt_loopback: bool,
    /// Peers never refused (the peering list).
    bypass: std::collections::HashSet<PeerId>,
    per_ip: HashMap<IpAddr, u32>,
    inbound: HashMap<ConnectionId, IpAddr>,
}

impl Behaviour {
    /// At most `max` established inbound connections per address.
    pub fn new(max: u32, exempt_loopback: bool) -> Self {
        Behaviour {
            max,
            exempt_loopback,
            bypass: Default::default(),
            per_ip: HashMap::new(),
            inbound: HashMap::new(),
        }
    }

    fn check(&self, remote: &Multiaddr) -> Result<Option<IpAddr>, ConnectionDenied> {
        let Some(ip) = ip_of(remote) else {
            return Ok(None);
        };
        if self.exempt_loopback && ip.is_loopback() {
            return Ok(None);
        }
        if self.per_ip.get(&ip).copied().unwrap_or(0) >= self.max {
            return Err(ConnectionDenied::new(TooManyFromAddress {
                ip,
                max: self.max,
            }));
        }
        Ok(Some(ip))
    }

    /// Whether `remote`'s address is at twice its cap already.
    fn over_by_far(&self, remote: &Multiaddr) -> bool {
        ip_of(remote)
            .filter(|ip| !(self.exempt_loopback && ip.is_loopback()))
            .is_some_and(|ip| self.count(&ip) >= self.max.saturating_mul(2))
    }

    /// Never refuses `peer` (it still counts).
    pub fn bypass_peer_id(&mut self, peer: PeerId) {
        self.bypass.insert(peer);
    }

    /// Connections counted for `ip` now.
    pub fn count(&self, ip: &IpAddr) -> u32 {
        self.per_ip.get(ip).copied().unwrap_or(0)
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = std::convert::Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        // an address far over its cap is refused before the handshake; at the cap, the
        // handshake tells who it is (the peering list passes)
        match self.check(remote) {
            Err(e) if self.over_by_far(remote) => Err(e),
            _ => Ok(()),
        }
    }

    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let ip = if self.bypass.contains(&peer) {
            ip_of(remote).filter(|ip| !(self.exempt_loopback && ip.is_loopback()))
        } else {
            self.check(remote)?
        };
        if let Some(ip) = ip {
            *self.per_ip.entry(ip).or_insert(0) += 1;
            self.inbound.insert(id, ip);
        }
        Ok(dummy::ConnectionHandler)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        if let FromSwarm::ConnectionClosed(c) = event
            && matches!(c.endpoint, ConnectedPoint::Listener { .. })
            && let Some(ip) = self.inbound.remove(&c.connection_id)
            && let Some(n) = self.per_ip.get_mut(&ip)
        {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&ip);
            }
        }
    }

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(ip: &str) -> Multiaddr {
        format!("/ip4/{ip}/tcp/4001").parse().unwrap()
    }

    #[test]
    fn one_address_gets_exactly_its_cap() {
        let mut next = 0usize;
        let mut id = || {
            next += 1;
            ConnectionId::new_unchecked(next)
        };
        let mut b = Behaviour::new(2, true);
        let local: Multiaddr = "/ip4/10.0.0.1/tcp/4001".parse().unwrap();
        let a = remote("10.0.0.9");
        for _ in 0..2 {
            b.handle_pending_inbound_connection(ConnectionId::new_unchecked(0), &local, &a)
                .unwrap();
            b.handle_established_inbound_connection(id(), PeerId::random(), &local, &a)
                .unwrap();
        }
        assert_eq!(b.count(&"10.0.0.9".parse().unwrap()), 2);
        let third = b.handle_established_inbound_connection(id(), PeerId::random(), &local, &a);
        assert!(third.is_err(), "one past the cap");
        // the peering list passes, and counts
        let friend = PeerId::random();
        b.bypass_peer_id(friend);
        assert!(
            b.handle_established_inbound_connection(id(), friend, &local, &a)
                .is_ok()
        );
        assert_eq!(b.count(&"10.0.0.9".parse().unwrap()), 3);
        // another address, and loopback (exempt), are not affected
        assert!(
            b.handle_pending_inbound_connection(
                ConnectionId::new_unchecked(0),
                &local,
                &remote("10.0.0.8")
            )
            .is_ok()
        );
        for _ in 0..5 {
            assert!(
                b.handle_established_inbound_connection(
                    id(),
                    PeerId::random(),
                    &local,
                    &remote("127.0.0.1"),
                )
                .is_ok()
            );
        }
        let strict = Behaviour::new(0, false);
        assert!(strict.check(&remote("127.0.0.1")).is_err());
    }
}
