//! Directory answers: the trailing-slash redirect and the generated HTML listing.

use super::error::GwResult;
use super::file::with_headers;
use super::headers::{self, Caching};
use super::request::{GatewayRequest, QUERY_VALUE, encode_segment};
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use cid::Cid;
use percent_encoding::utf8_percent_encode;
use std::fmt::Write as _;
use wanda_node::unixfs::ListEntry;

/// Version of the listing template; part of the listing `ETag`, so a template change
/// invalidates cached listings.
const TEMPLATE_VERSION: &str = "wanda-dir-listing-1";

/// `ETag` of the generated listing of `dir`: `"DirIndex-<template hash>_CID-<cid>"`.
pub fn listing_etag(dir: &Cid) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in TEMPLATE_VERSION.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100000001b3);
    }
    format!("\"DirIndex-{h:016x}_CID-{dir}\"")
}

/// 301 to the same path with a trailing slash (query kept), as directories are served only
/// under a slash so relative links resolve.
pub fn redirect_to_slash(req: &GatewayRequest) -> Response {
    let mut location = req.path_with(&req.id, &req.segments, true);
    if let Some(q) = &req.raw_query {
        location.push('?');
        location.push_str(q);
    }
    let mut h = HeaderMap::new();
    headers::set(&mut h, header::LOCATION, &location);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    with_headers(
        StatusCode::MOVED_PERMANENTLY,
        h,
        Body::from(format!("moved to {location}\n")),
    )
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn human_size(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The HTML listing of `entries` for the directory `dir` at the request's path.
pub fn listing_html(req: &GatewayRequest, dir: &Cid, entries: &[ListEntry]) -> String {
    let ns = req.ns.as_str();
    let id = encode_segment(&req.id);
    let mut base = format!("/{ns}/{id}");
    let mut crumbs = format!("/{ns}/<a href=\"{base}\">{}</a>", escape_html(&req.id));
    for seg in &req.segments {
        base.push('/');
        base.push_str(&encode_segment(seg));
        let _ = write!(crumbs, "/<a href=\"{base}\">{}</a>", escape_html(seg));
    }
    let mut html = String::with_capacity(1024 + entries.len() * 300);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Index of {title}</title>\n<style>\
         body{{font-family:system-ui,sans-serif;margin:2em}}\
         table{{border-collapse:collapse}}td{{padding:.2em 1em .2em 0}}\
         .ipfs-hash{{font-family:monospace;color:#666}}</style>\n</head>\n<body>\n\
         <h1>Index of {crumbs}</h1>\n<p class=\"ipfs-hash\">{dir}</p>\n<table>\n",
        title = escape_html(&format!("/{ns}/{}/{}", req.id, req.segments.join("/"))),
    );
    if !req.segments.is_empty() {
        let _ = writeln!(
            html,
            "<tr><td><a href=\"{base}/..\">..</a></td><td></td><td></td></tr>"
        );
    }
    for e in entries {
        let enc = encode_segment(&e.name);
        let filename = utf8_percent_encode(&enc, QUERY_VALUE);
        let cid = e.cid.to_string();
        let _ = writeln!(
            html,
            "<tr><td><a href=\"{base}/{enc}\">{name}</a></td>\
             <td><a class=\"ipfs-hash\" translate=\"no\" href=\"/ipfs/{cid}?filename={filename}\">{cid}</a></td>\
             <td>{size}</td></tr>",
            name = escape_html(&e.name),
            size = human_size(e.tsize),
        );
    }
    html.push_str("</table>\n</body>\n</html>\n");
    html
}

/// Answers with the listing (or 304 when `If-None-Match` names the listing or the directory).
pub fn serve_listing(
    req: &GatewayRequest,
    dir: &Cid,
    roots: &[Cid],
    caching: Caching,
    entries: &[ListEntry],
) -> GwResult<Response> {
    let etag = listing_etag(dir);
    let mut h = HeaderMap::new();
    headers::content_headers(&mut h, req, roots, caching.generated(), &etag);
    if headers::if_none_match(req, &[&etag, &format!("\"{dir}\"")]) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED, h, Body::empty()));
    }
    let html = listing_html(req, dir, entries);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CONTENT_LENGTH, (html.len() as u64).into());
    let body = if req.head {
        Body::empty()
    } else {
        Body::from(html)
    };
    Ok(with_headers(StatusCode::OK, h, body))
}
