//! The one entry point: parse, negotiate the response format, resolve, dispatch.

use super::GatewayContext;
use super::car::{self, CarParams};
use super::dagjson::{self, Codec};
use super::dir;
use super::error::{GatewayError, GwResult, Locality};
use super::file::{self, Content, FileMeta, with_headers};
use super::headers::{self, Caching};
use super::ipns::{self, NameTarget};
use super::request::{GatewayRequest, Namespace, parse_accept};
use super::resolve::{Resolved, resolve};
use super::source::GatewayBlocks;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cid::Cid;
use std::sync::Arc;
use wanda_node::blocks::BlockSource;
use wanda_node::ipns::IpnsName;
use wanda_node::unixfs::{ListEntry, NodeKind, list_directory, resolve_segment};

/// The response format a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// The path gateway's own rendering (files, listings).
    Default,
    /// `application/vnd.ipld.raw`: the block.
    Raw,
    /// `application/vnd.ipld.car`.
    Car(CarParams),
    /// `application/vnd.ipfs.ipns-record`.
    IpnsRecord,
    /// A codec conversion.
    Codec(Codec),
}

/// `Accept` first (an explicit media type wins over `?format=`), then `?format=`.
fn negotiate(req: &GatewayRequest) -> GwResult<Want> {
    if let Some(accept) = req.header(header::ACCEPT)? {
        for m in parse_accept(accept) {
            let want = match m.mime.as_str() {
                "application/vnd.ipld.raw" => Want::Raw,
                "application/vnd.ipld.car" => Want::Car(CarParams::parse(req, Some(&m))?),
                "application/vnd.ipfs.ipns-record" => Want::IpnsRecord,
                "application/vnd.ipld.dag-json" => Want::Codec(Codec::DagJson),
                "application/vnd.ipld.dag-cbor" => Want::Codec(Codec::DagCbor),
                _ => continue,
            };
            return Ok(want);
        }
    }
    Ok(match req.param("format") {
        None | Some("") => Want::Default,
        Some("raw") => Want::Raw,
        Some("car") => Want::Car(CarParams::parse(req, None)?),
        Some("ipns-record") => Want::IpnsRecord,
        Some("dag-json") => Want::Codec(Codec::DagJson),
        Some("json") => Want::Codec(Codec::Json),
        Some("dag-cbor") => Want::Codec(Codec::DagCbor),
        Some("cbor") => Want::Codec(Codec::Cbor),
        Some("tar") => {
            return Err(GatewayError::new(
                StatusCode::NOT_ACCEPTABLE,
                "format=tar is not supported by this gateway",
            ));
        }
        Some(f) => {
            return Err(GatewayError::bad_request(format!(
                "unknown format `{f}` (raw, car, ipns-record, dag-json, json, dag-cbor, cbor)"
            )));
        }
    })
}

/// Axum handler for every `/ipfs/*` and `/ipns/*` request.
pub async fn handle(State(ctx): State<Arc<GatewayContext>>, req: Request) -> Response {
    let mut resp = match serve(ctx, req).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    headers::cors(resp.headers_mut());
    resp
}

async fn serve(ctx: Arc<GatewayContext>, req: Request) -> GwResult<Response> {
    let head = match *req.method() {
        Method::GET => false,
        Method::HEAD => true,
        Method::OPTIONS => {
            let mut h = HeaderMap::new();
            h.insert(
                header::ALLOW,
                HeaderValue::from_static("GET, HEAD, OPTIONS"),
            );
            return Ok(with_headers(StatusCode::OK, h, Body::empty()));
        }
        ref m => {
            let mut resp = GatewayError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("method {m} is not allowed (the gateway is read-only: GET, HEAD)"),
            )
            .into_response();
            resp.headers_mut().insert(
                header::ALLOW,
                HeaderValue::from_static("GET, HEAD, OPTIONS"),
            );
            return Ok(resp);
        }
    };
    let (parts, _body) = req.into_parts();
    let visitor = parts.extensions.get::<super::LocalOnly>().is_some();
    let greq = GatewayRequest::parse(&parts.uri, parts.headers, head)?;
    let locality = if greq.only_if_cached() {
        Locality::OnlyIfCached
    } else if visitor {
        Locality::Visitor
    } else {
        Locality::Network
    };
    let want = negotiate(&greq)?;
    let (root, mut segments, caching, ipns_name) = match greq.ns {
        Namespace::Ipfs => {
            if want == Want::IpnsRecord {
                return Err(GatewayError::bad_request(
                    "format=ipns-record is only for /ipns/ names",
                ));
            }
            let root = Cid::try_from(greq.id.as_str()).map_err(|e| {
                GatewayError::bad_request(format!("invalid CID `{}`: {e}", greq.id))
            })?;
            (root, Vec::new(), Caching::Immutable, None)
        }
        Namespace::Ipns => match ipns::resolve(&ctx, &greq, !locality.may_fetch()).await? {
            NameTarget::Respond(r) => return Ok(r),
            NameTarget::Content {
                record,
                root,
                segments,
                ttl,
                name,
            } => {
                if want == Want::IpnsRecord {
                    return ipns::serve_record(&greq, &name, record, ttl);
                }
                let caching = Caching::for_request(Namespace::Ipns, ttl);
                (root, segments, caching, Some(name))
            }
        },
    };
    let _: Option<IpnsName> = ipns_name;
    segments.extend(greq.segments.iter().cloned());
    let src = GatewayBlocks::new(
        ctx.store.clone(),
        ctx.node.clone(),
        tokio::runtime::Handle::current(),
        ctx.fetch_timeout,
        !locality.may_fetch(),
    );
    let node_err = move |e| GatewayError::from_node(e, locality);
    let (resolved, src) = blocking(move || {
        let r = resolve(&src, root, &segments);
        (r, src)
    })
    .await?;
    let resolved = resolved.map_err(node_err)?;
    match want {
        Want::Raw => serve_raw(&greq, resolved, caching),
        Want::Car(p) => car::serve(&greq, resolved, src, p, caching),
        Want::Codec(c) => serve_codec(&greq, resolved, c, caching),
        Want::IpnsRecord => unreachable_ipns_record(),
        Want::Default => serve_default(&greq, resolved, src, caching, locality).await,
    }
}

fn unreachable_ipns_record() -> GwResult<Response> {
    Err(GatewayError::bad_request(
        "format=ipns-record is only for /ipns/ names",
    ))
}

/// Runs `f` on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> GwResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        GatewayError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("gateway worker failed: {e}"),
        )
    })
}

fn serve_raw(req: &GatewayRequest, res: Resolved, caching: Caching) -> GwResult<Response> {
    let mut extra = HeaderMap::new();
    extra.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let filename = req
        .param("filename")
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}.bin", res.cid));
    headers::set(
        &mut extra,
        header::CONTENT_DISPOSITION,
        &headers::content_disposition("attachment", &filename),
    );
    let meta = FileMeta {
        size: res.block.len() as u64,
        content_type: "application/vnd.ipld.raw".into(),
        etag: format!("\"{}.raw\"", res.cid),
        caching,
        roots: res.roots,
        extra,
    };
    file::serve(req, meta, Content::Bytes(Bytes::from(res.block)))
}

fn serve_codec(
    req: &GatewayRequest,
    res: Resolved,
    codec: Codec,
    caching: Caching,
) -> GwResult<Response> {
    let data = dagjson::convert(&res.cid, &res.block, codec)?;
    let mut extra = HeaderMap::new();
    headers::user_disposition(&mut extra, req);
    let meta = FileMeta {
        size: data.len() as u64,
        content_type: codec.media_type().into(),
        etag: format!("\"{}.{}\"", res.cid, codec.name()),
        caching,
        roots: res.roots,
        extra,
    };
    file::serve(req, meta, Content::Bytes(Bytes::from(data)))
}

/// What a directory request turned out to need (computed on the blocking pool).
enum DirPlan {
    Index {
        cid: Cid,
        kind: NodeKind,
        head: Option<Vec<u8>>,
    },
    Listing(Vec<ListEntry>),
}

async fn serve_default(
    req: &GatewayRequest,
    res: Resolved,
    src: GatewayBlocks,
    caching: Caching,
    locality: Locality,
) -> GwResult<Response> {
    let node_err = move |e| GatewayError::from_node(e, locality);
    match res.kind {
        NodeKind::File(_) | NodeKind::Raw(_) => {
            let etag = format!("\"{}\"", res.cid);
            if headers::if_none_match(req, &[&etag]) {
                return not_modified(req, &res.roots, caching, &etag);
            }
            let name = req.segments.last().cloned();
            let cid = res.cid;
            let block = res.block.clone();
            let (head, src) = blocking(move || (file::file_head(&src, cid, block), src)).await?;
            let mut extra = HeaderMap::new();
            headers::user_disposition(&mut extra, req);
            let meta = FileMeta {
                size: file::file_size(&res),
                content_type: file::file_type(req, name.as_deref(), head.as_deref()),
                etag,
                caching,
                roots: res.roots,
                extra,
            };
            file::serve(
                req,
                meta,
                Content::File {
                    src: Box::new(src),
                    cid,
                },
            )
        }
        NodeKind::Directory | NodeKind::HamtShard => {
            if !req.trailing_slash {
                return Ok(dir::redirect_to_slash(req));
            }
            let dir_etag = format!("\"{}\"", res.cid);
            if headers::if_none_match(req, &[&dir_etag]) {
                return not_modified(req, &res.roots, caching, &dir_etag);
            }
            let dir_cid = res.cid;
            let (plan, src) = blocking(move || {
                let plan = match resolve_segment(&src, &dir_cid, "index.html") {
                    Ok(cid) => src.get_block(&cid).map(|block| {
                        let kind = wanda_node::unixfs::node_kind(&cid, &block);
                        if matches!(kind, NodeKind::File(_) | NodeKind::Raw(_)) {
                            DirPlan::Index {
                                cid,
                                kind,
                                head: file::file_head(&src, cid, block),
                            }
                        } else {
                            DirPlan::Listing(Vec::new())
                        }
                    }),
                    Err(wanda_node::Error::NoSuchLink { .. }) => Ok(DirPlan::Listing(Vec::new())),
                    Err(e) => Err(e),
                };
                let plan = match plan {
                    Ok(DirPlan::Listing(_)) => list_directory(&src, &dir_cid).map(DirPlan::Listing),
                    other => other,
                };
                (plan, src)
            })
            .await?;
            match plan.map_err(node_err)? {
                DirPlan::Index { cid, kind, head } => {
                    let size = match kind {
                        NodeKind::File(n) | NodeKind::Raw(n) => n,
                        _ => 0,
                    };
                    let mut extra = HeaderMap::new();
                    headers::user_disposition(&mut extra, req);
                    let meta = FileMeta {
                        size,
                        content_type: file::file_type(req, Some("index.html"), head.as_deref()),
                        etag: dir_etag,
                        caching,
                        roots: res.roots,
                        extra,
                    };
                    file::serve(
                        req,
                        meta,
                        Content::File {
                            src: Box::new(src),
                            cid,
                        },
                    )
                }
                DirPlan::Listing(entries) => {
                    dir::serve_listing(req, &res.cid, &res.roots, caching, &entries)
                }
            }
        }
        NodeKind::Symlink => {
            let target = file::symlink_target(&res.block).ok_or_else(|| {
                GatewayError::new(
                    StatusCode::BAD_GATEWAY,
                    format!("symlink {} is malformed", res.cid),
                )
            })?;
            let mut extra = HeaderMap::new();
            headers::user_disposition(&mut extra, req);
            let meta = FileMeta {
                size: target.len() as u64,
                content_type: "text/plain; charset=utf-8".into(),
                etag: format!("\"{}\"", res.cid),
                caching,
                roots: res.roots,
                extra,
            };
            file::serve(req, meta, Content::Bytes(Bytes::from(target)))
        }
        NodeKind::Other => {
            let media = match res.cid.codec() {
                wanda_node::ipld::DAG_CBOR => "application/vnd.ipld.dag-cbor",
                wanda_node::ipld::DAG_JSON => "application/vnd.ipld.dag-json",
                wanda_node::ipld::JSON => "application/json",
                wanda_node::ipld::CBOR => "application/cbor",
                _ => "application/vnd.ipld.raw",
            };
            let mut extra = HeaderMap::new();
            headers::user_disposition(&mut extra, req);
            extra.insert(
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            );
            let meta = FileMeta {
                size: res.block.len() as u64,
                content_type: media.into(),
                etag: format!("\"{}\"", res.cid),
                caching,
                roots: res.roots,
                extra,
            };
            file::serve(req, meta, Content::Bytes(Bytes::from(res.block)))
        }
    }
}

fn not_modified(
    req: &GatewayRequest,
    roots: &[Cid],
    caching: Caching,
    etag: &str,
) -> GwResult<Response> {
    let mut h = HeaderMap::new();
    headers::content_headers(&mut h, req, roots, caching, etag);
    Ok(with_headers(StatusCode::NOT_MODIFIED, h, Body::empty()))
}
