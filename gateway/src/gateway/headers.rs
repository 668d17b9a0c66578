//! Response headers shared by every gateway answer: caching, ETags, `X-Ipfs-*`,
//! `Content-Disposition` and CORS.

use super::request::{GatewayRequest, Namespace};
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use cid::Cid;
use percent_encoding::utf8_percent_encode;
use std::time::Duration;

/// `Cache-Control` of immutable `/ipfs/` responses.
pub const IMMUTABLE: &str = "public, max-age=29030400, immutable";
/// `Cache-Control` of generated `/ipfs/` directory listings.
pub const DIR_LISTING: &str = "public, max-age=604800, stale-while-revalidate=2678400";
/// TTL used for `/ipns/` answers when the record carries none.
pub const DEFAULT_IPNS_TTL: Duration = Duration::from_secs(60);

/// How cacheable the answer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caching {
    /// `/ipfs/` content: immutable.
    Immutable,
    /// `/ipfs/` generated HTML (listings).
    Generated,
    /// `/ipns/`: the record's TTL.
    Ttl(Duration),
}

impl Caching {
    /// The caching of a request in `ns` whose record (for `/ipns/`) had `ttl`.
    pub fn for_request(ns: Namespace, ttl: Option<Duration>) -> Self {
        match ns {
            Namespace::Ipfs => Caching::Immutable,
            Namespace::Ipns => Caching::Ttl(ttl.unwrap_or(DEFAULT_IPNS_TTL)),
        }
    }

    /// The same caching for generated content.
    pub fn generated(self) -> Self {
        match self {
            Caching::Immutable => Caching::Generated,
            other => other,
        }
    }

    /// The `Cache-Control` value.
    pub fn value(self) -> String {
        match self {
            Caching::Immutable => IMMUTABLE.into(),
            Caching::Generated => DIR_LISTING.into(),
            Caching::Ttl(ttl) => format!("public, max-age={}", ttl.as_secs()),
        }
    }
}

/// Sets a header from a string, dropping values that are not valid header bytes.
pub fn set(h: &mut HeaderMap, name: impl Into<HeaderName>, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name.into(), v);
    }
}

/// Headers every content answer carries: `X-Ipfs-Path`, `X-Ipfs-Roots`, `Cache-Control` and
/// `ETag`.
pub fn content_headers(
    h: &mut HeaderMap,
    req: &GatewayRequest,
    roots: &[Cid],
    caching: Caching,
    etag: &str,
) {
    set(h, HeaderName::from_static("x-ipfs-path"), &req.raw_path);
    let roots: Vec<String> = roots.iter().map(Cid::to_string).collect();
    set(h, HeaderName::from_static("x-ipfs-roots"), &roots.join(","));
    set(h, header::CACHE_CONTROL, &caching.value());
    set(h, header::ETAG, etag);
}

/// Whether `If-None-Match` (a list of entity tags, or `*`) matches any of `etags` under weak
/// comparison (`W/` prefixes ignored).
pub fn if_none_match(req: &GatewayRequest, etags: &[&str]) -> bool {
    let strip = |t: &str| t.trim().trim_start_matches("W/").to_string();
    req.headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || etags.iter().any(|e| strip(e) == strip(tag))
        })
}

/// `Content-Disposition` for `filename` (`attachment` or `inline`), with an ASCII fallback
/// (`_` per non-ASCII character) and an RFC 5987 `filename*` when needed.
pub fn content_disposition(disposition: &str, filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            c if c.is_ascii() && !c.is_ascii_control() => c,
            _ => '_',
        })
        .collect();
    if ascii == filename {
        format!("{disposition}; filename=\"{ascii}\"")
    } else {
        let encoded = utf8_percent_encode(filename, super::request::QUERY_VALUE);
        format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
    }
}

/// Adds `Content-Disposition` from `?filename=` / `?download=true` when present.
pub fn user_disposition(h: &mut HeaderMap, req: &GatewayRequest) {
    let download = req.param("download") == Some("true");
    match req.param("filename") {
        Some(name) if !name.is_empty() => {
            let kind = if download { "attachment" } else { "inline" };
            set(
                h,
                header::CONTENT_DISPOSITION,
                &content_disposition(kind, name),
            );
        }
        _ if download => set(h, header::CONTENT_DISPOSITION, "attachment"),
        _ => {}
    }
}

/// CORS headers for GET/HEAD answers (the gateway is public, read-only content).
pub fn cors(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Range, User-Agent, X-Requested-With"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(
            "Content-Length, Content-Range, X-Chunked-Output, X-Stream-Output, X-Ipfs-Path, X-Ipfs-Roots",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disposition_fallback() {
        assert_eq!(
            content_disposition("attachment", "testтест.ipns-record"),
            "attachment; filename=\"test____.ipns-record\"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.ipns-record"
        );
        assert_eq!(
            content_disposition("inline", "a b.txt"),
            "inline; filename=\"a b.txt\""
        );
    }
}
