//! The accept loop both listeners run: HTTP/1.1 with a deadline on request headers (a client
//! that trickles its headers is cut off), a cap on open connections (in all and per client
//! address), WebSocket upgrades (Socket.IO), the connection's addresses as a request extension
//! ([`ConnInfo`]) and graceful shutdown.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// The two ends of the TCP connection a request came on (a request extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// Our address the client connected to.
    pub local: SocketAddr,
}

/// An IPv4-mapped IPv6 address as IPv4, others unchanged.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl ConnInfo {
    /// Whether the client runs on this host: it connected from a loopback address, or from
    /// the very address it connected to (a browser on the Pi opening the Pi's LAN address).
    pub fn same_host(&self) -> bool {
        let peer = canonical_ip(self.peer.ip());
        peer.is_loopback() || peer == canonical_ip(self.local.ip())
    }
}

/// Limits of the accept loop.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A request's headers must arrive within this time (also the keep-alive idle limit).
    pub header_timeout: Duration,
    /// Open connections in all; more are closed as soon as they are accepted.
    pub max_connections: usize,
    /// Open connections from one client address.
    pub max_connections_per_client: usize,
    /// Largest request head (request line + headers) in bytes.
    pub max_header_bytes: usize,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            header_timeout: Duration::from_secs(15),
            max_connections: 512,
            max_connections_per_client: 64,
            max_header_bytes: 64 * 1024,
        }
    }
}

/// Open connections per client address.
#[derive(Default)]
struct PerClient {
    open: Mutex<HashMap<IpAddr, usize>>,
}

struct ClientSlot {
    table: Arc<PerClient>,
    ip: IpAddr,
}

impl PerClient {
    fn take(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(ip).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            table: self.clone(),
            ip,
        })
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish
/// (callers bound that wait; long-lived streams never finish by themselves).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let local = listener.local_addr()?;
    let connections = Arc::new(Semaphore::new(opts.max_connections));
    let per_client = Arc::new(PerClient::default());
    // dropping `stop_tx` tells every connection to finish its current request and close
    let (stop_tx, stop_rx) = watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // out of descriptors or a connection reset before accept: keep serving
                    tracing::debug!("accept on {local}: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::debug!(
                "{local}: {} connections open, closing {peer}",
                opts.max_connections
            );
            continue;
        };
        let ip = canonical_ip(peer.ip());
        let Some(slot) = per_client.take(ip, opts.max_connections_per_client) else {
            tracing::debug!(
                "{local}: {ip} has {} connections open, closing one more",
                opts.max_connections_per_client
            );
            continue;
        };
        let local = stream.local_addr().unwrap_or(local);
        let info = ConnInfo { peer, local };
        let router = router.clone();
        let mut stop_rx = stop_rx.clone();
        let opts = opts.clone();
        tokio::spawn(async move {
            let _held = (permit, slot);
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(info);
                req.extensions_mut().insert(ConnectInfo(info.peer));
                router.clone().oneshot(req.map(Body::new))
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(opts.header_timeout)
                .max_buf_size(opts.max_header_bytes.max(8192));
            let conn = builder
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::trace!("connection from {}: {e}", info.peer);
                    }
                    return;
                }
                _ = stop_rx.changed() => conn.as_mut().graceful_shutdown(),
            }
            let _ = conn.await;
        });
    }
    drop(stop_tx);
    drop(stop_rx);
    // wait for the connections that are still open (each holds a permit)
    let _ = connections
        .acquire_many(u32::try_from(opts.max_connections).unwrap_or(u32::MAX))
        .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_host_means_loopback_or_the_address_connected_to() {
        let info = |peer: &str, local: &str| ConnInfo {
            peer: peer.parse().unwrap(),
            local: local.parse().unwrap(),
        };
        assert!(info("127.0.0.1:5000", "127.0.0.1:8080").same_host());
        assert!(info("[::1]:5000", "[::1]:8080").same_host());
        assert!(info("[::ffff:127.0.0.1]:5000", "[::]:8080").same_host());
        assert!(info("10.0.0.5:5000", "10.0.0.5:8080").same_host());
        assert!(!info("10.0.0.6:5000", "10.0.0.5:8080").same_host());
        assert!(!info("[::ffff:10.0.0.6]:5000", "[::ffff:10.0.0.5]:8080").same_host());
    }
}
