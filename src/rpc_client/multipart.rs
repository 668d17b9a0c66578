//! A streamed `multipart/form-data` request body in Kubo's layout: one part per entry, named by
//! its percent-encoded path in `filename`, directories as `application/x-directory`, symlinks
//! as `application/symlink` (body = target). Files are opened only when their turn comes.

use super::percent_encode;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where a file part's bytes come from.
pub enum Source {
    /// A file on disk.
    Path(PathBuf),
    /// Standard input.
    Stdin,
}

/// One entry.
pub enum Part {
    /// A directory.
    Directory(String),
    /// A file.
    File(String, Source),
    /// A symlink and its target.
    Symlink(String, String),
}

enum Segment {
    Bytes(Vec<u8>, usize),
    Content(Source),
}

/// The body; counts content bytes as they are sent (for a progress bar).
pub struct MultipartBody {
    boundary: String,
    segments: VecDeque<Segment>,
    open: Option<Box<dyn Read + Send>>,
    sent: Arc<AtomicU64>,
}

fn header(boundary: &str, name: &str, content_type: &str) -> Vec<u8> {
    format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n\
         Content-Type: {content_type}\r\n\r\n",
        percent_encode(name)
    )
    .into_bytes()
}

impl MultipartBody {
    /// A body of `parts`, in order.
    pub fn new(parts: Vec<Part>) -> Self {
        let boundary = format!(
            "wanda-{:016x}{:08x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0),
            std::process::id()
        );
        let mut segments = VecDeque::new();
        let mut first = true;
        for part in parts {
            let mut head = if first { Vec::new() } else { b"\r\n".to_vec() };
            first = false;
            match part {
                Part::Directory(name) => {
                    head.extend(header(&boundary, &name, "application/x-directory"));
                    segments.push_back(Segment::Bytes(head, 0));
                }
                Part::Symlink(name, target) => {
                    head.extend(header(&boundary, &name, "application/symlink"));
                    head.extend(target.into_bytes());
                    segments.push_back(Segment::Bytes(head, 0));
                }
                Part::File(name, source) => {
                    head.extend(header(&boundary, &name, "application/octet-stream"));
                    segments.push_back(Segment::Bytes(head, 0));
                    segments.push_back(Segment::Content(source));
                }
            }
        }
        let tail = if first {
            format!("--{boundary}--\r\n")
        } else {
            format!("\r\n--{boundary}--\r\n")
        };
        segments.push_back(Segment::Bytes(tail.into_bytes(), 0));
        MultipartBody {
            boundary,
            segments,
            open: None,
            sent: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The `Content-Type` header value.
    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    /// A counter of content bytes sent so far.
    pub fn sent(&self) -> Arc<AtomicU64> {
        self.sent.clone()
    }
}

impl Read for MultipartBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(reader) = self.open.as_mut() {
                let n = reader.read(buf)?;
                if n > 0 {
                    self.sent.fetch_add(n as u64, Ordering::Relaxed);
                    return Ok(n);
                }
                self.open = None;
            }
            match self.segments.front_mut() {
                None => return Ok(0),
                Some(Segment::Bytes(bytes, at)) => {
                    let n = (bytes.len() - *at).min(buf.len());
                    buf[..n].copy_from_slice(&bytes[*at..*at + n]);
                    *at += n;
                    if *at == bytes.len() {
                        self.segments.pop_front();
                    }
                    if n > 0 {
                        return Ok(n);
                    }
                }
                Some(Segment::Content(_)) => {
                    let Some(Segment::Content(source)) = self.segments.pop_front() else {
                        unreachable!("front was content");
                    };
                    self.open = Some(match source {
                        Source::Path(p) => Box::new(File::open(&p).map_err(|e| {
                            std::io::Error::new(e.kind(), format!("{}: {e}", p.display()))
                        })?),
                        Source::Stdin => Box::new(std::io::stdin()),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_framed_with_names_and_types() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x");
        std::fs::write(&f, b"DATA").unwrap();
        let mut body = MultipartBody::new(vec![
            Part::Directory("d".into()),
            Part::File("d/a b".into(), Source::Path(f)),
            Part::Symlink("d/l".into(), "a b".into()),
        ]);
        let b = body.boundary.clone();
        let mut out = String::new();
        body.read_to_string(&mut out).unwrap();
        assert!(out.starts_with(&format!("--{b}\r\n")));
        assert!(out.contains("filename=\"d\"\r\nContent-Type: application/x-directory\r\n\r\n"));
        assert!(out.contains(
            "filename=\"d%2Fa%20b\"\r\nContent-Type: application/octet-stream\r\n\r\nDATA\r\n"
        ));
        assert!(out.contains("Content-Type: application/symlink\r\n\r\na b\r\n"));
        assert!(out.ends_with(&format!("\r\n--{b}--\r\n")));
        assert_eq!(body.sent().load(Ordering::Relaxed), 4);
    }
}
