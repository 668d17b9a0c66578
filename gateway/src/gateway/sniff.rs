//! Content-Type of a file: by extension first, else by sniffing its first bytes (a subset of
//! the WHATWG MIME sniffing rules, as Go's `http.DetectContentType` does).

/// How many leading bytes [`content_type`] looks at.
pub const SNIFF_LEN: usize = 512;

/// The media type for a file called `name` (if known) that starts with `head`.
pub fn content_type(name: Option<&str>, head: &[u8]) -> &'static str {
    if let Some(t) = name.and_then(by_extension) {
        return t;
    }
    sniff(head)
}

fn by_extension(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "text" | "log" => "text/plain; charset=utf-8",
        "md" | "markdown" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "text/xml; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/vnd.microsoft.icon",
        "tif" | "tiff" => "image/tiff",
        "fits" | "fit" | "fts" => "image/fits",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "bin" => "application/octet-stream",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "car" => "application/vnd.ipld.car",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "wav" => "audio/wav",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

fn sniff(head: &[u8]) -> &'static str {
    let head = &head[..head.len().min(SNIFF_LEN)];
    let magic: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b\x08", "application/gzip"),
        (b"\x00asm", "application/wasm"),
        (b"SIMPLE  =", "image/fits"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"OggS\x00", "application/ogg"),
        (b"ID3", "audio/mpeg"),
        (b"wOFF", "font/woff"),
        (b"wOF2", "font/woff2"),
    ];
    for (sig, t) in magic {
        if head.starts_with(sig) {
            return t;
        }
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return "image/webp";
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return "video/mp4";
    }
    let text = trim_ws(head);
    let lower: Vec<u8> = text.iter().take(16).map(u8::to_ascii_lowercase).collect();
    for tag in [
        &b"<!doctype html"[..],
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<title",
        b"<div",
        b"<p>",
        b"<h1",
        b"<table",
    ] {
        if lower.starts_with(tag) {
            return "text/html; charset=utf-8";
        }
    }
    if lower.starts_with(b"<svg") {
        return "image/svg+xml";
    }
    if lower.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    if head.is_empty() || looks_like_text(head) {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

fn trim_ws(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c'))
        .unwrap_or(b.len());
    &b[start..]
}

/// No "binary data byte" in WHATWG's sense (0x00–0x08, 0x0B, 0x0E–0x1A, 0x1C–0x1F), the rule
/// Go's `http.DetectContentType` and so boxo use.
fn looks_like_text(b: &[u8]) -> bool {
    !b.iter()
        .any(|&c| matches!(c, 0x00..=0x08 | 0x0b | 0x0e..=0x1a | 0x1c..=0x1f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_wins() {
        assert_eq!(content_type(Some("a.PNG"), b"hello"), "image/png");
        assert_eq!(
            content_type(Some("ascii.txt"), b"\x00\x01"),
            "text/plain; charset=utf-8"
        );
    }

    #[test]
    fn sniffs() {
        assert_eq!(content_type(None, b"\x89PNG\r\n\x1a\nxxxx"), "image/png");
        assert_eq!(
            content_type(None, b"  <!DOCTYPE html><p>"),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(None, b"hello\n"), "text/plain; charset=utf-8");
        assert_eq!(
            content_type(None, "źł".as_bytes()),
            "text/plain; charset=utf-8"
        );
        assert_eq!(
            content_type(None, b"\x00\x01\x02"),
            "application/octet-stream"
        );
        assert_eq!(
            content_type(Some("noext"), b""),
            "text/plain; charset=utf-8"
        );
    }
}
