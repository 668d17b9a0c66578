//! Kubo-style query options: `?flag=true`, `?n=3`, `?arg=a&arg=b`, and the block source they
//! select (`offline=true`: local store only; else the network too, `timeout=` per block).

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::files::parse_duration;
use std::time::Duration;
use wanda_node::blocks::BlockSource;
use wanda_node::net::NetworkBlocks;

/// A Kubo query: `(key, value)` pairs in order.
pub type Query = [(String, String)];

/// How long one block may take to arrive from the network unless `timeout=` says otherwise.
pub const BLOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// The last value of `key`.
pub fn value<'a>(q: &'a Query, key: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A boolean option (Go's `strconv.ParseBool` spellings; a bare `?flag` is true).
pub fn flag(q: &Query, key: &str, default: bool) -> RpcResult<bool> {
    match value(q, key) {
        None => Ok(default),
        Some(v) => match v {
            "" | "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
            other => Err(RpcError::bad_request(format!(
                "option \"{key}\": \"{other}\" is not a boolean (true or false)"
            ))),
        },
    }
}

/// An optional boolean option (absent = `None`).
pub fn opt_flag(q: &Query, key: &str) -> RpcResult<Option<bool>> {
    match value(q, key) {
        None => Ok(None),
        Some(_) => flag(q, key, false).map(Some),
    }
}

/// A non-negative integer option.
pub fn number<T: std::str::FromStr>(q: &Query, key: &str) -> RpcResult<Option<T>> {
    value(q, key)
        .map(|v| {
            v.parse::<T>().map_err(|_| {
                RpcError::bad_request(format!(
                    "option \"{key}\": \"{v}\" is not a non-negative integer"
                ))
            })
        })
        .transpose()
}

/// Where a read command gets blocks: the store alone with `offline=true`, else the store and
/// then the network (waiting `timeout=` per block, default 60s). Use from a blocking thread.
pub fn block_source(ctx: &RpcContext, q: &Query) -> RpcResult<Box<dyn BlockSource + Send + Sync>> {
    if flag(q, "offline", false)? {
        return Ok(Box::new(ctx.store.clone()));
    }
    let timeout = match value(q, "timeout") {
        Some(v) => parse_duration(v).ok_or_else(|| {
            RpcError::bad_request(format!("timeout \"{v}\" is not a duration like 30s"))
        })?,
        None => BLOCK_TIMEOUT,
    };
    Ok(Box::new(NetworkBlocks::new(
        ctx.store.clone(),
        ctx.node.clone(),
        tokio::runtime::Handle::current(),
        timeout,
    )))
}
