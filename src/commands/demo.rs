//! `wanda demo`: the main job on simulated hardware. Starts a node with the `local` profile
//! (loopback only, ports picked by the OS) in a temporary repo (or `--repo DIR`), runs a rapid
//! session with mount tracking, prints each capture's CID and gateway URL as it is published,
//! then the session directory, the root of all sessions and its IPNS name; serves until
//! Ctrl-C (or exits with `--exit`).

use crate::app::config::AppConfig;
use crate::app::events::{NS_IPFS, NS_SESSION};
use crate::app::session::StartRequest;
use crate::cli::DemoArgs;
use crate::runtime::{RunOptions, Running, wait_for_signal};
use anyhow::{Context, Result, bail};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use wanda_node::repo::config::set_key;
use wanda_node::repo::{Profile, Repo, read_config_doc, write_config_doc};

/// Name of the demo session.
const SESSION: &str = "demo";

fn parse_size(s: &str) -> Result<(u32, u32)> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .with_context(|| format!("--sim-size {s:?}: expected WIDTHxHEIGHT, e.g. 4056x3040"))?;
    let (w, h): (u32, u32) = (
        w.trim().parse().context("--sim-size width")?,
        h.trim().parse().context("--sim-size height")?,
    );
    if !(16..=8192).contains(&w) || !(16..=8192).contains(&h) {
        bail!("--sim-size {s}: width and height must be 16..=8192");
    }
    Ok((w, h))
}

/// Creates a `local` repo whose listeners all take OS-assigned loopback ports.
fn init_demo_repo(dir: &Path) -> Result<()> {
    Repo::init(dir, Profile::Local, &AppConfig::default_sections())?;
    let mut doc = read_config_doc(dir)?;
    let defaults = doc.clone();
    let any_port = |proto: &str| toml::Value::String(format!("/ip4/127.0.0.1/{proto}/0"));
    set_key(&mut doc, &defaults, "addresses.api", any_port("tcp"))?;
    set_key(&mut doc, &defaults, "addresses.gateway", any_port("tcp"))?;
    set_key(
        &mut doc,
        &defaults,
        "addresses.swarm",
        toml::Value::Array(vec![
            any_port("tcp"),
            toml::Value::String("/ip4/127.0.0.1/udp/0/quic-v1".into()),
        ]),
    )?;
    write_config_doc(dir, &doc)?;
    Ok(())
}

pub fn run(repo: Option<PathBuf>, args: DemoArgs) -> Result<()> {
    let size = parse_size(&args.sim_size)?;
    if !(args.exposure > 0.0 && args.exposure <= 230.0) {
        bail!("--exposure must be in (0, 230] seconds");
    }
    let (dir, _temp) = match repo {
        Some(d) => (d, None),
        None => {
            let t = tempfile::Builder::new().prefix("wanda-demo-").tempdir()?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    if !dir.join(wanda_node::repo::CONFIG_FILE).exists() {
        init_demo_repo(&dir)?;
    }
    let repo = Repo::open(&dir)?;
    if repo.config().network.profile != Profile::Local {
        bail!(
            "wanda demo runs only with the `local` network profile; {} uses `{}`",
            dir.display(),
            repo.config().network.profile
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(demo(repo, args, size))
}

async fn demo(repo: Repo, args: DemoArgs, size: (u32, u32)) -> Result<()> {
    let running = Running::start(
        repo,
        RunOptions {
            camera_driver: Some("sim".into()),
            mount_driver: Some("sim".into()),
            sim_size: Some(size),
        },
    )
    .await?;
    let result = tokio::select! {
        r = session(&running, &args) => r,
        _ = wait_for_signal() => {
            println!("Received interrupt signal, shutting down...");
            crate::runtime::exit_watchdog(std::time::Duration::from_secs(20));
            running.shutdown().await?;
            return Ok(());
        }
    };
    if let Err(e) = &result {
        eprintln!("Error: {e:#}");
    } else if !args.exit {
        println!(
            "Serving the gateway and the telescope API on {}/ — press Ctrl-C to stop",
            running.http_url()
        );
        wait_for_signal().await;
        println!("Received interrupt signal, shutting down...");
        crate::runtime::exit_watchdog(std::time::Duration::from_secs(20));
    }
    running.shutdown().await?;
    result
}

async fn session(running: &Running, args: &DemoArgs) -> Result<()> {
    let app = &running.app;
    let base = running.http_url();
    let mut settings = app.camera.settings();
    settings.exposure_us = (args.exposure * 1e6).round().max(1.0) as u64;
    app.camera.set_settings(settings)?;
    let mut events = app.events.subscribe();
    let req: StartRequest = serde_json::from_value(json!({
        "name": SESSION,
        "total_images": args.images,
        "enable_tracking": true,
        "use_current_settings": true,
    }))?;
    app.sessions.start(&req)?;
    println!(
        "Session {SESSION:?}: {} captures, {:.2} s exposure, {}x{} simulated sensor, tracking on",
        args.images,
        args.exposure,
        app.camera.info().width,
        app.camera.info().height
    );
    let deadline = tokio::time::Instant::now()
        + Duration::from_secs_f64(f64::from(args.images) * (args.exposure + 60.0) + 60.0);
    let mut published = 0u32;
    let mut session_over = false;
    while published < args.images {
        let ev = tokio::time::timeout_at(deadline, events.recv())
            .await
            .context("the demo session did not finish in time")?;
        let ev = match ev {
            Ok(ev) => ev,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(e) => bail!("event stream closed: {e}"),
        };
        match (ev.namespace, ev.name.as_str()) {
            (NS_IPFS, "ipfs_upload_complete") if ev.data["session"] == SESSION => {
                published += 1;
                let cid = ev.data["cid"].as_str().unwrap_or_default();
                println!(
                    "[{published}/{}] {}  {cid}  {base}/ipfs/{cid}",
                    args.images,
                    ev.data["filename"].as_str().unwrap_or_default()
                );
            }
            (NS_IPFS, "ipfs_upload_error") => {
                eprintln!(
                    "publish of {} failed (will retry): {}",
                    ev.data["filename"], ev.data["error"]
                );
            }
            (NS_SESSION, "session_error") => {
                bail!("session failed: {}", ev.data["error"]);
            }
            (NS_SESSION, "session_complete" | "session_stop") => session_over = true,
            _ => {}
        }
    }
    let _ = session_over;
    // the publisher rebuilds the session directory and the root right after the adds
    let mut session_cid = None;
    let mut root = None;
    while tokio::time::Instant::now() < deadline {
        session_cid = app.db.session(SESSION)?.and_then(|s| s.cid);
        let images_in_dir = app
            .db
            .session(SESSION)?
            .map(|s| s.images_captured)
            .unwrap_or(0);
        root = app.dirs.root()?;
        let name = app.db.meta("ipns_value")?;
        if session_cid.is_some() && images_in_dir >= args.images && name == root && root.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let session_cid = session_cid.context("the session directory was not published")?;
    println!("Session directory: {session_cid}  {base}/ipfs/{session_cid}/");
    if let Some(root) = root {
        println!("All sessions:      {root}  {base}/ipfs/{root}/");
    }
    if let Some(name) = app.db.meta("ipns_name")? {
        println!("IPNS name:         {name}  {base}/ipns/{name}/");
    }
    Ok(())
}
