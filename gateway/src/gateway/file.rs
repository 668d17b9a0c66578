//! Serving file content: UnixFS files streamed block by block (only the blocks a range
//! needs), and in-memory bytes (raw blocks, other codecs), with single and multiple ranges.

use super::body::{ChannelWriter, blocking_body};
use super::error::{GatewayError, GwResult};
use super::filewalk::{walk_range, walk_range_to_body};
use super::headers::{self, Caching};
use super::range::{ByteRange, RangeError, parse_range};
use super::request::GatewayRequest;
use super::resolve::Resolved;
use super::sniff::{SNIFF_LEN, content_type};
use super::source::GatewayBlocks;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use cid::Cid;
use std::io::Write;

/// How the body bytes are obtained.
pub enum Content {
    /// A UnixFS file (or raw block) read through the block source.
    File {
        /// Where blocks come from (moved to the streaming thread).
        src: Box<GatewayBlocks>,
        /// The file's CID.
        cid: Cid,
    },
    /// Bytes already in memory.
    Bytes(Bytes),
}

impl Content {
    fn copy(&self, range: ByteRange, out: &mut ChannelWriter) -> Result<(), String> {
        match self {
            Content::File { src, cid } => {
                let keep = GatewayBlocks::worth_keeping(range.len());
                let block = src.get_bytes(cid, keep).map_err(|e| e.to_string())?;
                walk_range_to_body(src, cid, block, range.start, range.end, out)
                    .map_err(|e| e.to_string())
            }
            Content::Bytes(b) => out
                .write_bytes(b.slice(range.start as usize..=range.end as usize))
                .map_err(|e| e.to_string()),
        }
    }
}

/// What to answer with, beyond the bytes.
pub struct FileMeta {
    /// Total size.
    pub size: u64,
    /// `Content-Type`.
    pub content_type: String,
    /// `ETag` (quoted).
    pub etag: String,
    /// Caching class.
    pub caching: Caching,
    /// CIDs for `X-Ipfs-Roots`.
    pub roots: Vec<Cid>,
    /// Extra headers (`Content-Disposition`, `X-Content-Type-Options`, …).
    pub extra: HeaderMap,
}

/// Reads up to [`SNIFF_LEN`] leading bytes of a file (whose root block is `block`), for content
/// sniffing; `None` when they cannot be had (a range can still be served).
pub fn file_head(src: &GatewayBlocks, cid: Cid, block: Vec<u8>) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_LEN);
    walk_range(
        src,
        &cid,
        block,
        0,
        SNIFF_LEN as u64 - 1,
        &mut |_, _| Ok(()),
        Some(&mut head),
    )
    .ok()?;
    Some(head)
}

/// The Content-Type of a resolved file: by the `?filename=` or last path segment's extension,
/// else sniffed from `head`.
pub fn file_type(req: &GatewayRequest, name: Option<&str>, head: Option<&[u8]>) -> String {
    let hint = req.param("filename").or(name);
    match head {
        Some(head) => content_type(hint, head).to_string(),
        None => content_type(hint, b"\x00").to_string(),
    }
}

/// Answers with `content` (200, 206, 304, 416), honouring `Range`, `If-None-Match` and HEAD.
pub fn serve(req: &GatewayRequest, meta: FileMeta, content: Content) -> GwResult<Response> {
    let mut h = HeaderMap::new();
    headers::content_headers(&mut h, req, &meta.roots, meta.caching, &meta.etag);
    h.extend(meta.extra.clone());
    if headers::if_none_match(req, &[&meta.etag]) {
        return Ok(with_headers(StatusCode::NOT_MODIFIED, h, Body::empty()));
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let ranges = match req.header(header::RANGE)? {
        None => None,
        Some(value) => match parse_range(value, meta.size) {
            Ok(r) => Some(r),
            Err(RangeError::Malformed(m)) => return Err(GatewayError::bad_request(m)),
            Err(RangeError::Unsatisfiable) => {
                headers::set(
                    &mut h,
                    header::CONTENT_RANGE,
                    &format!("bytes */{}", meta.size),
                );
                let mut resp = GatewayError::new(
                    StatusCode::RANGE_NOT_SATISFIABLE,
                    format!("no range in `{value}` overlaps the {} bytes", meta.size),
                )
                .into_response_with(h);
                *resp.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
                return Ok(resp);
            }
        },
    };
    match ranges {
        None => {
            headers::set(&mut h, header::CONTENT_TYPE, &meta.content_type);
            let full = ByteRange {
                start: 0,
                end: meta.size.saturating_sub(1),
            };
            let body = if req.head || meta.size == 0 {
                Body::empty()
            } else {
                let c = content;
                blocking_body(move |w| c.copy(full, w))
            };
            h.insert(header::CONTENT_LENGTH, meta.size.into());
            Ok(with_headers(StatusCode::OK, h, body))
        }
        Some(ranges) if ranges.len() == 1 => {
            let r = ranges[0];
            headers::set(&mut h, header::CONTENT_TYPE, &meta.content_type);
            headers::set(
                &mut h,
                header::CONTENT_RANGE,
                &format!("bytes {}-{}/{}", r.start, r.end, meta.size),
            );
            h.insert(header::CONTENT_LENGTH, r.len().into());
            let body = if req.head {
                Body::empty()
            } else {
                let c = content;
                blocking_body(move |w| c.copy(r, w))
            };
            Ok(with_headers(StatusCode::PARTIAL_CONTENT, h, body))
        }
        Some(ranges) => {
            let boundary = format!("wanda-{}", meta.etag.trim_matches('"').replace('.', "-"));
            let parts: Vec<(String, ByteRange)> = ranges
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let lead = if i == 0 { "" } else { "\r\n" };
                    (
                        format!(
                            "{lead}--{boundary}\r\nContent-Type: {}\r\nContent-Range: bytes {}-{}/{}\r\n\r\n",
                            meta.content_type, r.start, r.end, meta.size
                        ),
                        *r,
                    )
                })
                .collect();
            let tail = format!("\r\n--{boundary}--\r\n");
            let len: u64 = parts
                .iter()
                .map(|(p, r)| p.len() as u64 + r.len())
                .sum::<u64>()
                + tail.len() as u64;
            headers::set(
                &mut h,
                header::CONTENT_TYPE,
                &format!("multipart/byteranges; boundary={boundary}"),
            );
            h.insert(header::CONTENT_LENGTH, len.into());
            let body = if req.head {
                Body::empty()
            } else {
                let c = content;
                blocking_body(move |w| {
                    for (head, r) in &parts {
                        w.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
                        c.copy(*r, w)?;
                    }
                    w.write_all(tail.as_bytes()).map_err(|e| e.to_string())
                })
            };
            Ok(with_headers(StatusCode::PARTIAL_CONTENT, h, body))
        }
    }
}

/// A response with `status`, `headers` and `body`.
pub fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp
}

impl GatewayError {
    /// This error's response, with `extra` headers added.
    pub fn into_response_with(self, extra: HeaderMap) -> Response {
        let mut resp = axum::response::IntoResponse::into_response(self);
        resp.headers_mut().extend(extra);
        resp
    }
}

/// The target of a UnixFS symlink node (field 2 of its UnixFS `Data`).
pub fn symlink_target(block: &[u8]) -> Option<Vec<u8>> {
    let node = ipld_dagpb::PbNode::from_bytes(Bytes::copy_from_slice(block)).ok()?;
    let data = node.data?;
    let mut i = 0;
    let varint = |i: &mut usize| -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *data.get(*i)?;
            *i += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    };
    while i < data.len() {
        let key = varint(&mut i)?;
        match key & 7 {
            0 => {
                varint(&mut i)?;
            }
            2 => {
                let len = varint(&mut i)? as usize;
                let bytes = data.get(i..i.checked_add(len)?)?;
                i += len;
                if key >> 3 == 2 {
                    return Some(bytes.to_vec());
                }
            }
            1 => i += 8,
            5 => i += 4,
            _ => return None,
        }
    }
    Some(Vec::new())
}

/// A file's size from its resolved kind.
pub fn file_size(res: &Resolved) -> u64 {
    match res.kind {
        wanda_node::unixfs::NodeKind::File(n) | wanda_node::unixfs::NodeKind::Raw(n) => n,
        _ => res.block.len() as u64,
    }
}
