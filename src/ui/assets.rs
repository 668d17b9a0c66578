//! The UI's files, embedded with `include_bytes!` from `src/ui/assets/` (the vendored
//! Socket.IO client is reproduced by `scripts/vendor-ui.sh`).

/// One embedded file.
#[derive(Debug)]
pub struct Asset {
    /// Path under `/ui/` (`app.js`, `vendor/socket.io.min.js`, …).
    pub path: &'static str,
    /// `Content-Type` header value.
    pub content_type: &'static str,
    /// The file's bytes.
    pub body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";
const TEXT: &str = "text/plain; charset=utf-8";

macro_rules! asset {
    ($path:literal, $ty:expr) => {
        Asset {
            path: $path,
            content_type: $ty,
            body: include_bytes!(concat!("assets/", $path)),
        }
    };
}

/// The page served at `/`.
pub static INDEX: &Asset = &asset!("index.html", HTML);

/// Everything under `/ui/`.
pub static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("icon.svg", SVG),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("auth.js", JS),
    asset!("dom.js", JS),
    asset!("live.js", JS),
    asset!("camera.js", JS),
    asset!("mount.js", JS),
    asset!("session.js", JS),
    asset!("gallery.js", JS),
    asset!("network.js", JS),
    asset!("ipfs.js", JS),
    asset!("qr.js", JS),
    asset!("theme.js", JS),
    asset!("vendor/socket.io.min.js", JS),
    asset!("vendor/socket.io.LICENSE", TEXT),
];

/// The asset at `path` (relative to `/ui/`), if there is one.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_types_follow_extensions() {
        for (i, a) in ASSETS.iter().enumerate() {
            assert!(
                ASSETS[i + 1..].iter().all(|b| b.path != a.path),
                "{} twice",
                a.path
            );
            let want = match a.path.rsplit('.').next() {
                Some("html") => HTML,
                Some("js") => JS,
                Some("css") => CSS,
                Some("svg") => SVG,
                _ => TEXT,
            };
            assert_eq!(a.content_type, want, "{}", a.path);
            assert!(!a.body.is_empty(), "{} is empty", a.path);
        }
    }

    #[test]
    fn find_knows_only_listed_paths() {
        assert!(find("app.js").is_some());
        assert!(find("../Cargo.toml").is_none());
        assert!(find("/app.js").is_none());
    }
}
