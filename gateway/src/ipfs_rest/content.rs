//! `GET /api/ipfs/content/{cid}?format=raw|json|redirect&download=&filename=&offline=&timeout=`.

use super::IpfsRestContext;
use super::error::{RestError, RestResult, blocking, ok};
use super::params::{Query, cid};
use crate::gateway::body::blocking_body;
use crate::gateway::content_type;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cid::Cid;
use serde_json::{Value, json};
use std::sync::Arc;
use wanda_node::blocks::BlockSource;
use wanda_node::ipld::{DAG_CBOR, DAG_JSON, DAG_PB, RAW};
use wanda_node::unixfs::{FileReader, NodeKind, list_directory, node_kind};

/// Bytes looked at to guess a content type.
const SNIFF_LEN: u64 = 512;

type Source = Box<dyn BlockSource + Send + Sync>;

/// What `format` asks for.
enum Format {
    Raw,
    Json,
    Redirect,
}

/// The content of `{cid}`: the file's bytes (`raw`, default), a description (`json`) or a 302
/// to the gateway (`redirect`). Blocks missing locally come from peers unless `offline=true`.
pub async fn get(
    State(ctx): State<Arc<IpfsRestContext>>,
    path: Result<Path<String>, PathRejection>,
    RawQuery(raw): RawQuery,
    visitor: Option<axum::Extension<crate::gateway::LocalOnly>>,
) -> RestResult<Response> {
    let Path(input) = path.map_err(|e| RestError::invalid_cid(e.body_text()))?;
    let root = cid(&input)?;
    let q = Query::parse(raw.as_deref());
    let format = match q.value("format").unwrap_or("raw") {
        "raw" => Format::Raw,
        "json" => Format::Json,
        "redirect" => Format::Redirect,
        other => {
            return Err(RestError::invalid(format!(
                "format must be raw, json or redirect, not \"{other}\""
            )));
        }
    };
    let download = q.flag("download", false)?;
    let filename = q.value("filename").map(checked_filename).transpose()?;
    // visitors are answered from the local store only (gateway.no_fetch)
    let offline = q.flag("offline", false)? || visitor.is_some();
    let timeout = q.timeout(ctx.fetch_timeout)?;
    match format {
        Format::Redirect => Ok(redirect(&root, download, filename.as_deref())),
        Format::Json => {
            let src = ctx.source(offline, timeout);
            let data = blocking(move || describe(&*src, &root)).await?;
            Ok(ok(data))
        }
        Format::Raw => {
            let src = ctx.source(offline, timeout);
            raw_content(src, root, download, filename).await
        }
    }
}

/// A file name for `Content-Disposition`: printable ASCII without quotes or separators.
fn checked_filename(name: &str) -> RestResult<String> {
    let fine = !name.is_empty()
        && name.len() <= 255
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'/' | b'\\') || b == b' ');
    if fine {
        Ok(name.to_string())
    } else {
        Err(RestError::invalid(
            "filename must be printable ASCII (at most 255 characters, no quotes, / or \\)",
        ))
    }
}

fn redirect(root: &Cid, download: bool, filename: Option<&str>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(name) = filename {
        query.append_pair("filename", name);
    }
    if download {
        query.append_pair("download", "true");
    }
    let query = query.finish();
    let location = if query.is_empty() {
        format!("/ipfs/{root}")
    } else {
        format!("/ipfs/{root}?{query}")
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

/// Media type of a non-UnixFS block.
fn codec_type(codec: u64) -> &'static str {
    match codec {
        DAG_CBOR => "application/vnd.ipld.dag-cbor",
        DAG_JSON => "application/vnd.ipld.dag-json",
        _ => "application/octet-stream",
    }
}

/// Name of a codec for `json`'s `type` of non-UnixFS blocks.
fn codec_name(codec: u64) -> String {
    match codec {
        DAG_CBOR => "dag-cbor".into(),
        DAG_JSON => "dag-json".into(),
        DAG_PB => "dag-pb".into(),
        RAW => "raw".into(),
        other => format!("codec-0x{other:x}"),
    }
}

/// Streams a file (or a raw or non-UnixFS block) with its content type and length.
async fn raw_content(
    src: Source,
    root: Cid,
    download: bool,
    filename: Option<String>,
) -> RestResult<Response> {
    let name = filename.clone();
    let (src, size, ctype) = blocking(move || {
        let block = src.get_block(&root)?;
        match node_kind(&root, &block) {
            NodeKind::File(_) | NodeKind::Raw(_) => {
                let reader = FileReader::open(&*src, root)?;
                let mut head = Vec::new();
                reader.copy_range(0, Some(SNIFF_LEN), &mut head)?;
                let size = reader.size();
                drop(reader);
                Ok((src, size, content_type(name.as_deref(), &head)))
            }
            NodeKind::Other if root.codec() != DAG_PB => {
                Ok((src, block.len() as u64, codec_type(root.codec())))
            }
            other => Err(RestError::invalid(format!(
                "{root} is {}: format=raw serves files; use format=json or /ipfs/{root}/",
                other.describe()
            ))),
        }
    })
    .await?;
    let body = if size == 0 {
        Body::from(Bytes::new())
    } else {
        blocking_body(move |out| {
            let block = src.get_block(&root).map_err(|e| e.to_string())?;
            if matches!(node_kind(&root, &block), NodeKind::Other) {
                return std::io::Write::write_all(out, &block).map_err(|e| e.to_string());
            }
            let reader = FileReader::open(&*src, root).map_err(|e| e.to_string())?;
            reader.copy_range(0, None, out).map_err(|e| e.to_string())?;
            Ok(())
        })
    };
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=29030400, immutable"),
    );
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{root}\"")) {
        h.insert(header::ETAG, etag);
    }
    if download || filename.is_some() {
        let kind = if download { "attachment" } else { "inline" };
        let name = filename.unwrap_or_else(|| root.to_string());
        if let Ok(v) = HeaderValue::from_str(&format!("{kind}; filename=\"{name}\"")) {
            h.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    Ok(resp)
}

/// `{cid, type, size, links: [{name, cid, size}]}` of a block. `size` is the content size of
/// files and raw blocks, the cumulative DAG size of directories, the block size otherwise.
fn describe(src: &dyn BlockSource, root: &Cid) -> RestResult<Value> {
    let block = src.get_block(root)?;
    let kind = node_kind(root, &block);
    let pb_links = || -> RestResult<Vec<ipld_dagpb::PbLink>> {
        ipld_dagpb::PbNode::from_bytes(Bytes::copy_from_slice(&block))
            .map(|n| n.links)
            .map_err(|e| RestError::invalid(format!("cannot decode block {root}: {e}")))
    };
    let cumulative = |links: &[ipld_dagpb::PbLink]| {
        block.len() as u64 + links.iter().filter_map(|l| l.size).sum::<u64>()
    };
    let link_json = |name: &str, cid: &Cid, size: Option<u64>| json!({"name": name, "cid": cid.to_string(), "size": size});
    let (kind_name, size, links): (String, u64, Vec<Value>) = match kind {
        NodeKind::Raw(n) => ("raw".into(), n, Vec::new()),
        NodeKind::File(n) => {
            let links = pb_links()?
                .iter()
                .map(|l| link_json(l.name.as_deref().unwrap_or(""), &l.cid, l.size))
                .collect();
            ("file".into(), n, links)
        }
        NodeKind::Directory | NodeKind::HamtShard => {
            let size = cumulative(&pb_links()?);
            let links = list_directory(src, root)?
                .iter()
                .map(|e| link_json(&e.name, &e.cid, Some(e.tsize)))
                .collect();
            ("directory".into(), size, links)
        }
        NodeKind::Symlink => ("symlink".into(), block.len() as u64, Vec::new()),
        NodeKind::Other => {
            let links = wanda_node::ipld::links(root, &block)
                .map_err(|e| RestError::invalid(e.to_string()))?
                .iter()
                .map(|c| link_json("", c, None))
                .collect();
            (codec_name(root.codec()), block.len() as u64, links)
        }
    };
    Ok(json!({
        "cid": root.to_string(),
        "type": kind_name,
        "size": size,
        "links": links,
    }))
}
