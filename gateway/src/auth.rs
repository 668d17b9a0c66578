//! Who may do what, for both HTTP listeners: the owner's credentials (`api.authorizations`,
//! Kubo's `API.Authorizations`) and which request origins are trusted (`api.allowed_origins`,
//! Kubo's `API.HTTPHeaders` habit). [`Access`] holds both and follows `config.toml`: a
//! credential changed or removed there stops working within a second, without a restart.

use crate::http::{ConnInfo, canonical_ip};
use axum::http::{HeaderMap, header};
use base64::Engine;
use multihash_codetable::{Code, MultihashDigest};
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};
use wanda_node::repo::config::ApiConfig;

/// The `Authorization` header value for a secret written like Kubo's `AuthSecret`:
/// `bearer:TOKEN` → `Bearer TOKEN`, `basic:USER:PASS` → `Basic base64(USER:PASS)`; without a
/// prefix, `USER:PASS` is basic and anything else a bearer token.
pub fn header_value(secret: &str) -> String {
    let basic = |up: &str| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(up)
        )
    };
    match secret.split_once(':') {
        Some(("bearer", token)) => format!("Bearer {token}"),
        Some(("basic", user_pass)) => basic(user_pass),
        Some(_) => basic(secret),
        None => format!("Bearer {secret}"),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One configured credential.
#[derive(Debug, Clone)]
pub struct Credential {
    /// Its name in `api.authorizations`.
    pub name: String,
    /// The `Authorization` header value it expects.
    header: String,
    /// Path prefixes it may call (`/` = everything).
    pub allowed_paths: Vec<String>,
}

/// Whether `allowed_paths` cover `path`: a prefix matches whole segments (`/api/v0/cat`
/// covers `/api/v0/cat` and `/api/v0/cat/x`, not `/api/v0/catalog`); `/` covers everything.
pub fn covers(allowed_paths: &[String], path: &str) -> bool {
    allowed_paths.iter().any(|prefix| {
        prefix == "/"
            || path == prefix
            || path
                .strip_prefix(prefix.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

impl Credential {
    /// Whether this credential may call `path` (see [`covers`]).
    pub fn covers(&self, path: &str) -> bool {
        covers(&self.allowed_paths, path)
    }

    /// A digest of the secret (hex): login sessions are bound to it, so changing the secret
    /// ends them.
    pub fn fingerprint(&self) -> String {
        let d = Code::Sha2_256.digest(self.header.as_bytes());
        d.digest().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The configured credentials.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    entries: Vec<Credential>,
}

impl Credentials {
    /// From the `api` config section.
    pub fn from_config(api: &ApiConfig) -> Self {
        Credentials {
            entries: api
                .authorizations
                .iter()
                .map(|(name, a)| Credential {
                    name: name.clone(),
                    header: header_value(&a.auth_secret),
                    allowed_paths: a.allowed_paths.clone(),
                })
                .collect(),
        }
    }

    /// Whether any credential is configured.
    pub fn is_enabled(&self) -> bool {
        !self.entries.is_empty()
    }

    /// The credential an `Authorization` header value names (compared in constant time).
    pub fn by_header(&self, header: &str) -> Option<&Credential> {
        let mut found = None;
        for c in &self.entries {
            if constant_time_eq(c.header.as_bytes(), header.trim().as_bytes()) && found.is_none() {
                found = Some(c);
            }
        }
        found
    }

    /// The credential a typed secret names: a bearer token, `USER:PASSWORD`, or the config's
    /// own `bearer:…` / `basic:…` form (the login form).
    pub fn by_secret(&self, secret: &str) -> Option<&Credential> {
        let secret = secret.trim();
        if secret.is_empty() {
            return None;
        }
        let mut candidates = vec![header_value(secret)];
        if secret.contains(':') && !secret.starts_with("bearer:") && !secret.starts_with("basic:") {
            candidates.push(format!("Bearer {secret}"));
        }
        candidates.iter().find_map(|h| self.by_header(h))
    }

    /// Every credential.
    pub fn iter(&self) -> impl Iterator<Item = &Credential> {
        self.entries.iter()
    }

    /// The credential called `name`.
    pub fn by_name(&self, name: &str) -> Option<&Credential> {
        self.entries.iter().find(|c| c.name == name)
    }
}

/// Where a request says it comes from (its `Origin`, else the origin of its `Referer`), as
/// seen by this listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginKind {
    /// No `Origin` and no `Referer`: not a page's request (curl, a script, a reverse proxy),
    /// or a same-origin navigation.
    Absent,
    /// A page served from a loopback address (`127.0.0.1`, `[::1]`) or `localhost` — which
    /// browsers resolve themselves, so no DNS answer can make another site look like it.
    Loopback,
    /// Listed in `api.allowed_origins`.
    Listed,
    /// This listener's own address as an IP literal (our own UI opened by IP).
    OwnAddress,
    /// Equal to the request's own `Host`: a page of the site the browser thinks it is
    /// talking to. Not foreign, but not trusted either — a DNS-rebinding page matches too.
    SameAsHost,
    /// Anything else, including `null` (sandboxed pages: the gateway's content).
    Foreign(String),
}

impl OriginKind {
    /// Whether a request from this origin must be refused any change of state (cross-site).
    pub fn is_foreign(&self) -> bool {
        matches!(self, OriginKind::Foreign(_))
    }

    /// Whether a request from the same host with this origin may act as the owner without a
    /// credential (a local reverse proxy, a frontend served on the Pi itself).
    pub fn trusted_locally(&self) -> bool {
        matches!(
            self,
            OriginKind::Absent | OriginKind::Loopback | OriginKind::Listed | OriginKind::OwnAddress
        )
    }
}

/// `scheme://host[:port]` of a URL, lower-cased, default ports dropped; `None` if it is not
/// an http(s) URL.
pub fn normalize_origin(url: &str) -> Option<String> {
    let url = url.trim();
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = split_host_port(authority)?;
    let default = if scheme == "http" { 80 } else { 443 };
    let host = host.to_ascii_lowercase();
    Some(match port {
        Some(p) if p != default => format!("{scheme}://{host}:{p}"),
        _ => format!("{scheme}://{host}"),
    })
}

/// Splits `host[:port]` / `[v6][:port]`.
fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None if after.is_empty() => None,
            None => return None,
        };
        return Some((&authority[..host.len() + 2], port));
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => Some((h, Some(p.parse().ok()?))),
        None => Some((authority, None)),
    }
}

/// The host of a normalized origin as an IP address, if it is one.
fn origin_ip(origin: &str) -> Option<(IpAddr, Option<u16>)> {
    let authority = origin.split_once("://")?.1;
    let (host, port) = split_host_port(authority)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((canonical_ip(host.parse().ok()?), port))
}

fn origin_port(origin: &str) -> u16 {
    let authority = origin.split_once("://").map_or("", |x| x.1);
    match split_host_port(authority) {
        Some((_, Some(p))) => p,
        _ if origin.starts_with("https") => 443,
        _ => 80,
    }
}

/// The trusted origins.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    listed: Vec<String>,
}

impl Origins {
    /// From the `api` config section.
    pub fn from_config(api: &ApiConfig) -> Self {
        Origins {
            listed: api
                .allowed_origins
                .iter()
                .filter_map(|o| normalize_origin(o))
                .collect(),
        }
    }

    /// Classifies a request by its `Origin` (else `Referer`) header.
    pub fn classify(&self, headers: &HeaderMap, conn: Option<&ConnInfo>) -> OriginKind {
        let raw = headers
            .get(header::ORIGIN)
            .or_else(|| headers.get(header::REFERER))
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let Some(raw) = raw else {
            return OriginKind::Absent;
        };
        let Some(origin) = normalize_origin(&raw) else {
            return OriginKind::Foreign(raw);
        };
        let authority = origin.split_once("://").map_or("", |x| x.1);
        let host = split_host_port(authority).map_or("", |x| x.0);
        if host == "localhost" || origin_ip(&origin).is_some_and(|(ip, _)| ip.is_loopback()) {
            return OriginKind::Loopback;
        }
        if self.listed.contains(&origin) {
            return OriginKind::Listed;
        }
        if let Some(conn) = conn
            && let Some((ip, _)) = origin_ip(&origin)
            && ip == canonical_ip(conn.local.ip())
            && origin_port(&origin) == conn.local.port()
        {
            return OriginKind::OwnAddress;
        }
        let host_header = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_ascii_lowercase);
        if let Some(h) = host_header
            && let Some(same) = normalize_origin(&format!(
                "{}://{h}",
                origin.split_once("://").map_or("http", |x| x.0)
            ))
            && same == origin
        {
            return OriginKind::SameAsHost;
        }
        OriginKind::Foreign(raw)
    }
}

/// What [`Access`] holds at one moment.
#[derive(Debug, Clone, Default)]
pub struct AccessSnapshot {
    /// The credentials.
    pub credentials: Credentials,
    /// The trusted origins.
    pub origins: Origins,
}

impl AccessSnapshot {
    /// From the `api` config section.
    pub fn from_config(api: &ApiConfig) -> Self {
        AccessSnapshot {
            credentials: Credentials::from_config(api),
            origins: Origins::from_config(api),
        }
    }
}

struct Watched {
    snapshot: Arc<AccessSnapshot>,
    modified: Option<SystemTime>,
    checked: Instant,
}

/// The access rules of a running daemon, shared by both listeners.
pub struct Access {
    /// `config.toml` to follow (`None`: fixed rules).
    file: Option<PathBuf>,
    state: Mutex<Watched>,
}

/// How often `config.toml` is looked at.
const RECHECK: Duration = Duration::from_secs(1);

fn modified(path: &std::path::Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

impl Access {
    /// Fixed rules (tests, in-process routers).
    pub fn fixed(api: &ApiConfig) -> Arc<Self> {
        Arc::new(Access {
            file: None,
            state: Mutex::new(Watched {
                snapshot: Arc::new(AccessSnapshot::from_config(api)),
                modified: None,
                checked: Instant::now(),
            }),
        })
    }

    /// Rules read from `api` now and again whenever the repo's `config.toml` changes.
    pub fn following(repo_dir: &std::path::Path, api: &ApiConfig) -> Arc<Self> {
        let file = repo_dir.join("config.toml");
        Arc::new(Access {
            state: Mutex::new(Watched {
                snapshot: Arc::new(AccessSnapshot::from_config(api)),
                modified: modified(&file),
                checked: Instant::now(),
            }),
            file: Some(file),
        })
    }

    /// The rules now (re-read when `config.toml` changed; a file that does not parse keeps
    /// the previous rules, with a warning).
    pub fn current(&self) -> Arc<AccessSnapshot> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(file) = &self.file
            && st.checked.elapsed() >= RECHECK
        {
            st.checked = Instant::now();
            let m = modified(file);
            if m != st.modified {
                st.modified = m;
                let dir = file.parent().unwrap_or(std::path::Path::new("."));
                match wanda_node::repo::read_config_doc(dir)
                    .and_then(|doc| wanda_node::repo::node_config(&doc))
                {
                    Ok(cfg) => {
                        st.snapshot = Arc::new(AccessSnapshot::from_config(&cfg.api));
                        tracing::info!("config.toml changed: access rules reloaded");
                    }
                    Err(e) => tracing::warn!(
                        "config.toml changed but cannot be read ({e}); keeping the previous access rules"
                    ),
                }
            }
        }
        st.snapshot.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wanda_node::repo::config::ApiAuthorization;

    fn api() -> ApiConfig {
        let mut api = ApiConfig::default();
        api.authorizations.insert(
            "all".into(),
            ApiAuthorization {
                auth_secret: "bearer:tok".into(),
                allowed_paths: vec!["/".into()],
            },
        );
        api.authorizations.insert(
            "cat".into(),
            ApiAuthorization {
                auth_secret: "basic:u:p".into(),
                allowed_paths: vec!["/api/v0/cat".into(), "/api/session".into()],
            },
        );
        api.allowed_origins = vec!["http://pi.local:3000".into()];
        api
    }

    #[test]
    fn secrets_become_header_values_like_kubo() {
        assert_eq!(header_value("bearer:abc"), "Bearer abc");
        assert_eq!(header_value("basic:u:p"), "Basic dTpw");
        assert_eq!(header_value("u:p"), "Basic dTpw");
        assert_eq!(header_value("abc"), "Bearer abc");
    }

    #[test]
    fn credentials_cover_whole_segments() {
        let c = Credentials::from_config(&api());
        let all = c.by_header("Bearer tok").unwrap();
        assert!(all.covers("/api/v0/pin/add") && all.covers("/api/mount/tracking"));
        let cat = c.by_header("Basic dTpw").unwrap();
        assert!(cat.covers("/api/v0/cat") && cat.covers("/api/session/start"));
        assert!(!cat.covers("/api/v0/catalog") && !cat.covers("/api/sessions"));
        assert!(!cat.covers("/api/v0/add"));
        assert!(c.by_header("Bearer nope").is_none());
        assert!(c.by_header("Bearer to").is_none());
        // the login form takes the token, USER:PASSWORD or the config's own form
        assert_eq!(c.by_secret("tok").unwrap().name, "all");
        assert_eq!(c.by_secret("bearer:tok").unwrap().name, "all");
        assert_eq!(c.by_secret("u:p").unwrap().name, "cat");
        assert!(c.by_secret("").is_none() && c.by_secret("u:q").is_none());
        assert_ne!(all.fingerprint(), cat.fingerprint());
    }

    #[test]
    fn origins_are_normalized() {
        assert_eq!(
            normalize_origin("HTTP://Pi.Local:80/x?y").as_deref(),
            Some("http://pi.local")
        );
        assert_eq!(
            normalize_origin("https://[::1]:8443/").as_deref(),
            Some("https://[::1]:8443")
        );
        for bad in [
            "null",
            "file:///etc",
            "http://",
            "http://u@h/",
            "ftp://x",
            "http://h:x",
        ] {
            assert_eq!(normalize_origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn origins_are_classified() {
        let o = Origins::from_config(&api());
        let conn = ConnInfo {
            peer: "10.0.0.9:50000".parse().unwrap(),
            local: "10.0.0.5:8080".parse().unwrap(),
        };
        let kind = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            o.classify(&h, Some(&conn))
        };
        assert_eq!(kind(&[]), OriginKind::Absent);
        assert_eq!(
            kind(&[("origin", "http://127.0.0.1:3000")]),
            OriginKind::Loopback
        );
        assert_eq!(
            kind(&[("origin", "http://localhost:3000")]),
            OriginKind::Loopback
        );
        assert_eq!(kind(&[("origin", "http://[::1]")]), OriginKind::Loopback);
        assert_eq!(
            kind(&[("origin", "http://pi.local:3000")]),
            OriginKind::Listed
        );
        assert_eq!(
            kind(&[("origin", "http://10.0.0.5:8080")]),
            OriginKind::OwnAddress
        );
        // our address on another port is another server
        assert!(kind(&[("origin", "http://10.0.0.5:9999")]).is_foreign());
        // a name that resolves to loopback is not loopback (DNS rebinding)
        assert!(kind(&[("origin", "http://localhost.evil.test:8080")]).is_foreign());
        assert!(kind(&[("origin", "http://127.0.0.1.nip.io")]).is_foreign());
        let rebound = kind(&[
            ("origin", "http://evil.test:8080"),
            ("host", "evil.test:8080"),
        ]);
        assert_eq!(rebound, OriginKind::SameAsHost);
        assert!(!rebound.is_foreign() && !rebound.trusted_locally());
        assert!(kind(&[("origin", "null")]).is_foreign());
        assert!(kind(&[("origin", "https://evil.test")]).is_foreign());
        // Referer counts when there is no Origin
        assert!(kind(&[("referer", "https://evil.test/page.html")]).is_foreign());
        assert_eq!(
            kind(&[("referer", "http://127.0.0.1:8080/ui/app.js")]),
            OriginKind::Loopback
        );
        // Origin wins over Referer
        assert!(
            kind(&[
                ("origin", "https://evil.test"),
                ("referer", "http://127.0.0.1:8080/")
            ])
            .is_foreign()
        );
    }

    #[test]
    fn rules_follow_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        wanda_node::repo::Repo::init(
            dir.path(),
            wanda_node::repo::profile::Profile::Local,
            &toml::Table::new(),
        )
        .unwrap();
        let access = Access::following(dir.path(), &ApiConfig::default());
        assert!(!access.current().credentials.is_enabled());
        let mut doc = wanda_node::repo::read_config_doc(dir.path()).unwrap();
        let mut t = toml::Table::new();
        let mut a = toml::Table::new();
        a.insert("auth_secret".into(), "bearer:tok".into());
        a.insert("allowed_paths".into(), toml::Value::Array(vec!["/".into()]));
        t.insert("owner".into(), toml::Value::Table(a));
        doc.get_mut("api")
            .and_then(|v| v.as_table_mut())
            .unwrap()
            .insert("authorizations".into(), toml::Value::Table(t));
        std::thread::sleep(Duration::from_millis(20));
        wanda_node::repo::write_config_doc(dir.path(), &doc).unwrap();
        std::thread::sleep(RECHECK + Duration::from_millis(50));
        let now = access.current();
        assert_eq!(now.credentials.by_secret("tok").unwrap().name, "owner");
    }
}
