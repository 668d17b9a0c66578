//! `wanda daemon`: the node online until SIGINT/SIGTERM, with the RPC API.

use crate::rpc_client::multiaddr_to_socket;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::sync::Arc;
use wanda_node::net::{NetConfig, start};
use wanda_node::repo::{Repo, write_atomic};

pub fn run(dir: &Path) -> Result<()> {
    let repo = Repo::open(dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(repo))
}

async fn serve(repo: Repo) -> Result<()> {
    let api = multiaddr_to_socket(&repo.config().addresses.api).context("addresses.api")?;
    if !api.ip().is_loopback() {
        bail!(
            "refusing to serve the RPC API on {api}: it controls the node and has no authorization \
             yet; keep addresses.api on 127.0.0.1"
        );
    }
    let cfg = NetConfig::from_config(repo.config())?;
    let (node, node_task) = start(repo.key().clone(), cfg, repo.blockstore().clone()).await?;
    println!("Initializing daemon...");
    println!("WANDA version: {}", env!("CARGO_PKG_VERSION"));
    println!("Repo directory: {}", repo.dir().display());
    println!("PeerID: {}", node.peer_id());
    for addr in node.listen_addrs().await? {
        println!("Swarm listening on {addr}");
    }
    let listener = tokio::net::TcpListener::bind(api)
        .await
        .with_context(|| format!("cannot listen on {api} (addresses.api)"))?;
    let real = listener.local_addr()?;
    let api_ma = match real {
        std::net::SocketAddr::V4(a) => format!("/ip4/{}/tcp/{}", a.ip(), a.port()),
        std::net::SocketAddr::V6(a) => format!("/ip6/{}/tcp/{}", a.ip(), a.port()),
    };
    let api_file = repo.dir().join("api");
    write_atomic(&api_file, api_ma.as_bytes())?;
    let ctx = Arc::new(wanda_gateway::rpc::RpcContext {
        node: node.clone(),
        store: repo.blockstore().clone(),
        public_key: repo.key().public().encode_protobuf(),
    });
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let rpc = tokio::spawn(wanda_gateway::rpc::serve(listener, ctx, async {
        let _ = stop_rx.await;
    }));
    println!("RPC API server listening on {api_ma}");
    println!("Daemon is ready");
    wait_for_signal().await;
    println!("Received interrupt signal, shutting down...");
    let _ = stop_tx.send(());
    let _ = rpc.await;
    node.shutdown().await?;
    let _ = node_task.await;
    let _ = std::fs::remove_file(&api_file);
    drop(repo);
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
