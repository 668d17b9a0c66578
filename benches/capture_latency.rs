//! Capture latency with IPFS publishing on vs off, and capture → CID pinned → announced.
//!
//! Run with `benches/capture_latency.sh` (it re-runs this inside a network namespace with only
//! `lo`, since the "on" case starts two libp2p nodes on loopback). Prints a table and writes
//! `target/capture_latency.json`. Captures are 12 MP JPEGs from the simulated HQ camera,
//! generated beforehand so camera time is not counted; they are saved every 500 ms (WANDA's
//! rapid-mode gap) while the publish worker adds, pins and announces the earlier ones.
//! `save()` returns once the JPEG is durable, its row and publish job are committed and the
//! thumbnail is written; publishing starts at the commit, so it runs alongside the thumbnail.

use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wanda::app::config::AppConfig;
use wanda::app::events::NS_IPFS;
use wanda::app::{App, NodeParts};
use wanda_hardware::{Camera, Capture, DriveGeometry, SimCamera, SimCameraConfig, SimMount};
use wanda_node::net::{NetConfig, NodeHandle};
use wanda_node::repo::{NodeConfig, Profile};
use wanda_node::store::Blockstore;

const CAPTURES: usize = 12;
const GAP: Duration = Duration::from_millis(500);

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i]
}

async fn node(dir: &std::path::Path) -> (NodeHandle, Blockstore) {
    let key = libp2p::identity::Keypair::generate_ed25519();
    let mut cfg = NodeConfig::for_profile(Profile::Local, key.public().to_peer_id().to_string());
    cfg.addresses.swarm = vec!["/ip4/127.0.0.1/tcp/0".into()];
    std::fs::create_dir_all(dir).unwrap();
    let store = Blockstore::open(&dir.join("datastore.redb")).unwrap();
    let (handle, _task) =
        wanda_node::net::start(key, NetConfig::from_config(&cfg).unwrap(), store.clone())
            .await
            .unwrap();
    (handle, store)
}

struct Run {
    save_ms: Vec<f64>,
    pinned_ms: Vec<f64>,
    announced_ms: Vec<f64>,
}

async fn run(publish: bool, captures: &[Capture]) -> Run {
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = AppConfig::default();
    cfg.publish.enabled = publish;
    cfg.captures.min_free_space = "1MB".into();
    let mount: Arc<dyn wanda_hardware::Mount> =
        Arc::new(SimMount::new(DriveGeometry::nema_200(16, 100.0)).unwrap());
    let camera: Arc<dyn Camera> = Arc::new(SimCamera::new(SimCameraConfig {
        width: 64,
        height: 48,
        ..SimCameraConfig::default()
    }));
    let (node_a, store_a, _b) = if publish {
        let (a, store_a) = node(&tmp.path().join("a")).await;
        std::fs::create_dir_all(tmp.path().join("b")).unwrap();
        let (b, _) = node(&tmp.path().join("b")).await;
        let mut sub = b.subscribe("/wanda-telescope").await.unwrap();
        let addr = a.listen_addrs().await.unwrap()[0].clone();
        b.connect(addr.with(libp2p::multiaddr::Protocol::P2p(a.peer_id())))
            .await
            .unwrap();
        // wait until A sees B on the topic
        for _ in 0..100 {
            if !a
                .topic_peers(Some("/wanda-telescope"))
                .await
                .unwrap()
                .is_empty()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::spawn(async move { while sub.recv().await.is_ok() {} });
        (Some(a), store_a, Some(b))
    } else {
        std::fs::create_dir_all(tmp.path().join("a")).unwrap();
        (
            None,
            Blockstore::open(&tmp.path().join("a").join("datastore.redb")).unwrap(),
            None,
        )
    };
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let app = App::start(
        &repo,
        cfg,
        camera,
        mount,
        NodeParts {
            store: store_a,
            node: node_a.clone(),
            peer_id: node_a
                .as_ref()
                .map(|n| n.peer_id().to_string())
                .unwrap_or_default(),
            key: None,
            topic: "/wanda-telescope".into(),
            gateway_url: None,
            gc_threshold: None,
        },
    )
    .unwrap();
    // events are timed as they arrive, on their own task, while the captures are being saved
    let mut events = app.events.subscribe();
    let received = Arc::new(std::sync::Mutex::new(Vec::<(u64, String, Instant)>::new()));
    let sink = received.clone();
    let listener = tokio::spawn(async move {
        while let Ok(ev) = events.recv().await {
            if ev.namespace == NS_IPFS
                && let Some(id) = ev.data["capture_id"].as_u64()
            {
                sink.lock()
                    .unwrap()
                    .push((id, ev.name.clone(), Instant::now()));
            }
        }
    });
    let mut saved_at = std::collections::HashMap::new();
    let mut save_ms = Vec::new();
    for (i, c) in captures.iter().enumerate() {
        let t0 = Instant::now();
        let store = app.store.clone();
        let c = c.clone();
        let name = format!("image_{:04}.jpg", i + 1);
        let saved = tokio::task::spawn_blocking(move || store.save(&c, Some("bench"), &name))
            .await
            .unwrap()
            .unwrap();
        save_ms.push(t0.elapsed().as_secs_f64() * 1e3);
        saved_at.insert(saved.jpeg.id, t0);
        tokio::time::sleep(GAP).await;
    }
    let (mut pinned_ms, mut announced_ms) = (Vec::new(), Vec::new());
    if publish {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = received
                .lock()
                .unwrap()
                .iter()
                .filter(|(_, n, _)| n == "content_announced")
                .count();
            if n >= captures.len() {
                break;
            }
            assert!(Instant::now() < deadline, "announcements did not arrive");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for (id, name, at) in received.lock().unwrap().iter() {
            let Some(t0) = saved_at.get(id) else {
                continue;
            };
            let ms = at.duration_since(*t0).as_secs_f64() * 1e3;
            match name.as_str() {
                "ipfs_upload_complete" => {
                    pinned_ms.push(ms);
                }
                "content_announced" => {
                    announced_ms.push(ms);
                }
                _ => {}
            }
        }
    }
    listener.abort();
    app.shutdown().await;
    Run {
        save_ms,
        pinned_ms,
        announced_ms,
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let camera = SimCamera::new(SimCameraConfig::twelve_megapixel());
    let captures: Vec<Capture> = (0..CAPTURES).map(|_| camera.capture().unwrap()).collect();
    let mb = captures.iter().map(|c| c.jpeg.len()).sum::<usize>() as f64 / CAPTURES as f64 / 1e6;
    // alternate off/on twice so machine noise hits both
    let mut off = Vec::new();
    let mut on = Vec::new();
    let (mut pinned, mut announced) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        off.extend(rt.block_on(run(false, &captures)).save_ms);
        let r = rt.block_on(run(true, &captures));
        on.extend(r.save_ms);
        pinned.extend(r.pinned_ms);
        announced.extend(r.announced_ms);
    }
    let (off50, on50) = (percentile(&mut off, 0.5), percentile(&mut on, 0.5));
    let (off95, on95) = (percentile(&mut off, 0.95), percentile(&mut on, 0.95));
    let (p50, p95) = (percentile(&mut pinned, 0.5), percentile(&mut pinned, 0.95));
    let (a50, a95) = (
        percentile(&mut announced, 0.5),
        percentile(&mut announced, 0.95),
    );
    println!(
        "12 MP simulated captures, {mb:.2} MB JPEG average, {} saves per case",
        off.len()
    );
    println!(
        "capture -> save() returns, publishing off:      p50 {off50:.1} ms  p95 {off95:.1} ms"
    );
    println!("capture -> save() returns, publishing on:       p50 {on50:.1} ms  p95 {on95:.1} ms");
    println!(
        "ratio on/off: p50 {:.2}  p95 {:.2}",
        on50 / off50,
        on95 / off95
    );
    println!("capture -> CID added and pinned:               p50 {p50:.1} ms  p95 {p95:.1} ms");
    println!("capture -> provided + announced on gossipsub:  p50 {a50:.1} ms  p95 {a95:.1} ms");
    let out = json!({
        "jpeg_mb": mb, "saves": off.len(),
        "save_off_ms": {"p50": off50, "p95": off95}, "save_on_ms": {"p50": on50, "p95": on95},
        "ratio_p50": on50 / off50, "ratio_p95": on95 / off95,
        "pinned_ms": {"p50": p50, "p95": p95}, "announced_ms": {"p50": a50, "p95": a95},
    });
    let _ = std::fs::write(
        "target/capture_latency.json",
        serde_json::to_vec_pretty(&out).unwrap(),
    );
}
