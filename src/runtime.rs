//! One running WANDA: the libp2p node, the Kubo-compatible RPC listener (`addresses.api`),
//! the main HTTP listener (`addresses.gateway`: `/ipfs` + `/ipns` gateway, WANDA's API,
//! Socket.IO, `/video_feed`) and the telescope app. `wanda daemon` and `wanda demo` both run
//! this; shutdown stops the session, lets the publish queue rest (it is durable), closes the
//! listeners and the node.

use crate::app::config::AppConfig;
use crate::app::{App, NodeParts, devices};
use crate::rpc_client::multiaddr_to_socket;
use anyhow::{Context, Result, bail};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use wanda_gateway::gateway::{GatewayContext, NameSource};
use wanda_node::net::{NetConfig, NodeHandle, start};
use wanda_node::repo::{Repo, read_config_doc, write_atomic};

/// Uploads are staged in `$REPO/staging/` (unlinked files) before they are imported.
const STAGING_DIR: &str = "staging";

/// Both listeners' limits from the `http` config section.
fn http_limits(cfg: &crate::app::config::HttpConfig) -> wanda_gateway::http::HttpLimits {
    let defaults = wanda_gateway::http::HttpLimits::default();
    wanda_gateway::http::HttpLimits {
        max_requests: cfg.max_requests as usize,
        max_requests_per_client: cfg.max_requests_per_client as usize,
        serve: wanda_gateway::http::ServeOptions {
            header_timeout: cfg.header_timeout(),
            ..defaults.serve
        },
        ..defaults
    }
}

/// Overrides for a run (the demo forces simulated hardware).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Replace `camera.driver`.
    pub camera_driver: Option<String>,
    /// Replace `mount.driver`.
    pub mount_driver: Option<String>,
    /// Replace the simulator's size (width, height).
    pub sim_size: Option<(u32, u32)>,
}

/// A running WANDA.
pub struct Running {
    /// The repo (holds the lock).
    pub repo: Repo,
    /// The network node.
    pub node: NodeHandle,
    /// The app.
    pub app: Arc<App>,
    /// RPC address.
    pub api_addr: SocketAddr,
    /// Main HTTP address (gateway + app).
    pub http_addr: SocketAddr,
    node_task: JoinHandle<()>,
    /// Signs the node's IPNS names again every `ipns.republish_period`.
    republisher: Option<JoinHandle<()>>,
    servers: Vec<(
        tokio::sync::oneshot::Sender<()>,
        JoinHandle<std::io::Result<()>>,
    )>,
}

/// `/ip4/A/tcp/P` for a socket address.
pub fn socket_to_multiaddr(a: SocketAddr) -> String {
    match a {
        SocketAddr::V4(a) => format!("/ip4/{}/tcp/{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("/ip6/{}/tcp/{}", a.ip(), a.port()),
    }
}

/// `http://A:P` for a socket address (unspecified IPs become loopback).
pub fn http_url(a: SocketAddr) -> String {
    let host = match a.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_string(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_string(),
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    format!("http://{host}:{}", a.port())
}

/// `/ipns` names through the node's DHT (with its cache).
struct NodeNames(NodeHandle);

impl NameSource for NodeNames {
    fn local_record<'a>(
        &'a self,
        name: &'a wanda_node::ipns::IpnsName,
    ) -> wanda_gateway::gateway::NameFuture<'a> {
        Box::pin(async move {
            match self.0.resolve_name_local(name).await {
                Ok(Some(r)) => Ok(r.record),
                Ok(None) => Err(wanda_gateway::gateway::NameError::NotFound),
                Err(e) => Err(wanda_gateway::gateway::NameError::Other(e.to_string())),
            }
        })
    }

    fn record<'a>(
        &'a self,
        name: &'a wanda_node::ipns::IpnsName,
    ) -> wanda_gateway::gateway::NameFuture<'a> {
        Box::pin(async move {
            self.0
                .resolve_name(name)
                .await
                .map(|r| r.record)
                .map_err(|e| match e {
                    wanda_node::Error::FetchTimeout(_) => {
                        wanda_gateway::gateway::NameError::Timeout
                    }
                    _ => wanda_gateway::gateway::NameError::NotFound,
                })
        })
    }
}

impl Running {
    /// Starts everything and prints Kubo-style lines (`Swarm listening on …`, `RPC API server
    /// listening on …`, `Gateway server listening on …`); writes `$REPO/api` and
    /// `$REPO/gateway`.
    pub async fn start(repo: Repo, opts: RunOptions) -> Result<Running> {
        let api = multiaddr_to_socket(&repo.config().addresses.api).context("addresses.api")?;
        if !api.ip().is_loopback() && repo.config().api.authorizations.is_empty() {
            bail!(
                "refusing to serve the RPC API on {api}: it controls the node; add a credential first \
                 (api.authorizations, see docs/RPC.md) or keep addresses.api on 127.0.0.1"
            );
        }
        let http =
            multiaddr_to_socket(&repo.config().addresses.gateway).context("addresses.gateway")?;
        let mut app_cfg = AppConfig::from_doc(&read_config_doc(repo.dir())?)?;
        if let Some(d) = opts.camera_driver {
            app_cfg.camera.driver = d;
        }
        if let Some(d) = opts.mount_driver {
            app_cfg.mount.driver = d;
        }
        if let Some((w, h)) = opts.sim_size {
            app_cfg.camera.sim_width = w;
            app_cfg.camera.sim_height = h;
        }
        app_cfg.validate()?;
        let mount = devices::open_mount(&app_cfg.mount)?;
        let camera = devices::open_configured_camera(&app_cfg.camera, &mount)?;

        let mut cfg = NetConfig::from_config(repo.config())?;
        // nothing unchecked is forwarded or delivered on the announcement topic
        cfg.validators.insert(
            repo.config().pubsub.topic.clone(),
            Arc::new(crate::app::replication::validate_message),
        );
        let (node, node_task) = start(repo.key().clone(), cfg, repo.blockstore().clone()).await?;
        let republisher = repo.config().ipns.republish_every().map(|period| {
            wanda_node::net::Republisher {
                keystore: wanda_node::repo::keystore::dir(repo.dir()),
                period,
                lifetime: repo.config().ipns.lifetime(),
            }
            .spawn(node.clone())
        });
        println!("Initializing daemon...");
        println!("WANDA version: {}", env!("CARGO_PKG_VERSION"));
        println!("Repo directory: {}", repo.dir().display());
        println!("PeerID: {}", node.peer_id());
        for addr in node.listen_addrs().await? {
            println!("Swarm listening on {addr}");
        }
        let api_listener = tokio::net::TcpListener::bind(api)
            .await
            .with_context(|| format!("cannot listen on {api} (addresses.api)"))?;
        let http_listener = tokio::net::TcpListener::bind(http)
            .await
            .with_context(|| format!("cannot listen on {http} (addresses.gateway)"))?;
        let api_addr = api_listener.local_addr()?;
        let http_addr = http_listener.local_addr()?;
        let gateway_url = http_url(http_addr);

        let app = App::start(
            repo.dir(),
            app_cfg,
            camera,
            mount,
            NodeParts {
                store: repo.blockstore().clone(),
                node: Some(node.clone()),
                peer_id: node.peer_id().to_string(),
                key: Some(repo.key().clone()),
                topic: repo.config().pubsub.topic.clone(),
                gateway_url: Some(gateway_url.clone()),
                gc_threshold: Some(
                    repo.config().max_storage_bytes() / 100
                        * u64::from(repo.config().storage.gc_watermark),
                ),
            },
        )?;

        // one set of access rules for both listeners, following config.toml
        let rules = wanda_gateway::auth::Access::following(repo.dir(), &repo.config().api);
        let limits = http_limits(&app.config.http);
        let staging_dir = Some(repo.dir().join(STAGING_DIR));
        let retrieval_timeout = app.config.gateway.retrieval_timeout();
        let ctx = Arc::new(wanda_gateway::rpc::RpcContext {
            node: node.clone(),
            store: repo.blockstore().clone(),
            public_key: repo.key().public().encode_protobuf(),
            repo_dir: repo.dir().to_path_buf(),
            storage_max: repo.config().max_storage_bytes(),
            access: rules.clone(),
            staging_dir: staging_dir.clone(),
            limits: limits.clone(),
        });
        let gateway = Arc::new(GatewayContext {
            store: repo.blockstore().clone(),
            node: Some(node.clone()),
            names: Arc::new(NodeNames(node.clone())),
            fetch_timeout: retrieval_timeout,
        });
        let rest = Arc::new(wanda_gateway::ipfs_rest::IpfsRestContext {
            fetch_timeout: retrieval_timeout,
            staging_dir,
            ..wanda_gateway::ipfs_rest::IpfsRestContext::new(
                repo.blockstore().clone(),
                Some(node.clone()),
                repo.config().max_storage_bytes(),
            )
        });
        let main_router = crate::api::router(
            app.clone(),
            wanda_gateway::gateway::router(gateway).merge(wanda_gateway::ipfs_rest::router(rest)),
            crate::api::MainListener {
                rules,
                limits: limits.clone(),
                no_fetch: app.config.gateway.no_fetch,
                port: http_addr.port(),
            },
        );

        let mut servers = Vec::new();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        servers.push((
            tx,
            tokio::spawn(wanda_gateway::rpc::serve(api_listener, ctx, async {
                let _ = rx.await;
            })),
        ));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        servers.push((
            tx,
            tokio::spawn(wanda_gateway::http::serve(
                http_listener,
                main_router,
                limits.serve,
                async {
                    let _ = rx.await;
                },
            )),
        ));
        let api_ma = socket_to_multiaddr(api_addr);
        let http_ma = socket_to_multiaddr(http_addr);
        // `api` last: clients take it as "the daemon is up", gateway included
        write_atomic(&repo.dir().join("gateway"), http_ma.as_bytes())?;
        write_atomic(&repo.dir().join("api"), api_ma.as_bytes())?;
        println!("RPC API server listening on {api_ma}");
        println!("Gateway server listening on {http_ma}");
        println!("WebUI: {gateway_url}/");
        Ok(Running {
            repo,
            node,
            app,
            api_addr,
            http_addr,
            node_task,
            republisher,
            servers,
        })
    }

    /// Base URL of the main listener, e.g. `http://127.0.0.1:8080`.
    pub fn http_url(&self) -> String {
        http_url(self.http_addr)
    }

    /// Stops everything; removes `$REPO/api` and `$REPO/gateway`. Every step has a deadline,
    /// so a stalled part (a flooded event loop, a long response) cannot hold the process: the
    /// publish queue and the store are crash-safe, so what a deadline cuts short is redone at
    /// the next start.
    pub async fn shutdown(self) -> Result<()> {
        let step = |what: &'static str, d: Duration| {
            move |r: Result<(), tokio::time::error::Elapsed>| {
                if r.is_err() {
                    tracing::warn!("shutdown: {what} did not finish in {d:?}; going on");
                }
            }
        };
        let d = Duration::from_secs(6);
        step("the app", d)(tokio::time::timeout(d, self.app.shutdown()).await);
        if let Some(r) = &self.republisher {
            r.abort();
        }
        // long-lived responses (MJPEG, Socket.IO) would hold a graceful shutdown open
        let servers = futures::future::join_all(self.servers.into_iter().map(|(tx, task)| {
            let _ = tx.send(());
            async move {
                if tokio::time::timeout(Duration::from_secs(3), task)
                    .await
                    .is_err()
                {
                    tracing::debug!("shutdown: an HTTP listener still had open responses");
                }
            }
        }));
        servers.await;
        let d = Duration::from_secs(3);
        step("the network node", d)(
            tokio::time::timeout(d, async {
                let _ = self.node.shutdown().await;
            })
            .await,
        );
        let node_task = self.node_task;
        node_task.abort();
        let _ = node_task.await;
        // fetched blocks were committed without fsync; make them durable before exiting
        let store = self.repo.blockstore().clone();
        let persist = tokio::task::spawn_blocking(move || store.persist());
        match tokio::time::timeout(Duration::from_secs(5), persist).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => {
                tracing::warn!("could not make cached blocks durable at shutdown: {e}")
            }
            _ => {
                tracing::warn!("shutdown: persisting cached blocks did not finish; they are cache")
            }
        }
        let _ = std::fs::remove_file(self.repo.dir().join("api"));
        let _ = std::fs::remove_file(self.repo.dir().join("gateway"));
        Ok(())
    }
}

/// After the first SIGINT/SIGTERM: a second one, or `grace` passing, ends the process at once
/// (from its own thread, so a runtime whose workers are all busy cannot hold it). The store and
/// the publish queue are crash-safe.
pub fn exit_watchdog(grace: Duration) {
    std::thread::Builder::new()
        .name("wanda-exit-watchdog".into())
        .spawn(move || {
            std::thread::sleep(grace);
            eprintln!("shutdown took longer than {grace:?}; exiting now");
            std::process::exit(1);
        })
        .ok();
    tokio::spawn(async {
        wait_for_signal().await;
        eprintln!("second interrupt: exiting now");
        std::process::exit(130);
    });
}

/// Waits for SIGINT or SIGTERM.
pub async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
