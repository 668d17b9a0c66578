//! `cat`: file content by `CID[/path]`, fetching missing blocks from the network.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::swarm::first_arg;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::Response;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use wanda_node::net::NetworkBlocks;
use wanda_node::unixfs::{FileReader, resolve_path};

/// How long one block may take to arrive from the network.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(60);

/// `io::Write` into a channel of body chunks (used from a blocking thread).
struct ChannelWriter(mpsc::Sender<Result<Bytes, std::io::Error>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn number(q: &[(String, String)], key: &str) -> RpcResult<Option<u64>> {
    q.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| {
            v.parse::<u64>()
                .map_err(|_| RpcError::bad_request(format!("{key} must be a non-negative integer")))
        })
        .transpose()
}

/// `POST /api/v0/cat?arg=<CID[/path]>[&offset=N][&length=N]`.
pub async fn cat(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
) -> RpcResult<Response> {
    let path = first_arg(&q, "ipfs-path")?.to_string();
    let offset = number(&q, "offset")?.unwrap_or(0);
    let length = number(&q, "length")?;
    let timeout = match q.iter().find(|(k, _)| k == "timeout") {
        Some((_, v)) => parse_duration(v).ok_or_else(|| {
            RpcError::bad_request(format!("timeout \"{v}\" is not a duration like 30s"))
        })?,
        None => BLOCK_TIMEOUT,
    };
    let src = NetworkBlocks::new(
        ctx.store.clone(),
        ctx.node.clone(),
        tokio::runtime::Handle::current(),
        timeout,
    );
    let (tx, rx) = mpsc::channel(16);
    let (opened_tx, opened_rx) = oneshot::channel();
    tokio::task::spawn_blocking(move || {
        let reader = resolve_path(&src, &path).and_then(|r| FileReader::open(&src, r.cid));
        let reader = match reader {
            Ok(r) => {
                let _ = opened_tx.send(Ok(()));
                r
            }
            Err(e) => {
                let _ = opened_tx.send(Err(e));
                return;
            }
        };
        if let Err(e) = reader.copy_range(offset, length, &mut ChannelWriter(tx.clone())) {
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    opened_rx
        .await
        .map_err(|_| RpcError::bad_request("cat was interrupted"))??;
    Response::builder()
        .header(CONTENT_TYPE, "text/plain")
        .header("X-Stream-Output", "1")
        .body(Body::from_stream(futures::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|item| (item, rx)) },
        )))
        .map_err(|e| RpcError::bad_request(e.to_string()))
}

/// Parses Kubo-style durations: `500ms`, `30s`, `2m`, `1h`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit() && c != '.')?);
    let n: f64 = num.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}
