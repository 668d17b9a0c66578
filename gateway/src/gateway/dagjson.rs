//! `?format=dag-json|json|dag-cbor|cbor`: a block re-encoded between the IPLD codecs
//! (DAG-PB, DAG-CBOR and DAG-JSON decode; DAG-JSON and DAG-CBOR encode).

use super::error::{GatewayError, GwResult};
use super::resolve::decode_document;
use base64::Engine as _;
use cid::Cid;
use ipld_core::ipld::Ipld;
use wanda_node::ipld::{CBOR, DAG_CBOR, DAG_JSON, DAG_PB, JSON};

/// A codec a client can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `dag-json` (`application/vnd.ipld.dag-json`).
    DagJson,
    /// `json` (`application/json`).
    Json,
    /// `dag-cbor` (`application/vnd.ipld.dag-cbor`).
    DagCbor,
    /// `cbor` (`application/cbor`).
    Cbor,
}

impl Codec {
    /// The response media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Codec::DagJson => "application/vnd.ipld.dag-json",
            Codec::Json => "application/json",
            Codec::DagCbor => "application/vnd.ipld.dag-cbor",
            Codec::Cbor => "application/cbor",
        }
    }

    /// The `?format=` name.
    pub fn name(self) -> &'static str {
        match self {
            Codec::DagJson => "dag-json",
            Codec::Json => "json",
            Codec::DagCbor => "dag-cbor",
            Codec::Cbor => "cbor",
        }
    }

    fn is_json(self) -> bool {
        matches!(self, Codec::DagJson | Codec::Json)
    }
}

/// Encodes the block `data` of `cid` as `want`. Blocks already in the wanted family are
/// returned as they are; raw blocks cannot be converted (406).
pub fn convert(cid: &Cid, data: &[u8], want: Codec) -> GwResult<Vec<u8>> {
    let codec = cid.codec();
    let same = match want {
        Codec::DagJson | Codec::Json => codec == DAG_JSON || codec == JSON,
        Codec::DagCbor | Codec::Cbor => codec == DAG_CBOR || codec == CBOR,
    };
    if same {
        return Ok(data.to_vec());
    }
    let bad = |e: String| GatewayError::new(axum::http::StatusCode::BAD_GATEWAY, e);
    let ipld = match codec {
        DAG_PB => ipld_dagpb::to_ipld(data).map_err(|e| bad(format!("block {cid}: {e}")))?,
        DAG_CBOR | DAG_JSON => decode_document(cid, data).map_err(|e| bad(e.to_string()))?,
        _ => {
            return Err(GatewayError::new(
                axum::http::StatusCode::NOT_ACCEPTABLE,
                format!(
                    "block {cid} (codec 0x{codec:x}) cannot be converted to {}",
                    want.name()
                ),
            ));
        }
    };
    if want.is_json() {
        let json = to_json(&ipld);
        serde_json::to_vec(&json).map_err(|e| bad(e.to_string()))
    } else {
        serde_ipld_dagcbor::to_vec(&ipld).map_err(|e| bad(e.to_string()))
    }
}

/// The DAG-JSON form of an IPLD value (links `{"/": cid}`, bytes `{"/": {"bytes": b64}}`).
fn to_json(v: &Ipld) -> serde_json::Value {
    use serde_json::{Value, json};
    match v {
        Ipld::Null => Value::Null,
        Ipld::Bool(b) => Value::Bool(*b),
        Ipld::Integer(i) => match i64::try_from(*i) {
            Ok(n) => json!(n),
            Err(_) => json!(i.to_string()),
        },
        Ipld::Float(f) => json!(f),
        Ipld::String(s) => Value::String(s.clone()),
        Ipld::Bytes(b) => {
            json!({"/": {"bytes": base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)}})
        }
        Ipld::List(l) => Value::Array(l.iter().map(to_json).collect()),
        Ipld::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Ipld::Link(c) => json!({"/": c.to_string()}),
    }
}
