//! The repo's TOML config and `wanda config KEY [VALUE]` (dotted keys, like `ipfs config`).
//!
//! The node owns the sections below; the app may add its own sections. A key is known iff it
//! exists in the defaults document the caller passes (node defaults merged with the app's), so a
//! typo is refused instead of silently written.

use super::profile::Profile;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// Node identity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Peer id of the node key (`keystore/self.key`).
    pub peer_id: String,
}

/// Listener addresses (multiaddrs; port 0 = pick one, the daemon writes the real one to a file).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct AddressesConfig {
    /// Kubo-compatible RPC API.
    pub api: String,
    /// Gateway, web UI and app API.
    pub gateway: String,
    /// libp2p listeners.
    pub swarm: Vec<String>,
}

/// Network behaviour.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// `local`, `lan` or `public`.
    pub profile: Profile,
    /// Peers dialled at start to join the DHT.
    pub bootstrap: Vec<String>,
    /// Peers kept connected (reconnected when dropped).
    pub peering: Vec<String>,
    /// mDNS discovery on the local network.
    pub mdns: bool,
    /// AutoNAT, relay client and hole punching.
    pub nat_traversal: bool,
    /// Kademlia protocol name (`/ipfs/lan/kad/1.0.0` to talk to Kubo's LAN DHT).
    pub kad_protocol: String,
    /// Kademlia mode: `client`, `server` or `auto`.
    pub dht_mode: String,
    /// Maximum simultaneous connections.
    pub max_connections: u32,
}

/// Storage policy.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// Upper bound of the datastore, e.g. `"10GB"` (Kubo's `StorageMax`).
    pub max_storage: String,
    /// Percentage of `max_storage` at which GC of unpinned blocks starts.
    pub gc_watermark: u8,
}

/// Pub/sub settings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PubsubConfig {
    /// Gossipsub topic for capture announcements.
    pub topic: String,
    /// Messages one author may publish per second, on average, before the rest are dropped
    /// (not forwarded, not delivered).
    #[serde(default = "default_peer_rate")]
    pub peer_rate: u32,
    /// How many messages an author may send at once above `peer_rate` (a telescope replays
    /// its newest 50 announcements to a peer that arrives).
    #[serde(default = "default_peer_burst")]
    pub peer_burst: u32,
}

fn default_peer_rate() -> u32 {
    10
}

fn default_peer_burst() -> u32 {
    200
}

/// What the Bitswap server accepts from one peer (docs/NETWORK.md, "Hostile peers: Bitswap").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BitswapConfig {
    /// Entries queued for one peer across messages (boxo: 1024).
    pub max_queued_entries_per_peer: u32,
    /// New wants of one message that may need a datastore lookup.
    pub max_lookups_per_message: u32,
    /// Wantlist entries in one message; more is a strike.
    pub max_entries_per_message: u32,
    /// Entries one connection may send per second on average (the peer is slowed past it).
    pub max_entries_per_second: u32,
    /// Bytes of frames being read at once on one connection.
    pub read_budget_per_connection: String,
    /// Strikes within a minute that cut a peer off.
    pub max_strikes: u32,
    /// How long a cut-off peer is refused.
    pub penalty: String,
}

impl Default for BitswapConfig {
    fn default() -> Self {
        BitswapConfig {
            max_queued_entries_per_peer: 1024,
            max_lookups_per_message: 256,
            max_entries_per_message: 4096,
            max_entries_per_second: 8192,
            read_budget_per_connection: "8MiB".into(),
            max_strikes: 3,
            penalty: "10m".into(),
        }
    }
}

/// Limits of the libp2p host against hostile or greedy peers (Kubo's `Swarm.ConnMgr` and
/// resource manager habits). `network.max_connections` stays the hard cap.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct SwarmConfig {
    /// The connection manager trims connections down to this many…
    pub conn_low_water: u32,
    /// …once there are more than this many (least useful first; protected peers and
    /// connections younger than `conn_grace_period` are kept).
    pub conn_high_water: u32,
    /// New connections are never trimmed before this age.
    pub conn_grace_period: String,
    /// Established connections to one peer.
    pub max_connections_per_peer: u32,
    /// Established inbound connections from one IP address (loopback is exempt).
    pub max_connections_per_ip: u32,
    /// Connections being set up at once, each direction.
    pub max_pending_connections: u32,
    /// New connections are refused while the process uses more than this share of the
    /// machine's memory, in percent.
    pub max_memory_percent: u32,
    /// Streams open at once on one connection (each may buffer up to 256 KiB unread).
    pub max_streams_per_connection: u32,
}

impl Default for SwarmConfig {
    fn default() -> Self {
        SwarmConfig {
            conn_low_water: 32,
            conn_high_water: 96,
            conn_grace_period: "20s".into(),
            max_connections_per_peer: 3,
            max_connections_per_ip: 16,
            max_pending_connections: 32,
            max_memory_percent: 50,
            max_streams_per_connection: 256,
        }
    }
}

/// IPNS settings (Kubo's `Ipns.RepublishPeriod` and `Ipns.RecordLifetime`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct IpnsConfig {
    /// How often the daemon signs its published names again and puts them in the DHT
    /// (`"0"` turns republishing off).
    pub republish_period: String,
    /// Validity of republished records.
    pub record_lifetime: String,
}

impl Default for IpnsConfig {
    fn default() -> Self {
        IpnsConfig {
            republish_period: "4h".into(),
            record_lifetime: "48h".into(),
        }
    }
}

impl IpnsConfig {
    /// `republish_period` parsed; `None` when republishing is off.
    pub fn republish_every(&self) -> Option<std::time::Duration> {
        (self.republish_period != "0")
            .then(|| parse_duration(&self.republish_period))
            .flatten()
    }

    /// `record_lifetime` parsed (48 h if invalid; `validate` refuses that first).
    pub fn lifetime(&self) -> std::time::Duration {
        parse_duration(&self.record_lifetime).unwrap_or(std::time::Duration::from_secs(48 * 3600))
    }
}

/// One RPC credential (Kubo's `API.Authorizations.NAME`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiAuthorization {
    /// `bearer:TOKEN` (sent as `Authorization: Bearer TOKEN`) or `basic:USER:PASSWORD` (sent as
    /// HTTP Basic auth).
    pub auth_secret: String,
    /// Path prefixes this credential may call, on the RPC listener (`/api/v0`,
    /// `/api/v0/cat`, …) and on the main listener (`/api/session`, `/api/mount`,
    /// `/api/camera`, `/api/captures`, `/api/ipfs`, …); `/` = everything. Prefixes match whole
    /// path segments. `/api/v0/version` is always allowed. Empty = nothing else.
    #[serde(default)]
    pub allowed_paths: Vec<String>,
}

/// Who may control the node and the telescope, on both HTTP listeners.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// Named credentials. With none, the RPC needs no credentials (and must stay on loopback);
    /// with any, every RPC request must carry one of them. On the main listener, changes of
    /// state need one of them, unless they come from the same host (see docs/API.md).
    #[serde(default)]
    pub authorizations: std::collections::BTreeMap<String, ApiAuthorization>,
    /// Web origins (`http://pi.local:3000`) trusted besides loopback ones: their pages may
    /// change state (with a credential, or from the same host). Kubo's
    /// `API.HTTPHeaders.Access-Control-Allow-Origin` habit.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
}

impl ApiConfig {
    /// Checks every authorization; errors name the key.
    pub fn validate(&self) -> Result<()> {
        for (name, auth) in &self.authorizations {
            let key = format!("api.authorizations.{name}");
            let bad = |field: &str, reason: String| Error::BadConfigValue {
                key: format!("{key}.{field}"),
                reason,
            };
            if name.is_empty() || name.contains('.') {
                return Err(Error::BadConfigValue {
                    key,
                    reason: "a name is non-empty and has no `.`".into(),
                });
            }
            let secret = &auth.auth_secret;
            let ok = match secret.split_once(':') {
                Some(("bearer", token)) => !token.is_empty(),
                Some(("basic", user_pass)) => user_pass.contains(':'),
                _ => false,
            };
            if !ok {
                return Err(bad(
                    "auth_secret",
                    "expected `bearer:TOKEN` or `basic:USER:PASSWORD`".into(),
                ));
            }
            for p in &auth.allowed_paths {
                let clean = p == "/"
                    || (p.starts_with("/api/")
                        && !p.ends_with('/')
                        && p[1..]
                            .split('/')
                            .all(|seg| !seg.is_empty() && seg != "." && seg != ".."));
                if !clean {
                    return Err(bad(
                        "allowed_paths",
                        format!(
                            "`{p}` is not `/` (everything) or a route prefix like /api/v0, /api/v0/cat, /api/session, /api/ipfs/pins"
                        ),
                    ));
                }
            }
        }
        for o in &self.allowed_origins {
            let ok = (o.starts_with("http://") || o.starts_with("https://"))
                && o.split_once("://").is_some_and(|(_, rest)| {
                    !rest.is_empty() && !rest.contains(['/', '?', '#', '@', ' '])
                });
            if !ok {
                return Err(Error::BadConfigValue {
                    key: "api.allowed_origins".into(),
                    reason: format!(
                        "`{o}` is not an origin like http://pi.local:3000 (scheme, host, optional port; no path)"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Sets a key below `api.authorizations` (the names are the user's, so they are not in the
/// defaults): `api.authorizations` (a table of them), `api.authorizations.NAME` (a table) or
/// `api.authorizations.NAME.auth_secret|allowed_paths`. Returns `None` for any other key.
fn set_authorization_key(doc: &mut Table, key: &str, value: &Value) -> Option<Result<()>> {
    let rest = key.strip_prefix("api.authorizations")?;
    let bad = |reason: &str| Error::BadConfigValue {
        key: key.into(),
        reason: reason.into(),
    };
    let parts: Vec<&str> = rest.split('.').skip(1).collect();
    if !rest.is_empty() && !rest.starts_with('.') {
        return None;
    }
    let api = doc
        .entry("api")
        .or_insert_with(|| Value::Table(Table::new()));
    let Some(api) = api.as_table_mut() else {
        return Some(Err(bad("`api` is not a section")));
    };
    let auths = api
        .entry("authorizations")
        .or_insert_with(|| Value::Table(Table::new()));
    let Some(auths) = auths.as_table_mut() else {
        return Some(Err(bad("`api.authorizations` is not a section")));
    };
    let result = match parts.as_slice() {
        [] if value.is_table() => {
            *auths = value.as_table().cloned().unwrap_or_default();
            Ok(())
        }
        [name] if value.is_table() => {
            auths.insert(name.to_string(), value.clone());
            Ok(())
        }
        [] | [_] => Err(bad("expected a table (use --json '{…}')")),
        [name, field @ ("auth_secret" | "allowed_paths")] => {
            let value = match (*field, value) {
                ("allowed_paths", Value::String(s)) => Value::Array(vec![Value::String(s.clone())]),
                ("auth_secret", Value::String(_)) | ("allowed_paths", Value::Array(_)) => {
                    value.clone()
                }
                _ => {
                    return Some(Err(bad(
                        "expected a string (auth_secret) or list (allowed_paths)",
                    )));
                }
            };
            match auths
                .entry(name.to_string())
                .or_insert_with(|| Value::Table(Table::new()))
                .as_table_mut()
            {
                Some(t) => {
                    t.insert(field.to_string(), value);
                    Ok(())
                }
                None => Err(bad("not a section")),
            }
        }
        _ => Err(Error::UnknownConfigKey(key.into())),
    };
    Some(result)
}

/// The node's part of the config file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeConfig {
    /// Node identity.
    pub identity: IdentityConfig,
    /// Listeners.
    pub addresses: AddressesConfig,
    /// Network behaviour.
    pub network: NetworkConfig,
    /// Storage policy.
    pub storage: StorageConfig,
    /// Pub/sub.
    pub pubsub: PubsubConfig,
    /// RPC API credentials (absent in configs written before they existed).
    #[serde(default)]
    pub api: ApiConfig,
    /// IPNS republishing (absent in configs written before it existed).
    #[serde(default)]
    pub ipns: IpnsConfig,
    /// Connection and stream limits (absent in configs written before they existed).
    #[serde(default)]
    pub swarm: SwarmConfig,
    /// Bitswap server limits (absent in configs written before they existed).
    #[serde(default)]
    pub bitswap: BitswapConfig,
}

impl NodeConfig {
    /// The config `wanda init --profile P` writes.
    pub fn for_profile(profile: Profile, peer_id: String) -> Self {
        let d = profile.defaults();
        NodeConfig {
            identity: IdentityConfig { peer_id },
            addresses: AddressesConfig {
                api: d.api,
                gateway: d.gateway,
                swarm: d.swarm,
            },
            network: NetworkConfig {
                profile,
                bootstrap: d.bootstrap,
                peering: vec![],
                mdns: d.mdns,
                nat_traversal: d.nat_traversal,
                kad_protocol: "/ipfs/kad/1.0.0".into(),
                dht_mode: d.dht_mode.into(),
                max_connections: 128,
            },
            storage: StorageConfig {
                max_storage: "10GB".into(),
                gc_watermark: 90,
            },
            pubsub: PubsubConfig {
                topic: "/wanda-telescope".into(),
                peer_rate: default_peer_rate(),
                peer_burst: default_peer_burst(),
            },
            api: ApiConfig::default(),
            ipns: IpnsConfig::default(),
            swarm: SwarmConfig::default(),
            bitswap: BitswapConfig::default(),
        }
    }

    /// Semantic checks serde cannot express. Errors name the key.
    pub fn validate(&self) -> Result<()> {
        let bad = |key: &str, reason: String| Error::BadConfigValue {
            key: key.into(),
            reason,
        };
        check_multiaddr("addresses.api", &self.addresses.api)?;
        check_multiaddr("addresses.gateway", &self.addresses.gateway)?;
        for a in &self.addresses.swarm {
            check_multiaddr("addresses.swarm", a)?;
        }
        for a in &self.network.bootstrap {
            check_multiaddr("network.bootstrap", a)?;
        }
        for a in &self.network.peering {
            check_multiaddr("network.peering", a)?;
        }
        if !self.network.kad_protocol.starts_with('/') {
            return Err(bad(
                "network.kad_protocol",
                "a protocol name starts with `/`".into(),
            ));
        }
        if !["client", "server", "auto"].contains(&self.network.dht_mode.as_str()) {
            return Err(bad(
                "network.dht_mode",
                format!("`{}` is not client, server or auto", self.network.dht_mode),
            ));
        }
        parse_size(&self.storage.max_storage)
            .map_err(|reason| bad("storage.max_storage", reason))?;
        if self.storage.gc_watermark == 0 || self.storage.gc_watermark > 100 {
            return Err(bad(
                "storage.gc_watermark",
                "a percentage between 1 and 100".into(),
            ));
        }
        if self.pubsub.topic.is_empty() {
            return Err(bad("pubsub.topic", "must not be empty".into()));
        }
        if self.ipns.republish_period != "0"
            && parse_duration(&self.ipns.republish_period).is_none()
        {
            return Err(bad(
                "ipns.republish_period",
                "a duration such as 30m, 4h (or 0 for off)".into(),
            ));
        }
        if parse_duration(&self.ipns.record_lifetime).is_none() {
            return Err(bad(
                "ipns.record_lifetime",
                "a duration such as 24h, 48h".into(),
            ));
        }
        self.api.validate()?;
        let sw = &self.swarm;
        if sw.conn_low_water == 0 || sw.conn_low_water >= sw.conn_high_water {
            return Err(bad(
                "swarm.conn_low_water",
                format!(
                    "must be at least 1 and below swarm.conn_high_water ({})",
                    sw.conn_high_water
                ),
            ));
        }
        if sw.conn_high_water > self.network.max_connections {
            return Err(bad(
                "swarm.conn_high_water",
                format!(
                    "must not exceed network.max_connections ({})",
                    self.network.max_connections
                ),
            ));
        }
        let budget = parse_size(&self.bitswap.read_budget_per_connection)
            .map_err(|r| bad("bitswap.read_budget_per_connection", r))?;
        if budget < 4 << 20 {
            return Err(bad(
                "bitswap.read_budget_per_connection",
                "at least 4MiB (one largest Bitswap message)".into(),
            ));
        }
        if parse_duration(&self.bitswap.penalty).is_none() {
            return Err(bad("bitswap.penalty", "a duration such as 10m".into()));
        }
        if parse_duration(&sw.conn_grace_period).is_none() {
            return Err(bad(
                "swarm.conn_grace_period",
                "a duration such as 20s".into(),
            ));
        }
        for (key, v, min, max) in [
            (
                "swarm.max_connections_per_peer",
                sw.max_connections_per_peer,
                1,
                64,
            ),
            (
                "swarm.max_pending_connections",
                sw.max_pending_connections,
                1,
                4096,
            ),
            ("swarm.max_memory_percent", sw.max_memory_percent, 5, 95),
            (
                "swarm.max_streams_per_connection",
                sw.max_streams_per_connection,
                16,
                4093,
            ),
            ("pubsub.peer_rate", self.pubsub.peer_rate, 1, 100_000),
            (
                "bitswap.max_queued_entries_per_peer",
                self.bitswap.max_queued_entries_per_peer,
                16,
                1_000_000,
            ),
            (
                "bitswap.max_lookups_per_message",
                self.bitswap.max_lookups_per_message,
                1,
                100_000,
            ),
            (
                "bitswap.max_entries_per_message",
                self.bitswap.max_entries_per_message,
                16,
                1_000_000,
            ),
            (
                "bitswap.max_entries_per_second",
                self.bitswap.max_entries_per_second,
                16,
                10_000_000,
            ),
            ("bitswap.max_strikes", self.bitswap.max_strikes, 1, 1000),
            ("pubsub.peer_burst", self.pubsub.peer_burst, 1, 1_000_000),
        ] {
            if !(min..=max).contains(&v) {
                return Err(bad(key, format!("must be between {min} and {max}")));
            }
        }
        Ok(())
    }

    /// `storage.max_storage` in bytes.
    pub fn max_storage_bytes(&self) -> u64 {
        parse_size(&self.storage.max_storage).unwrap_or(10_000_000_000)
    }
}

fn check_multiaddr(key: &str, value: &str) -> Result<()> {
    value
        .parse::<libp2p::Multiaddr>()
        .map(|_| ())
        .map_err(|e| Error::BadConfigValue {
            key: key.into(),
            reason: format!("`{value}` is not a multiaddr: {e}"),
        })
}

/// Parses Kubo-style durations: `500ms`, `30s`, `2m`, `1h`, `30d` (positive, finite).
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit() && c != '.')?);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| std::time::Duration::from_secs_f64(secs))
}

/// Parses sizes like `10GB`, `512MiB`, `1000` (bytes).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 10GB or 512MiB"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0f64.powi(4),
        other => return Err(format!("unknown size unit `{other}` in `{s}`")),
    };
    Ok((num * mult) as u64)
}

/// Looks up a dotted key in a TOML document.
pub fn get_key<'a>(doc: &'a Table, key: &str) -> Option<&'a Value> {
    let mut parts = key.split('.');
    let mut cur = doc.get(parts.next()?)?;
    for p in parts {
        cur = cur.as_table()?.get(p)?;
    }
    Some(cur)
}

/// Parses a user-supplied value: TOML syntax (`90`, `true`, `["a"]`) or JSON with `json`, else
/// taken as a plain string.
pub fn parse_value(raw: &str, json: bool) -> Result<Value> {
    if json {
        let v: serde_json::Value = serde_json::from_str(raw)
            .map_err(|e| Error::InvalidInput(format!("`{raw}` is not valid JSON: {e}")))?;
        return Value::try_from(v)
            .map_err(|e| Error::InvalidInput(format!("`{raw}` cannot be stored in TOML: {e}")));
    }
    let wrapped = format!("v = {raw}");
    match wrapped.parse::<Table>() {
        Ok(mut t) => Ok(t.remove("v").unwrap_or(Value::String(raw.into()))),
        Err(_) => Ok(Value::String(raw.into())),
    }
}

/// Sets a dotted key in `doc`. The key must exist in `defaults` and the new value must have the
/// same TOML type as the default (integers are accepted where floats are expected).
pub fn set_key(doc: &mut Table, defaults: &Table, key: &str, value: Value) -> Result<()> {
    if let Some(done) = set_authorization_key(doc, key, &value) {
        return done;
    }
    let default = get_key(defaults, key).ok_or_else(|| Error::UnknownConfigKey(key.into()))?;
    if default.is_table() {
        return Err(Error::BadConfigValue {
            key: key.into(),
            reason: "this is a section; set one of its keys".into(),
        });
    }
    let value = match (default, value) {
        (Value::Float(_), Value::Integer(i)) => Value::Float(i as f64),
        (Value::String(_), Value::Integer(i)) => Value::String(i.to_string()),
        (Value::String(_), Value::Float(f)) => Value::String(f.to_string()),
        (Value::String(_), Value::Boolean(b)) => Value::String(b.to_string()),
        (Value::Array(_), Value::String(s)) => Value::Array(vec![Value::String(s)]),
        (_, v) => v,
    };
    if default.type_str() != value.type_str() {
        return Err(Error::BadConfigValue {
            key: key.into(),
            reason: format!(
                "expected a {}, got a {}",
                default.type_str(),
                value.type_str()
            ),
        });
    }
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur = doc;
    for p in &parts[..parts.len() - 1] {
        cur = cur
            .entry(p.to_string())
            .or_insert_with(|| Value::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| Error::BadConfigValue {
                key: key.into(),
                reason: format!("`{p}` is not a section"),
            })?;
    }
    cur.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Table {
        Table::try_from(NodeConfig::for_profile(Profile::Local, "x".into())).unwrap()
    }

    #[test]
    fn set_and_get_dotted_keys() {
        let d = defaults();
        let mut doc = d.clone();
        set_key(
            &mut doc,
            &d,
            "storage.gc_watermark",
            parse_value("80", false).unwrap(),
        )
        .unwrap();
        assert_eq!(
            get_key(&doc, "storage.gc_watermark").unwrap().as_integer(),
            Some(80)
        );
        set_key(
            &mut doc,
            &d,
            "addresses.api",
            parse_value("/ip4/127.0.0.1/tcp/0", false).unwrap(),
        )
        .unwrap();
        let cfg: NodeConfig = doc.clone().try_into().unwrap();
        assert_eq!(cfg.addresses.api, "/ip4/127.0.0.1/tcp/0");
        cfg.validate().unwrap();
    }

    #[test]
    fn unknown_keys_and_wrong_types_are_refused_naming_the_key() {
        let d = defaults();
        let mut doc = d.clone();
        let e = set_key(&mut doc, &d, "storage.max_storag", Value::from("1GB")).unwrap_err();
        assert!(e.to_string().contains("storage.max_storag"), "{e}");
        let e = set_key(&mut doc, &d, "storage.gc_watermark", Value::from(true)).unwrap_err();
        assert!(e.to_string().contains("storage.gc_watermark"), "{e}");
        let e = set_key(&mut doc, &d, "network", Value::from(1)).unwrap_err();
        assert!(e.to_string().contains("network"), "{e}");
    }

    #[test]
    fn semantic_validation_names_the_key() {
        let mut cfg = NodeConfig::for_profile(Profile::Local, "x".into());
        cfg.addresses.gateway = "127.0.0.1:8080".into();
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("addresses.gateway")
        );
        let mut cfg = NodeConfig::for_profile(Profile::Local, "x".into());
        cfg.storage.max_storage = "ten gigs".into();
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("storage.max_storage")
        );
        let mut cfg = NodeConfig::for_profile(Profile::Local, "x".into());
        cfg.storage.gc_watermark = 101;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("storage.gc_watermark")
        );
    }

    #[test]
    fn api_authorizations_are_set_by_name_and_validated() {
        let d = defaults();
        let mut doc = d.clone();
        let set = |doc: &mut Table, key: &str, raw: &str, json: bool| {
            set_key(doc, &d, key, parse_value(raw, json).unwrap())
        };
        set(
            &mut doc,
            "api.authorizations.ci.auth_secret",
            "bearer:s3cret",
            false,
        )
        .unwrap();
        set(
            &mut doc,
            "api.authorizations.ci.allowed_paths",
            "/api/v0",
            false,
        )
        .unwrap();
        set(
            &mut doc,
            "api.authorizations.ro",
            r#"{"auth_secret":"basic:u:p","allowed_paths":["/api/v0/cat"]}"#,
            true,
        )
        .unwrap();
        let cfg: NodeConfig = doc.clone().try_into().unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.api.authorizations["ci"].auth_secret, "bearer:s3cret");
        assert_eq!(cfg.api.authorizations["ci"].allowed_paths, ["/api/v0"]);
        assert_eq!(cfg.api.authorizations["ro"].allowed_paths, ["/api/v0/cat"]);
        let e = set(&mut doc, "api.authorizations.ci.secret", "x", false).unwrap_err();
        assert!(
            e.to_string().contains("api.authorizations.ci.secret"),
            "{e}"
        );
        let e = set(&mut doc, "api.authorizations.ci", "5", false).unwrap_err();
        assert!(e.to_string().contains("api.authorizations.ci"), "{e}");
        for (field, raw) in [("auth_secret", "token"), ("allowed_paths", "/admin")] {
            let mut bad = doc.clone();
            set(
                &mut bad,
                &format!("api.authorizations.ci.{field}"),
                raw,
                false,
            )
            .unwrap();
            let cfg: NodeConfig = bad.try_into().unwrap();
            let e = cfg.validate().unwrap_err().to_string();
            assert!(e.contains(&format!("api.authorizations.ci.{field}")), "{e}");
        }
        set(&mut doc, "api.authorizations", "{}", true).unwrap();
        let cfg: NodeConfig = doc.try_into().unwrap();
        assert!(cfg.api.authorizations.is_empty());
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("10GB").unwrap(), 10_000_000_000);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("1000").unwrap(), 1000);
        assert!(parse_size("12XB").is_err());
    }

    #[test]
    fn local_profile_listens_on_loopback_only() {
        let cfg = NodeConfig::for_profile(Profile::Local, "x".into());
        assert!(cfg.network.bootstrap.is_empty());
        assert!(!cfg.network.mdns);
        for a in cfg
            .addresses
            .swarm
            .iter()
            .chain([&cfg.addresses.api, &cfg.addresses.gateway])
        {
            assert!(a.starts_with("/ip4/127.0.0.1/"), "{a}");
        }
    }
}
