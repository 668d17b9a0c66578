//! Socket.IO (protocol v5, socketioxide): namespaces `/ws/camera`, `/ws/mount`, `/ws/session`
//! and `/ws/ipfs`. Each sends its `status` to a client on connect (the session one carries
//! the UI's `active`/`captured_images`/`remaining_time` too); every app event is broadcast on
//! its namespace. Clients never need to emit anything. Any Origin is accepted.

use super::camera::camera_status;
use super::mount::mount_status;
use crate::app::App;
use crate::app::events::{NS_CAMERA, NS_IPFS, NS_MOUNT, NS_SESSION};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::layer::SocketIoLayer;
use std::sync::Arc;

/// The `/ws/ipfs` status: node identity and publish queue.
pub fn ipfs_status(app: &App) -> Value {
    let queued = app.db.jobs().map(|j| j.len()).unwrap_or(0);
    json!({
        "online": app.node.is_some(),
        "peer_id": app.node.as_ref().map(|n| n.peer_id().to_string()),
        "queued": queued,
        "root_cid": app.dirs.root().ok().flatten(),
    })
}

type ConnectFuture = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

fn on_connect(
    app: &Arc<App>,
    ns: &'static str,
    status: fn(&App) -> Value,
) -> impl Fn(SocketRef) -> ConnectFuture + Clone + Send + Sync + 'static {
    let app = app.clone();
    move |socket: SocketRef| {
        let data = status(&app);
        Box::pin(async move {
            tracing::debug!(ns, id = %socket.id, "socket.io client connected");
            if let Err(e) = socket.emit("status", &data) {
                tracing::debug!("socket.io status on connect: {e}");
            }
        })
    }
}

/// Builds the Socket.IO layer and starts relaying app events. Call inside a tokio runtime.
pub fn layer(app: &Arc<App>) -> SocketIoLayer {
    let (layer, io) = SocketIo::new_layer();
    io.ns(NS_CAMERA, on_connect(app, NS_CAMERA, camera_status));
    io.ns(NS_MOUNT, on_connect(app, NS_MOUNT, mount_status));
    io.ns(
        NS_SESSION,
        on_connect(app, NS_SESSION, |a| a.sessions.status()),
    );
    io.ns(NS_IPFS, on_connect(app, NS_IPFS, ipfs_status));
    let mut rx = app.events.subscribe();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if let Some(op) = io.of(ev.namespace)
                        && let Err(e) = op.emit(&ev.name, &ev.data).await
                    {
                        tracing::debug!("socket.io broadcast {}: {e}", ev.name);
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("socket.io relay fell {n} events behind");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    layer
}
