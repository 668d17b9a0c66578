//! Parsing a gateway request: namespace, root, decoded path segments, query and `Accept`.

use super::error::{GatewayError, GwResult};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// Longest request path + query accepted, in bytes.
pub const MAX_URI_LEN: usize = 8 * 1024;
/// Most path segments accepted.
pub const MAX_SEGMENTS: usize = 256;

/// Characters escaped in a path segment (everything but RFC 3986 unreserved and a few
/// sub-delimiters that are safe in paths).
pub const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Characters escaped in a query value (like Go's `url.QueryEscape`, with space as `%20`).
pub const QUERY_VALUE: &AsciiSet = &SEGMENT
    .add(b'&')
    .add(b'+')
    .add(b'=')
    .add(b';')
    .add(b',')
    .add(b'$')
    .add(b'@')
    .add(b':')
    .add(b'!')
    .add(b'\'')
    .add(b'(')
    .add(b')')
    .add(b'*');

/// Percent-encodes one path segment.
pub fn encode_segment(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// `/ipfs/` or `/ipns/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Immutable content by CID.
    Ipfs,
    /// Mutable names.
    Ipns,
}

impl Namespace {
    /// `"ipfs"` or `"ipns"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::Ipfs => "ipfs",
            Namespace::Ipns => "ipns",
        }
    }
}

/// A parsed gateway request.
#[derive(Debug, Clone)]
pub struct GatewayRequest {
    /// Namespace.
    pub ns: Namespace,
    /// The path exactly as sent (for `X-Ipfs-Path`).
    pub raw_path: String,
    /// The raw query string, if any.
    pub raw_query: Option<String>,
    /// The CID or name segment, decoded.
    pub id: String,
    /// The path segments after it, decoded (never `.`, `..`, empty, or containing `/`).
    pub segments: Vec<String>,
    /// Whether the path ended with `/`.
    pub trailing_slash: bool,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// Request headers.
    pub headers: HeaderMap,
    /// HEAD (headers only).
    pub head: bool,
}

impl GatewayRequest {
    /// Parses `uri`; any malformed part is a 4xx.
    pub fn parse(uri: &Uri, headers: HeaderMap, head: bool) -> GwResult<Self> {
        let raw_path = uri.path().to_string();
        let raw_query = uri.query().map(str::to_string);
        if raw_path.len() + raw_query.as_deref().map_or(0, str::len) > MAX_URI_LEN {
            return Err(GatewayError::new(
                StatusCode::URI_TOO_LONG,
                format!("request URI is longer than {MAX_URI_LEN} bytes"),
            ));
        }
        let (ns, rest) = if let Some(r) = raw_path.strip_prefix("/ipfs") {
            (Namespace::Ipfs, r)
        } else if let Some(r) = raw_path.strip_prefix("/ipns") {
            (Namespace::Ipns, r)
        } else {
            return Err(GatewayError::not_found("not a gateway path"));
        };
        let rest = rest.strip_prefix('/').unwrap_or(rest);
        let trailing_slash = rest.ends_with('/');
        let mut parts = rest.split('/');
        let id_raw = parts.next().unwrap_or_default();
        if id_raw.is_empty() {
            return Err(GatewayError::bad_request(format!(
                "missing {} after /{}/",
                if ns == Namespace::Ipfs {
                    "CID"
                } else {
                    "IPNS name"
                },
                ns.as_str()
            )));
        }
        let id = decode_segment(id_raw)?;
        let mut segments = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue; // `a//b` and the trailing slash
            }
            let seg = decode_segment(part)?;
            if seg == "." || seg == ".." {
                return Err(GatewayError::bad_request(format!(
                    "path segment `{seg}` is not allowed (no relative paths)"
                )));
            }
            segments.push(seg);
            if segments.len() > MAX_SEGMENTS {
                return Err(GatewayError::bad_request(format!(
                    "path has more than {MAX_SEGMENTS} segments"
                )));
            }
        }
        let query = match raw_query.as_deref() {
            Some(q) => parse_query(q)?,
            None => Vec::new(),
        };
        Ok(GatewayRequest {
            ns,
            raw_path,
            raw_query,
            id,
            segments,
            trailing_slash,
            query,
            headers,
            head,
        })
    }

    /// The first value of query parameter `key`.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A request header as a string (non-ASCII values are a 400).
    pub fn header(&self, name: header::HeaderName) -> GwResult<Option<&str>> {
        match self.headers.get(&name) {
            None => Ok(None),
            Some(v) => v.to_str().map(Some).map_err(|_| {
                GatewayError::bad_request(format!("header {name} is not valid ASCII"))
            }),
        }
    }

    /// Whether the client sent `Cache-Control: only-if-cached`.
    pub fn only_if_cached(&self) -> bool {
        self.headers
            .get_all(header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|d| d.trim().eq_ignore_ascii_case("only-if-cached"))
    }

    /// The request path rebuilt from decoded parts (`/ns/id/seg/…`), canonically escaped.
    pub fn path_with(&self, id: &str, segments: &[String], trailing_slash: bool) -> String {
        let mut p = format!("/{}/{}", self.ns.as_str(), encode_segment(id));
        for s in segments {
            p.push('/');
            p.push_str(&encode_segment(s));
        }
        if trailing_slash {
            p.push('/');
        }
        p
    }
}

fn decode_segment(raw: &str) -> GwResult<String> {
    let bytes: Vec<u8> = percent_decode_str(raw).collect();
    let s = String::from_utf8(bytes).map_err(|_| {
        GatewayError::bad_request(format!("path segment `{raw}` is not valid UTF-8"))
    })?;
    if s.contains('/') || s.contains('\\') {
        return Err(GatewayError::bad_request(format!(
            "path segment `{raw}` contains an encoded slash"
        )));
    }
    if s.contains('\0') {
        return Err(GatewayError::bad_request(format!(
            "path segment `{raw}` contains a NUL byte"
        )));
    }
    Ok(s)
}

fn parse_query(q: &str) -> GwResult<Vec<(String, String)>> {
    // form_urlencoded replaces invalid UTF-8 silently; refuse it instead
    for part in q.split('&') {
        let bytes: Vec<u8> = percent_decode_str(&part.replace('+', " ")).collect();
        if std::str::from_utf8(&bytes).is_err() {
            return Err(GatewayError::bad_request(
                "query string is not valid UTF-8 once decoded",
            ));
        }
    }
    Ok(form_urlencoded::parse(q.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// One media range from `Accept`, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaRange {
    /// `type/subtype`, lowercase.
    pub mime: String,
    /// Parameters (`version=1`, `order=dfs`, …), names lowercase.
    pub params: Vec<(String, String)>,
}

impl MediaRange {
    /// The value of parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an `Accept` header into media ranges, highest `q` first (stable otherwise).
pub fn parse_accept(value: &str) -> Vec<MediaRange> {
    let mut out: Vec<(f32, MediaRange)> = Vec::new();
    for item in value.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let mime = parts.next().unwrap_or_default().to_ascii_lowercase();
        if mime.is_empty() {
            continue;
        }
        let mut q = 1.0f32;
        let mut params = Vec::new();
        for p in parts {
            let Some((k, v)) = p.split_once('=') else {
                continue;
            };
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().trim_matches('"').to_string();
            if k == "q" {
                q = v.parse().unwrap_or(0.0);
            } else {
                params.push((k, v));
            }
        }
        out.push((q, MediaRange { mime, params }));
    }
    out.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    out.into_iter()
        .filter(|(q, _)| *q > 0.0)
        .map(|(_, m)| m)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(p: &str) -> GwResult<GatewayRequest> {
        GatewayRequest::parse(&p.parse().unwrap(), HeaderMap::new(), false)
    }

    #[test]
    fn segments_are_decoded() {
        let r =
            parse("/ipfs/bafy/%C4%85/Portugal%252C+Espa%C3%B1a.txt/?a=1&filename=x%20y").unwrap();
        assert_eq!(r.id, "bafy");
        assert_eq!(r.segments, vec!["ą", "Portugal%2C+España.txt"]);
        assert!(r.trailing_slash);
        assert_eq!(r.param("filename"), Some("x y"));
        assert_eq!(
            r.path_with("bafy", &r.segments, true),
            "/ipfs/bafy/%C4%85/Portugal%252C+Espa%C3%B1a.txt/"
        );
    }

    #[test]
    fn refuses_traversal_and_bad_bytes() {
        for p in [
            "/ipfs/bafy/..",
            "/ipfs/bafy/%2e%2E",
            "/ipfs/bafy/a%2Fb",
            "/ipfs/bafy/a%5Cb",
            "/ipfs/bafy/%ff",
            "/ipfs/bafy/%00",
            "/ipfs/",
            "/ipfs/bafy?x=%ff",
        ] {
            assert_eq!(parse(p).unwrap_err().status, StatusCode::BAD_REQUEST, "{p}");
        }
    }

    #[test]
    fn accept_is_ordered_by_q() {
        let a =
            parse_accept("text/html;q=0.5, application/vnd.ipld.car; version=1; order=dfs; dups=y");
        assert_eq!(a[0].mime, "application/vnd.ipld.car");
        assert_eq!(a[0].param("dups"), Some("y"));
        assert_eq!(a[1].mime, "text/html");
    }
}
