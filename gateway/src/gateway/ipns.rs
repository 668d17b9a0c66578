//! `/ipns/{name}`: canonical-name redirects, record lookup and validation, and
//! `?format=ipns-record`.

use super::GatewayContext;
use super::error::{GatewayError, GwResult};
use super::file::with_headers;
use super::headers;
use super::names::NameError;
use super::request::GatewayRequest;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use cid::Cid;
use std::time::{Duration, SystemTime};
use wanda_node::ipns::{IpnsName, ValidatedRecord, validate};

/// How many `/ipns/` → `/ipns/` hops a value may take.
const MAX_DEPTH: usize = 8;

/// What a name led to.
pub enum NameTarget {
    /// Answer this instead (a redirect to the canonical name).
    Respond(Response),
    /// Content to serve.
    Content {
        /// The record of the requested name (for `?format=ipns-record`).
        record: Vec<u8>,
        /// The `/ipfs/` root CID the value names.
        root: Cid,
        /// The value's path below the root.
        segments: Vec<String>,
        /// The shortest TTL met on the way.
        ttl: Option<Duration>,
        /// The requested name.
        name: IpnsName,
    },
}

fn parse_name(s: &str) -> GwResult<IpnsName> {
    s.parse::<IpnsName>().map_err(|e| {
        GatewayError::bad_request(format!(
            "`{s}` is not an IPNS name (k51…, bafz…, 12D3Koo… or Qm…; DNSLink is not supported): {e}"
        ))
    })
}

async fn fetch(
    ctx: &GatewayContext,
    name: &IpnsName,
    local_only: bool,
) -> GwResult<(Vec<u8>, ValidatedRecord)> {
    let source = if local_only {
        ctx.names.local_record(name)
    } else {
        ctx.names.record(name)
    };
    let lookup = tokio::time::timeout(ctx.fetch_timeout, source).await;
    let bytes = match lookup {
        Err(_) | Ok(Err(NameError::Timeout)) => {
            return Err(GatewayError::new(
                StatusCode::GATEWAY_TIMEOUT,
                format!("timed out resolving /ipns/{name}"),
            ));
        }
        Ok(Err(NameError::NotFound)) => {
            return Err(GatewayError::not_found(format!(
                "no IPNS record found for /ipns/{name}"
            )));
        }
        Ok(Err(NameError::Other(e))) => {
            return Err(GatewayError::new(
                StatusCode::BAD_GATEWAY,
                format!("resolving /ipns/{name}: {e}"),
            ));
        }
        Ok(Ok(b)) => b,
    };
    let valid = validate(&bytes, name, SystemTime::now()).map_err(|e| {
        GatewayError::new(
            StatusCode::BAD_GATEWAY,
            format!("the IPNS record of /ipns/{name} is not valid: {e}"),
        )
    })?;
    Ok((bytes, valid))
}

/// Resolves the request's name to content (or a redirect).
pub async fn resolve(
    ctx: &GatewayContext,
    req: &GatewayRequest,
    local_only: bool,
) -> GwResult<NameTarget> {
    let name = parse_name(&req.id)?;
    let canonical = name.to_string();
    if req.id != canonical && (req.id.starts_with('1') || req.id.starts_with("Qm")) {
        let mut location = req.path_with(&canonical, &req.segments, req.trailing_slash);
        if let Some(q) = &req.raw_query {
            location.push('?');
            location.push_str(q);
        }
        let mut h = HeaderMap::new();
        headers::set(&mut h, header::LOCATION, &location);
        return Ok(NameTarget::Respond(with_headers(
            StatusCode::FOUND,
            h,
            Body::empty(),
        )));
    }
    let (record, first) = fetch(ctx, &name, local_only).await?;
    let mut ttl = first.ttl;
    let mut value = first.value;
    for _ in 0..MAX_DEPTH {
        let bad_value = || {
            GatewayError::new(
                StatusCode::BAD_GATEWAY,
                format!("IPNS value `{value}` of /ipns/{name} is not a content path"),
            )
        };
        let mut parts = value.split('/').filter(|s| !s.is_empty());
        let ns = parts.next().ok_or_else(bad_value)?;
        let id = parts.next().ok_or_else(bad_value)?;
        let rest: Vec<String> = parts.map(str::to_string).collect();
        if rest.iter().any(|s| s == "." || s == "..") {
            return Err(bad_value());
        }
        match ns {
            "ipfs" => {
                let root = Cid::try_from(id).map_err(|_| bad_value())?;
                return Ok(NameTarget::Content {
                    record,
                    root,
                    segments: rest,
                    ttl,
                    name,
                });
            }
            "ipns" => {
                let next = id.parse::<IpnsName>().map_err(|_| bad_value())?;
                let (_, v) = fetch(ctx, &next, local_only).await?;
                ttl = match (ttl, v.ttl) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                value = format!("{}/{}", v.value.trim_end_matches('/'), rest.join("/"));
            }
            _ => return Err(bad_value()),
        }
    }
    Err(GatewayError::new(
        StatusCode::BAD_GATEWAY,
        format!("/ipns/{name} points through more than {MAX_DEPTH} names"),
    ))
}

/// `?format=ipns-record`: the record itself.
pub fn serve_record(
    req: &GatewayRequest,
    name: &IpnsName,
    record: Vec<u8>,
    ttl: Option<Duration>,
) -> GwResult<Response> {
    if !req.segments.is_empty() {
        return Err(GatewayError::bad_request(
            "format=ipns-record takes a bare /ipns/{name}, without a path",
        ));
    }
    let mut h = HeaderMap::new();
    headers::set(&mut h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.ipfs.ipns-record"),
    );
    let filename = req
        .param("filename")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{name}.ipns-record"));
    headers::set(
        &mut h,
        header::CONTENT_DISPOSITION,
        &headers::content_disposition("attachment", &filename),
    );
    let ttl = ttl.unwrap_or(headers::DEFAULT_IPNS_TTL);
    headers::set(
        &mut h,
        header::CACHE_CONTROL,
        &format!("public, max-age={}", ttl.as_secs()),
    );
    headers::set(
        &mut h,
        header::HeaderName::from_static("x-ipfs-path"),
        &req.raw_path,
    );
    h.insert(header::CONTENT_LENGTH, (record.len() as u64).into());
    let body = if req.head {
        Body::empty()
    } else {
        Body::from(record)
    };
    Ok(with_headers(StatusCode::OK, h, body))
}
