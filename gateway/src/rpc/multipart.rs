//! Kubo's multipart request bodies (`add`, `block/put`, `dag/import`), read on the async side and
//! handed to blocking importers as entries with `std::io::Read` contents.
//!
//! Each part is one entry. Its name is the `filename` of `Content-Disposition` (percent-decoded,
//! `/`-separated, as Kubo's clients send it); its kind is the part's `Content-Type`:
//! `application/x-directory` (a directory), `application/symlink` (a symlink; the body is the
//! target), anything else a file whose body is the content.

use super::error::{RpcError, RpcResult};
use axum::body::Bytes;
use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use std::io::Read;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use wanda_node::unixfs::{EntryKind, EntrySource};

/// Longest symlink target accepted.
const MAX_SYMLINK: usize = 4096;

enum Msg {
    Entry(String, EntryKind),
    Data(Bytes),
    End,
}

/// The first error the async reader met, if any (reported instead of the importer's I/O error).
#[derive(Clone, Default)]
pub struct ReadError(Arc<Mutex<Option<String>>>);

impl ReadError {
    fn set(&self, message: String) {
        let mut slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(message);
    }

    /// The error as a 400, if the body was malformed.
    pub fn take(&self) -> Option<RpcError> {
        let slot = self.0.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref()
            .map(|m| RpcError::bad_request(format!("reading the request body: {m}")))
    }
}

/// The blocking end: entries in request order.
pub struct Entries {
    rx: mpsc::Receiver<Msg>,
    current: Option<Bytes>,
    in_file: bool,
    error: ReadError,
}

/// The upload of a request whose query was `checked`: when the query is bad the upload is read
/// (and dropped) before the error is returned, so a client still writing it gets the error
/// instead of a broken pipe.
pub async fn checked_upload<T>(
    checked: RpcResult<T>,
    multipart: Result<Multipart, MultipartRejection>,
) -> RpcResult<(T, Multipart)> {
    match (checked, multipart) {
        (Ok(v), Ok(m)) => Ok((v, m)),
        (Ok(_), Err(e)) => Err(RpcError::bad_request(e.body_text())),
        (Err(e), Ok(mut m)) => {
            // bounded by the body limit
            while let Ok(Some(mut field)) = m.next_field().await {
                while let Ok(Some(_)) = field.chunk().await {}
            }
            Err(e)
        }
        (Err(e), Err(_)) => Err(e),
    }
}

/// Starts reading `multipart` on the runtime; returns the blocking end and its error slot.
pub fn entries(mut multipart: Multipart) -> (Entries, ReadError) {
    let (tx, rx) = mpsc::channel(8);
    let error = ReadError::default();
    let slot = error.clone();
    tokio::spawn(async move {
        if let Err(e) = pump(&mut multipart, &tx).await {
            slot.set(e);
        }
    });
    let entries = Entries {
        rx,
        current: None,
        in_file: false,
        error: error.clone(),
    };
    (entries, error)
}

async fn pump(multipart: &mut Multipart, tx: &mpsc::Sender<Msg>) -> Result<(), String> {
    while let Some(mut field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        let name = percent_decode(field.file_name().unwrap_or_default())?;
        let kind = match field.content_type().unwrap_or_default() {
            "application/x-directory" => EntryKind::Directory,
            "application/symlink" => {
                let mut target = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(|e| e.body_text())? {
                    target.extend_from_slice(&chunk);
                    if target.len() > MAX_SYMLINK {
                        return Err(format!("symlink {name}: target longer than {MAX_SYMLINK}"));
                    }
                }
                let target = String::from_utf8(target)
                    .map_err(|_| format!("symlink {name}: target is not UTF-8"))?;
                EntryKind::Symlink(target)
            }
            _ => EntryKind::File,
        };
        let is_file = kind == EntryKind::File;
        if tx.send(Msg::Entry(name, kind)).await.is_err() {
            return Ok(());
        }
        if is_file {
            while let Some(chunk) = field.chunk().await.map_err(|e| e.body_text())? {
                if tx.send(Msg::Data(chunk)).await.is_err() {
                    return Ok(());
                }
            }
            if tx.send(Msg::End).await.is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes (Kubo's clients escape `/` and other bytes in file names).
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("file name `{s}` has a bad %-escape"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("file name `{s}` is not UTF-8"))
}

impl Entries {
    /// Skips what is left of the current file.
    fn finish_file(&mut self) {
        while self.in_file {
            match self.rx.blocking_recv() {
                Some(Msg::Data(_)) => {}
                _ => self.in_file = false,
            }
        }
        self.current = None;
    }

    /// The next file part as (name, reader over its bytes); directories and symlinks are
    /// refused (for `block/put` and `dag/import`).
    pub fn next_file(&mut self) -> RpcResult<Option<String>> {
        match self.next_entry()? {
            None => Ok(None),
            Some((name, EntryKind::File)) => Ok(Some(name)),
            Some((name, _)) => Err(RpcError::bad_request(format!(
                "part `{name}` is a directory or symlink; this command takes files"
            ))),
        }
    }
}

impl EntrySource for Entries {
    fn next_entry(&mut self) -> wanda_node::Result<Option<(String, EntryKind)>> {
        self.finish_file();
        loop {
            match self.rx.blocking_recv() {
                None => {
                    return match self.error.take() {
                        Some(e) => Err(wanda_node::Error::InvalidInput(e.message().to_string())),
                        None => Ok(None),
                    };
                }
                Some(Msg::Entry(name, kind)) => {
                    self.in_file = kind == EntryKind::File;
                    return Ok(Some((name, kind)));
                }
                Some(_) => {}
            }
        }
    }

    fn content(&mut self) -> &mut dyn Read {
        self
    }
}

impl Read for Entries {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if let Some(cur) = self.current.as_mut().filter(|c| !c.is_empty()) {
                let n = cur.len().min(buf.len());
                buf[..n].copy_from_slice(&cur[..n]);
                let _ = cur.split_to(n);
                return Ok(n);
            }
            if !self.in_file {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Msg::Data(bytes)) => self.current = Some(bytes),
                Some(Msg::End) => {
                    self.in_file = false;
                    return Ok(0);
                }
                Some(Msg::Entry(..)) | None => {
                    self.in_file = false;
                    let why = self
                        .error
                        .take()
                        .map(|e| e.message().to_string())
                        .unwrap_or_else(|| "the request body ended inside a file".into());
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn file_names_are_percent_decoded() {
        assert_eq!(percent_decode("dir%2Fsub%20x").unwrap(), "dir/sub x");
        assert_eq!(percent_decode("plain").unwrap(), "plain");
        assert!(percent_decode("bad%zz").is_err());
        assert!(percent_decode("cut%2").is_err());
    }
}
