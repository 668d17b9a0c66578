//! The web UI's login (`/api/auth/*`): a credential from `api.authorizations` (or a one-time
//! pairing code made by the logged-in owner) is exchanged for an `HttpOnly`, `SameSite=Strict`
//! cookie. Logins are kept in `$REPO/app.redb` (only a hash of the cookie), end after
//! `http.login_lifetime`, at logout, and as soon as their credential's secret changes or the
//! credential is removed (`config.toml` is followed while the daemon runs).

use super::access::{Caller, LOGIN_COOKIE, Via, cookie};
use super::envelope::{ApiError, ApiResult, object_body, ok};
use crate::app::App;
use crate::app::metadata::MetadataDb;
use crate::app::rows::LoginRow;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use base64::Engine;
use multihash_codetable::{Code, MultihashDigest};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wanda_gateway::auth::{Access, Credential, Credentials};
use wanda_gateway::http::{ConnInfo, canonical_ip};

/// Logins kept at once (the oldest go first).
const MAX_LOGINS: usize = 64;
/// A pairing code lasts this long, and works once.
const PAIR_LIFETIME: Duration = Duration::from_secs(600);
/// Pairing codes outstanding at once.
const MAX_PAIR_CODES: usize = 8;
/// Failed logins allowed from one address per [`FAIL_WINDOW`].
const MAX_FAILURES: u32 = 10;
const FAIL_WINDOW: Duration = Duration::from_secs(60);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn hash(token: &str) -> String {
    let d = Code::Sha2_256.digest(token.as_bytes());
    d.digest().iter().map(|b| format!("{b:02x}")).collect()
}

/// The login store.
#[derive(Clone)]
pub struct Logins {
    db: MetadataDb,
    lifetime: Duration,
    /// Pairing code → (credential name, expiry).
    pair_codes: Arc<Mutex<HashMap<String, (String, Instant)>>>,
    /// Failed attempts per client address: (count, window start).
    failures: Arc<Mutex<HashMap<IpAddr, (u32, Instant)>>>,
}

impl Logins {
    /// Logins in `db`, lasting `lifetime`.
    pub fn new(db: MetadataDb, lifetime: Duration) -> Self {
        Logins {
            db,
            lifetime,
            pair_codes: Arc::default(),
            failures: Arc::default(),
        }
    }

    /// Makes a login for `cred`; returns the cookie value.
    pub fn create(&self, cred: &Credential) -> anyhow::Result<String> {
        let token = random_token();
        let now = now_ms();
        let row = LoginRow {
            credential: cred.name.clone(),
            fingerprint: cred.fingerprint(),
            created_ms: now,
            expires_ms: now + self.lifetime.as_millis() as u64,
        };
        self.db.put_login(&hash(&token), &row, now, MAX_LOGINS)?;
        Ok(token)
    }

    /// The credential behind a cookie, if the login is still good.
    pub fn check<'a>(&self, token: &str, creds: &'a Credentials) -> Option<&'a Credential> {
        if token.len() > 128 {
            return None;
        }
        let row = self.db.login(&hash(token)).ok()??;
        let cred = creds.by_name(&row.credential)?;
        (row.expires_ms > now_ms() && row.fingerprint == cred.fingerprint()).then_some(cred)
    }

    /// Ends the login behind a cookie.
    pub fn remove(&self, token: &str) {
        if let Err(e) = self.db.remove_login(&hash(token)) {
            tracing::warn!("could not remove a login: {e}");
        }
    }

    /// A one-time pairing code for `credential`.
    pub fn pair_code(&self, credential: &str) -> String {
        let code = random_token();
        let mut codes = self.pair_codes.lock().unwrap_or_else(|e| e.into_inner());
        codes.retain(|_, (_, until)| *until > Instant::now());
        if codes.len() >= MAX_PAIR_CODES
            && let Some(oldest) = codes
                .iter()
                .min_by_key(|(_, (_, until))| *until)
                .map(|(k, _)| k.clone())
        {
            codes.remove(&oldest);
        }
        codes.insert(
            code.clone(),
            (credential.to_string(), Instant::now() + PAIR_LIFETIME),
        );
        code
    }

    /// Takes a pairing code (it works once); the credential name it was made for.
    fn redeem(&self, code: &str) -> Option<String> {
        let mut codes = self.pair_codes.lock().unwrap_or_else(|e| e.into_inner());
        let (name, until) = codes.remove(code)?;
        (until > Instant::now()).then_some(name)
    }

    /// Whether `ip` has failed too often lately.
    fn throttled(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return false };
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&ip)
            .is_some_and(|(n, since)| *n >= MAX_FAILURES && since.elapsed() < FAIL_WINDOW)
    }

    fn failed(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 4096 {
            map.retain(|_, (_, since)| since.elapsed() < FAIL_WINDOW);
        }
        let e = map.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() >= FAIL_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}

/// What the login routes need.
pub struct LoginState {
    /// The app (for the listener's addresses).
    pub app: Arc<App>,
    /// Credentials.
    pub rules: Arc<Access>,
    /// Logins.
    pub logins: Logins,
    /// The main listener's port (for pairing links).
    pub port: u16,
}

fn set_cookie(value: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("wanda_login=; Path=/; Max-Age=0"))
}

fn status_json(caller: &Caller, creds: &Credentials) -> Value {
    match caller {
        Caller::Owner {
            via,
            credential,
            allowed_paths,
        } => json!({
            "owner": true,
            "via": via.as_str(),
            "credential": credential,
            "allowed_paths": allowed_paths,
            "login_configured": creds.is_enabled(),
        }),
        Caller::Visitor { .. } => json!({
            "owner": false,
            "via": null,
            "credential": null,
            "allowed_paths": [],
            "login_configured": creds.is_enabled(),
        }),
    }
}

/// `GET /api/auth/status`: who the caller is to this telescope.
pub async fn status(
    State(st): State<Arc<LoginState>>,
    Extension(caller): Extension<Caller>,
) -> ApiResult {
    let rules = st.rules.current();
    Ok(ok(
        status_json(&caller, &rules.credentials),
        "access status",
    ))
}

/// `POST /api/auth/login` with `{"secret": TOKEN or USER:PASSWORD}` or `{"pair_code": CODE}`:
/// sets the login cookie.
pub async fn login(
    State(st): State<Arc<LoginState>>,
    conn: Option<Extension<ConnInfo>>,
    body: Bytes,
) -> ApiResult {
    let ip = conn.map(|Extension(c)| canonical_ip(c.peer.ip()));
    if st.logins.throttled(ip) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_REQUESTS",
            "too many failed logins from this address; wait a minute",
        ));
    }
    let body = object_body(&body)?.unwrap_or_default();
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let rules = st.rules.current();
    let cred = if let Some(secret) = text("secret") {
        rules.credentials.by_secret(&secret).cloned()
    } else if let Some(code) = text("pair_code") {
        st.logins
            .redeem(code.trim())
            .and_then(|name| rules.credentials.by_name(&name).cloned())
    } else {
        return Err(ApiError::validation(
            "send {\"secret\": \"<owner token or user:password>\"} or {\"pair_code\": \"…\"}",
        ));
    };
    let Some(cred) = cred else {
        st.logins.failed(ip);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_INVALID",
            if rules.credentials.is_enabled() {
                "that is not one of this telescope's credentials (or the pairing code expired)"
            } else {
                "this telescope has no owner credential yet: on the telescope, run `wanda auth owner`"
            },
        ));
    };
    let logins = st.logins.clone();
    let c = cred.clone();
    let token = tokio::task::spawn_blocking(move || logins.create(&c))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "LOGIN_ERROR",
                e.to_string(),
            )
        })?
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "LOGIN_ERROR",
                e.to_string(),
            )
        })?;
    let caller = Caller::Owner {
        via: Via::Login,
        credential: Some(cred.name.clone()),
        allowed_paths: cred.allowed_paths.clone(),
    };
    let mut resp = ok(status_json(&caller, &rules.credentials), "logged in");
    resp.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&token, st.logins.lifetime.as_secs()),
    );
    Ok(resp)
}

/// `POST /api/auth/logout`: ends this browser's login.
pub async fn logout(State(st): State<Arc<LoginState>>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, LOGIN_COOKIE).map(str::to_string) {
        let logins = st.logins.clone();
        let _ = tokio::task::spawn_blocking(move || logins.remove(&token)).await;
    }
    let mut resp = ok(json!({"owner": false}), "logged out");
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie("", 0));
    resp
}

/// `POST /api/auth/pair` (owner): a one-time code for a phone, as links to open on it.
pub async fn pair(
    State(st): State<Arc<LoginState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult {
    let rules = st.rules.current();
    // pair with the caller's own credential; a local owner pairs with one that covers "/"
    let name = match &caller {
        Caller::Owner {
            credential: Some(name),
            ..
        } => name.clone(),
        _ => match rules
            .credentials
            .iter()
            .find(|c| c.allowed_paths.iter().any(|p| p == "/"))
        {
            Some(c) => c.name.clone(),
            None => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "AUTH_NOT_CONFIGURED",
                    "there is no owner credential to pair with: run `wanda auth owner` on the telescope first",
                ));
            }
        },
    };
    let code = st.logins.pair_code(&name);
    let mut urls = Vec::new();
    if let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok())
        && !host.starts_with("127.")
        && !host.starts_with("localhost")
        && !host.starts_with("[::1]")
    {
        urls.push(format!("http://{host}/#pair={code}"));
    }
    for ip in crate::net_addrs::lan_ipv4() {
        let u = format!("http://{ip}:{}/#pair={code}", st.port);
        if !urls.contains(&u) {
            urls.push(u);
        }
    }
    let _ = &st.app;
    Ok(ok(
        json!({
            "code": code,
            "credential": name,
            "expires_in_s": PAIR_LIFETIME.as_secs(),
            "urls": urls,
        }),
        "open one of the links on the phone within 10 minutes",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use wanda_node::repo::config::{ApiAuthorization, ApiConfig};

    fn creds(secret: &str) -> Credentials {
        let mut api = ApiConfig::default();
        api.authorizations.insert(
            "owner".into(),
            ApiAuthorization {
                auth_secret: format!("bearer:{secret}"),
                allowed_paths: vec!["/".into()],
            },
        );
        Credentials::from_config(&api)
    }

    #[test]
    fn logins_end_when_the_secret_changes_or_at_logout() {
        let dir = tempfile::tempdir().unwrap();
        let db = MetadataDb::open(&dir.path().join("app.redb")).unwrap();
        let logins = Logins::new(db, Duration::from_secs(3600));
        let c = creds("one");
        let token = logins.create(c.by_name("owner").unwrap()).unwrap();
        assert_eq!(logins.check(&token, &c).unwrap().name, "owner");
        assert!(logins.check("not-a-login", &c).is_none());
        // the same name with another secret: the login is over
        assert!(logins.check(&token, &creds("two")).is_none());
        // the credential removed: over
        assert!(logins.check(&token, &Credentials::default()).is_none());
        logins.remove(&token);
        assert!(logins.check(&token, &c).is_none());
    }

    #[test]
    fn logins_expire_and_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let db = MetadataDb::open(&dir.path().join("app.redb")).unwrap();
        let c = creds("one");
        let short = Logins::new(db.clone(), Duration::from_millis(1));
        let t = short.create(c.by_name("owner").unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(short.check(&t, &c).is_none());
        let logins = Logins::new(db, Duration::from_secs(3600));
        let tokens: Vec<String> = (0..MAX_LOGINS + 5)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(2));
                logins.create(c.by_name("owner").unwrap()).unwrap()
            })
            .collect();
        assert!(logins.check(&tokens[0], &c).is_none(), "the oldest went");
        assert!(logins.check(tokens.last().unwrap(), &c).is_some());
    }

    #[test]
    fn pairing_codes_work_once_and_failures_throttle() {
        let dir = tempfile::tempdir().unwrap();
        let db = MetadataDb::open(&dir.path().join("app.redb")).unwrap();
        let logins = Logins::new(db, Duration::from_secs(3600));
        let code = logins.pair_code("owner");
        assert_eq!(logins.redeem(&code).as_deref(), Some("owner"));
        assert_eq!(logins.redeem(&code), None);
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        for _ in 0..MAX_FAILURES {
            assert!(!logins.throttled(Some(ip)));
            logins.failed(Some(ip));
        }
        assert!(logins.throttled(Some(ip)));
        assert!(!logins.throttled(Some("10.0.0.8".parse().unwrap())));
    }
}
