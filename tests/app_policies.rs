//! Storage policies through a real daemon: `publish.keep_last_local` keeps only the newest
//! published captures as files (the rest stay pinned and served by CID), and a disk that would
//! go under `captures.min_free_space` refuses captures with a clear error and no file at all.
//! Each test runs inside its own network namespace with only `lo`.

mod app_common;
mod cli_common;

use app_common::*;
use cli_common::{Daemon, in_loopback_netns};
use serde_json::Value;

#[test]
fn keep_last_local_removes_old_files_but_keeps_them_in_ipfs() {
    if !in_loopback_netns("keep_last_local_removes_old_files_but_keeps_them_in_ipfs") {
        return;
    }
    let d = Daemon::start(&[("publish.keep_last_local", "2")]);
    let base = base_url(&d.w.repo);
    let dir = d.w.repo.join("captures").join("keep");
    start_session(&base, "keep", 4);
    // every image published (CIDs in the session metadata), then only the newest 2 on disk
    let images: Vec<Value> = wait_for("4 published images, 2 left on disk", 60, || {
        let meta: Value =
            serde_json::from_slice(&std::fs::read(dir.join("session_metadata.json")).ok()?).ok()?;
        let images = meta["images"].as_array()?.clone();
        let on_disk = std::fs::read_dir(&dir)
            .ok()?
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".jpg"))
            .count();
        (images.len() == 4 && images.iter().all(|i| i["cid"].is_string()) && on_disk == 2)
            .then_some(images)
    });
    assert!(dir.join("image_0003.jpg").exists() && dir.join("image_0004.jpg").exists());
    assert!(!dir.join("image_0001.jpg").exists() && !dir.join("image_0002.jpg").exists());
    for i in &images {
        let cid = i["cid"].as_str().unwrap();
        let (s, bytes) = get(&format!("{base}/ipfs/{cid}"));
        assert_eq!(s, 200, "{} still served by CID", i["filename"]);
        assert_eq!(bytes.len() as u64, i["size"].as_u64().unwrap());
    }
}

#[test]
fn a_nearly_full_disk_refuses_captures_cleanly() {
    if !in_loopback_netns("a_nearly_full_disk_refuses_captures_cleanly") {
        return;
    }
    let d = Daemon::start(&[("captures.min_free_space", "1000TB")]);
    let base = base_url(&d.w.repo);
    let (s, v) = post_raw(&format!("{base}/api/camera/capture"), "");
    assert_eq!(s, 507, "{v}");
    assert_eq!(v["code"], "STORAGE_FULL");
    assert!(v["error"].as_str().unwrap().contains("storage full"), "{v}");
    let files: Vec<_> = std::fs::read_dir(d.w.repo.join("captures"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        files.is_empty(),
        "nothing written, not even a temporary file: {files:?}"
    );
    // a session ends in error with the same reason
    start_session(&base, "full", 3);
    let st = wait_for("the session to fail", 30, || {
        let (_, v) = get_json(&format!("{base}/api/session/status"));
        (v["data"]["active"] == false && v["data"]["status"] == "error").then_some(v)
    });
    assert!(
        st["data"]["error"]
            .as_str()
            .unwrap()
            .contains("storage full"),
        "{st}"
    );
    assert_eq!(st["data"]["images_captured"], 0);
}
