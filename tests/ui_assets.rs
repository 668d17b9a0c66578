//! The built-in web UI as a browser first sees it: `/` is the page (HTML, right type), every
//! file the page references — scripts, styles, icons, and the ES modules those scripts import —
//! is served under `/ui/` with its type and the bytes in `src/ui/assets/`, every embedded file
//! is reachable from the page (no dead assets) and every file in the folder is embedded.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn assets_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui/assets")
}

/// Serves `wanda::ui::router()` on a loopback port; returns its base URL.
fn serve() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(l, wanda::ui::router()).await.unwrap();
        });
    });
    base
}

/// GET → (status, content type, body).
fn get(url: &str) -> (u16, String, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut r = agent.get(url).call().unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = r.body_mut().read_to_vec().unwrap();
    (r.status().as_u16(), ct, body)
}

/// The strings between `open` and the next `"` in `text`.
fn quoted_after<'a>(text: &'a str, open: &str) -> Vec<&'a str> {
    text.match_indices(open)
        .filter_map(|(i, _)| {
            let rest = &text[i + open.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// `/ui/…` paths that a file references: `src=`/`href=` in HTML, `import … from "./x.js"` and
/// `import("./x.js")` in JavaScript (relative to the importing file).
fn references(path: &str, body: &str) -> Vec<String> {
    if path.ends_with(".html") {
        let mut out: Vec<String> = quoted_after(body, "src=\"")
            .into_iter()
            .chain(quoted_after(body, "href=\""))
            .filter(|r| r.starts_with('/'))
            .map(str::to_string)
            .collect();
        out.sort();
        out.dedup();
        return out;
    }
    if !path.ends_with(".js") || path.contains("/vendor/") {
        return Vec::new();
    }
    let dir = &path[..path.rfind('/').unwrap() + 1];
    quoted_after(body, "from \"")
        .into_iter()
        .chain(quoted_after(body, "import(\""))
        .map(|r| {
            let r = r.strip_prefix("./").unwrap_or_else(|| {
                panic!("{path}: import {r:?} is not ./relative");
            });
            format!("{dir}{r}")
        })
        .collect()
}

fn expected_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        other => panic!("{path}: unexpected asset type {other}"),
    }
}

#[test]
fn page_and_every_referenced_asset_are_served() {
    let base = serve();
    let (status, ct, body) = get(&format!("{base}/"));
    assert_eq!(status, 200);
    assert_eq!(ct, "text/html; charset=utf-8");
    let on_disk = std::fs::read(assets_dir().join("index.html")).unwrap();
    assert_eq!(body, on_disk, "/ is index.html");
    let html = String::from_utf8(body).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{}", &html[..40]);

    let mut seen = BTreeSet::new();
    let mut todo: Vec<String> = references("/index.html", &html);
    assert!(
        todo.iter().any(|r| r == "/ui/app.js") && todo.iter().any(|r| r == "/ui/style.css"),
        "index.html references {todo:?}"
    );
    while let Some(url_path) = todo.pop() {
        if !seen.insert(url_path.clone()) {
            continue;
        }
        let rel = url_path
            .strip_prefix("/ui/")
            .unwrap_or_else(|| panic!("{url_path}: UI references must be under /ui/"));
        let (status, ct, body) = get(&format!("{base}{url_path}"));
        assert_eq!(status, 200, "{url_path}");
        assert_eq!(ct, expected_type(rel), "{url_path}");
        let on_disk = std::fs::read(assets_dir().join(rel)).unwrap();
        assert_eq!(body, on_disk, "{url_path} differs from src/ui/assets/{rel}");
        todo.extend(references(&url_path, &String::from_utf8_lossy(&body)));
    }
    for module in [
        "app.js",
        "api.js",
        "live.js",
        "gallery.js",
        "qr.js",
        "vendor/socket.io.min.js",
    ] {
        assert!(
            seen.contains(&format!("/ui/{module}")),
            "{module} not reached: {seen:?}"
        );
    }
    // every embedded asset is used by the page (licenses aside)
    for a in wanda::ui::assets::ASSETS {
        if a.path == "index.html" || a.path.ends_with(".LICENSE") {
            continue;
        }
        assert!(
            seen.contains(&format!("/ui/{}", a.path)),
            "{} is embedded but nothing references it",
            a.path
        );
    }
}

#[test]
fn every_file_in_the_assets_folder_is_embedded() {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().unwrap().is_dir() {
                walk(&e.path(), &format!("{prefix}{name}/"), out);
            } else {
                out.push(format!("{prefix}{name}"));
            }
        }
    }
    let mut files = Vec::new();
    walk(&assets_dir(), "", &mut files);
    assert!(files.len() > 5, "{files:?}");
    for f in files {
        let a = wanda::ui::assets::find(&f)
            .unwrap_or_else(|| panic!("src/ui/assets/{f} is not in wanda::ui::assets::ASSETS"));
        assert_eq!(a.body, std::fs::read(assets_dir().join(&f)).unwrap(), "{f}");
    }
}

#[test]
fn unknown_and_escaping_paths_are_404() {
    let base = serve();
    for p in [
        "/ui/nope.js",
        "/ui/%2e%2e/Cargo.toml",
        "/ui/..%2fsrc%2flib.rs",
        "/ui/vendor",
    ] {
        let (status, ct, body) = get(&format!("{base}{p}"));
        assert_eq!(status, 404, "{p}");
        assert!(ct.starts_with("text/plain"), "{p}: {ct}");
        assert!(
            String::from_utf8_lossy(&body).contains("no UI asset"),
            "{p}"
        );
    }
    assert_eq!(get(&format!("{base}/ui/")).0, 404);
    let (status, ct, body) = get(&format!("{base}/index.html"));
    assert_eq!((status, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(String::from_utf8(body).unwrap().contains("/ui/app.js"));
}
