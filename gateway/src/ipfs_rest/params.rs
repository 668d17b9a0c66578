//! Query strings, JSON bodies and CIDs as the IPFS routes read them: anything malformed is a
//! 400 with a message naming the parameter.

use super::error::{RestError, RestResult};
use axum::body::Bytes;
use cid::Cid;
use serde_json::{Map, Value};
use std::time::Duration;

/// Longest wait a request may ask for (`timeout`), in seconds.
const MAX_TIMEOUT_SECS: f64 = 3600.0;

/// A decoded query string: `(key, value)` pairs in order.
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Decodes `raw` (the part after `?`); `None` = no query.
    pub fn parse(raw: Option<&str>) -> Self {
        Query(
            form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// The last value of `key`.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean (`true`/`false`/`1`/`0`; a bare `?key` is true).
    pub fn flag(&self, key: &str, default: bool) -> RestResult<bool> {
        match self.value(key) {
            None => Ok(default),
            Some("" | "1" | "true" | "True" | "TRUE") => Ok(true),
            Some("0" | "false" | "False" | "FALSE") => Ok(false),
            Some(other) => Err(RestError::invalid(format!(
                "{key} must be true or false, not \"{other}\""
            ))),
        }
    }

    /// A non-negative integer.
    pub fn number(&self, key: &str) -> RestResult<Option<u64>> {
        self.value(key)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    RestError::invalid(format!("{key} must be a non-negative integer, not \"{v}\""))
                })
            })
            .transpose()
    }

    /// `timeout` in seconds (a number > 0, at most an hour), else `default`.
    pub fn timeout(&self, default: Duration) -> RestResult<Duration> {
        match self.value("timeout") {
            None => Ok(default),
            Some(v) => seconds(&Value::String(v.to_string()), "timeout"),
        }
    }
}

/// A wait in seconds from a JSON number or numeric string (> 0, at most an hour).
pub fn seconds(v: &Value, key: &str) -> RestResult<Duration> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n.is_finite() && n > 0.0 && n <= MAX_TIMEOUT_SECS => {
            Ok(Duration::from_secs_f64(n))
        }
        _ => Err(RestError::invalid(format!(
            "{key} must be a number of seconds between 0 and {MAX_TIMEOUT_SECS}"
        ))),
    }
}

/// The body as a JSON object (an empty body is an empty object); anything else is
/// `INVALID_REQUEST`.
pub fn object_body(body: &Bytes) -> RestResult<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(RestError::invalid(
            "Request body must be a valid JSON object",
        )),
    }
}

/// A required string field of a JSON body.
pub fn required_str<'a>(body: &'a Map<String, Value>, key: &str) -> RestResult<&'a str> {
    match body.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim()),
        None | Some(Value::Null) => Err(RestError::invalid(format!("{key} is required"))),
        Some(_) => Err(RestError::invalid(format!(
            "{key} must be a non-empty string"
        ))),
    }
}

/// An optional boolean field of a JSON body.
pub fn opt_bool(body: &Map<String, Value>, key: &str, default: bool) -> RestResult<bool> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(RestError::invalid(format!("{key} must be true or false"))),
    }
}

/// An optional string field of a JSON body.
pub fn opt_str(body: &Map<String, Value>, key: &str) -> RestResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(RestError::invalid(format!("{key} must be a string"))),
    }
}

/// A CID as given in a path or body (a leading `/ipfs/` is accepted); paths below it are not.
pub fn cid(input: &str) -> RestResult<Cid> {
    let trimmed = input.trim();
    let bare = trimmed.strip_prefix("/ipfs/").unwrap_or(trimmed);
    if bare.is_empty() {
        return Err(RestError::invalid_cid("a CID is required"));
    }
    if bare.contains('/') {
        return Err(RestError::invalid_cid(format!(
            "\"{input}\" is a path; give a bare CID"
        )));
    }
    Ok(wanda_node::parse_cid(bare)?)
}
