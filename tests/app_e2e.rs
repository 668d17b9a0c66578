//! The telescope app end to end on simulated hardware, through a real daemon: a 10-image
//! session → 10 files on disk, 10 CIDs whose `/ipfs/` bytes equal the files, a session
//! directory listing them with its metadata, the node's IPNS name resolving to the root; a
//! kill -9 in the middle of a session loses nothing and everything saved gets published; with
//! no peer around captures are added at once and announced when a peer arrives.
//! Each test runs inside its own network namespace with only `lo`.

mod app_common;
mod cli_common;

use app_common::*;
use cli_common::{Daemon, Wanda, in_loopback_netns};
use serde_json::Value;

fn jpg_files(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    v.sort();
    v
}

fn published(base: &str, folder: &str, n: usize) -> Vec<Value> {
    wait_for(&format!("{n} published captures in {folder}"), 120, || {
        let caps: Vec<Value> = captures(base, folder)
            .into_iter()
            .filter(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
            .collect();
        (caps.len() >= n && caps.iter().all(|c| c["ipfs"]["cid"].is_string())).then_some(caps)
    })
}

#[test]
fn ten_image_session_is_saved_published_and_named() {
    if !in_loopback_netns("ten_image_session_is_saved_published_and_named") {
        return;
    }
    let d = Daemon::start(&[]);
    let base = base_url(&d.w.repo);
    start_session(&base, "m31", 10);
    let status = wait_for("session end", 120, || {
        let (_, v) = get_json(&format!("{base}/api/session/status"));
        (v["data"]["active"] == false && v["data"]["images_captured"] == 10).then_some(v)
    });
    assert_eq!(status["data"]["status"], "completed", "{status}");
    assert_eq!(status["data"]["progress"], 100.0);

    let dir = d.w.repo.join("captures").join("m31");
    let files = jpg_files(&dir);
    assert_eq!(
        files,
        (1..=10)
            .map(|i| format!("image_{i:04}.jpg"))
            .collect::<Vec<_>>()
    );
    let caps = published(&base, "m31", 10);
    for c in &caps {
        let name = c["name"].as_str().unwrap();
        let on_disk = std::fs::read(dir.join(name)).unwrap();
        let cid = c["ipfs"]["cid"].as_str().unwrap();
        let (s, via_ipfs) = get(&format!("{base}/ipfs/{cid}"));
        assert_eq!(s, 200);
        assert_eq!(
            via_ipfs, on_disk,
            "{name}: /ipfs/{cid} differs from the file"
        );
        let (s, via_api) = get(&format!("{base}/api/captures/m31%2F{name}"));
        assert_eq!((s, &via_api), (200, &on_disk));
        assert_eq!(c["ipfs"]["pinned"], true);
        assert!(
            c["ipfs"]["gateway_url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/ipfs/{cid}")),
            "{c}"
        );
        let (s, thumb) = get(&format!("{base}{}", c["thumbnail"].as_str().unwrap()));
        assert_eq!(s, 200);
        assert_eq!(&thumb[..2], &[0xff, 0xd8], "thumbnail is a JPEG");
    }

    // the session directory: 10 images + metadata listing each image's CID
    let session_cid = wait_for("session directory with 10 images", 60, || {
        let (_, v) = get_json(&format!("{base}/api/session/status"));
        let cid = v["data"]["cid"].as_str()?.to_string();
        let (s, meta) = get(&format!("{base}/ipfs/{cid}/session_metadata.json"));
        if s != 200 {
            return None;
        }
        let meta: Value = serde_json::from_slice(&meta).ok()?;
        let images = meta["images"].as_array()?;
        (images.len() == 10 && images.iter().all(|i| i["cid"].is_string())).then_some(cid)
    });
    for c in &caps {
        let name = c["name"].as_str().unwrap();
        let (s, bytes) = get(&format!("{base}/ipfs/{session_cid}/{name}"));
        assert_eq!(s, 200, "{name} in the session directory");
        assert_eq!(bytes, std::fs::read(dir.join(name)).unwrap());
    }
    let (_, meta) = get(&format!("{base}/ipfs/{session_cid}/session_metadata.json"));
    let meta: Value = serde_json::from_slice(&meta).unwrap();
    for key in [
        "name",
        "total_images",
        "use_current_settings",
        "enable_tracking",
        "total_time_hours",
        "start_time",
        "end_time",
        "images_captured",
        "session_dir",
        "status",
        "mount_tracking_stopped",
    ] {
        assert!(
            meta.get(key).is_some(),
            "session_metadata.json lacks {key}: {meta}"
        );
    }
    assert_eq!(meta["status"], "completed");
    assert_eq!(meta["mount_tracking_stopped"], true);

    // the node's IPNS name resolves to a root that lists the session
    let id: Value = serde_json::from_str(&d.w.ok(&["id"])).unwrap();
    let peer = id["ID"].as_str().unwrap().to_string();
    let resolved = wait_for("IPNS name of the root", 60, || {
        let out = d.w.run(&["name", "resolve", &peer]);
        let path = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let root = path.strip_prefix("/ipfs/")?.to_string();
        let (s, listing) = get(&format!("{base}/ipfs/{root}/m31/session_metadata.json"));
        (out.status.success() && s == 200 && !listing.is_empty()).then_some(root)
    });
    let (s, bytes) = get(&format!("{base}/ipfs/{resolved}/m31/image_0007.jpg"));
    assert_eq!(s, 200);
    assert_eq!(bytes, std::fs::read(dir.join("image_0007.jpg")).unwrap());
}

#[test]
fn kill_nine_mid_session_loses_nothing_and_publishes_everything_after_restart() {
    if !in_loopback_netns(
        "kill_nine_mid_session_loses_nothing_and_publishes_everything_after_restart",
    ) {
        return;
    }
    let mut d = Daemon::start(&[]);
    let base = base_url(&d.w.repo);
    start_session(&base, "crash", 200);
    wait_for("a few captures", 60, || {
        let (_, v) = get_json(&format!("{base}/api/session/status"));
        (v["data"]["images_captured"].as_u64()? >= 4).then_some(())
    });
    d.child.kill().unwrap(); // SIGKILL
    d.child.wait().unwrap();
    let dir = d.w.repo.join("captures").join("crash");
    let saved = jpg_files(&dir);
    assert!(saved.len() >= 4, "{saved:?}");
    for f in &saved {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        assert!(
            bytes.len() > 100
                && bytes[..2] == [0xff, 0xd8]
                && bytes[bytes.len() - 2..] == [0xff, 0xd9],
            "{f} is not a whole JPEG"
        );
    }

    let w = std::mem::replace(&mut d.w, Wanda::uninit());
    drop(d);
    let d = Daemon::start_existing(w, &[]);
    let base = base_url(&d.w.repo);
    let caps = published(&base, "crash", saved.len());
    let names: Vec<&str> = caps.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for f in &saved {
        assert!(
            names.contains(&f.as_str()),
            "{f} was saved before the crash but is not listed"
        );
    }
    for c in &caps {
        let name = c["name"].as_str().unwrap();
        let (s, b) = get(&format!(
            "{base}/ipfs/{}",
            c["ipfs"]["cid"].as_str().unwrap()
        ));
        assert_eq!(s, 200);
        assert_eq!(b, std::fs::read(dir.join(name)).unwrap(), "{name}");
    }
    assert!(
        !std::fs::read_dir(&dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(".wanda-tmp-")),
        "temporary files are removed at restart"
    );
    let (_, v) = get_json(&format!("{base}/api/session/status"));
    assert_eq!(
        v["data"]["status"], "error",
        "an interrupted session says so: {v}"
    );
    assert_eq!(v["data"]["active"], false);
}

#[test]
fn without_peers_captures_are_added_and_announced_when_a_peer_arrives() {
    if !in_loopback_netns("without_peers_captures_are_added_and_announced_when_a_peer_arrives") {
        return;
    }
    let a = Daemon::start(&[]);
    let base = base_url(&a.w.repo);
    start_session(&base, "alone", 3);
    let caps = published(&base, "alone", 3);
    assert!(
        caps.iter().all(|c| c["ipfs"]["synced"] == false),
        "nobody to announce to yet"
    );

    let b = Daemon::start(&[]);
    let mut sub =
        b.w.cmd()
            .args(["pubsub", "sub", "/wanda-telescope"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    b.w.ok(&["swarm", "connect", &a.addr()]);
    let synced = wait_for("announcements after a peer arrived", 60, || {
        let caps = captures(&base, "alone");
        let jpgs: Vec<&Value> = caps
            .iter()
            .filter(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
            .collect();
        (jpgs.len() == 3 && jpgs.iter().all(|c| c["ipfs"]["synced"] == true)).then_some(caps)
    });
    let _ = sub.kill();
    let out = sub.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for c in synced
        .iter()
        .filter(|c| c["name"].as_str().unwrap().ends_with(".jpg"))
    {
        let cid = c["ipfs"]["cid"].as_str().unwrap();
        assert!(
            text.contains(cid),
            "peer B did not receive the announcement of {cid}: {text}"
        );
    }
}
