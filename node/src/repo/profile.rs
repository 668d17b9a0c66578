//! Network profiles: `local` (built-in default, loopback only), `lan`, `public`.
//!
//! Only `local` is ever started by tests and demos. `lan` and `public` exist for real Pis.

use serde::{Deserialize, Serialize};

/// A network profile name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Loopback listeners, no bootstrap, no discovery. The built-in default.
    #[default]
    Local,
    /// Listens on all interfaces and discovers peers with mDNS on the local network.
    Lan,
    /// Joins the public IPFS network: bootstrap peers, AutoNAT, relay client, hole punching.
    Public,
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "local" => Ok(Profile::Local),
            "lan" => Ok(Profile::Lan),
            "public" => Ok(Profile::Public),
            other => Err(format!(
                "unknown profile `{other}` (expected local, lan or public)"
            )),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Profile::Local => "local",
            Profile::Lan => "lan",
            Profile::Public => "public",
        })
    }
}

/// The public IPFS bootstrap peers (Kubo's defaults). Used by the `public` profile only.
pub const PUBLIC_BOOTSTRAP: &[&str] = &[
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt",
    "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
];

/// Listener and discovery settings a profile implies.
#[derive(Debug, Clone)]
pub struct ProfileDefaults {
    /// RPC API listener.
    pub api: String,
    /// Gateway + app listener.
    pub gateway: String,
    /// libp2p listeners.
    pub swarm: Vec<String>,
    /// Bootstrap peers.
    pub bootstrap: Vec<String>,
    /// mDNS discovery.
    pub mdns: bool,
    /// AutoNAT, relay client and DCUtR.
    pub nat_traversal: bool,
    /// Kademlia mode: `client`, `server` or `auto`.
    pub dht_mode: &'static str,
}

impl Profile {
    /// The defaults this profile sets.
    pub fn defaults(self) -> ProfileDefaults {
        let loopback = ProfileDefaults {
            api: "/ip4/127.0.0.1/tcp/5001".into(),
            gateway: "/ip4/127.0.0.1/tcp/8080".into(),
            swarm: vec![
                "/ip4/127.0.0.1/tcp/4001".into(),
                "/ip4/127.0.0.1/udp/4001/quic-v1".into(),
            ],
            bootstrap: vec![],
            mdns: false,
            nat_traversal: false,
            dht_mode: "server",
        };
        let all_interfaces = ProfileDefaults {
            gateway: "/ip4/0.0.0.0/tcp/8080".into(),
            swarm: vec![
                "/ip4/0.0.0.0/tcp/4001".into(),
                "/ip4/0.0.0.0/udp/4001/quic-v1".into(),
            ],
            ..loopback.clone()
        };
        match self {
            Profile::Local => loopback,
            Profile::Lan => ProfileDefaults {
                mdns: true,
                ..all_interfaces
            },
            Profile::Public => ProfileDefaults {
                bootstrap: PUBLIC_BOOTSTRAP.iter().map(|s| s.to_string()).collect(),
                nat_traversal: true,
                dht_mode: "auto",
                ..all_interfaces
            },
        }
    }
}
