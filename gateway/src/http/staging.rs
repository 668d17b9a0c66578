//! Uploads are staged before they are imported: the request body goes to an unlinked file in
//! the repo's `staging/` folder first, and the handler then reads that file at disk speed. So
//! a client trickling an upload for minutes holds neither the datastore's single write
//! transaction nor an import guard (which GC waits for): captures, Bitswap storage, pins and
//! GC go on meanwhile. The staged bytes are bounded by the room left under
//! `storage.max_storage`; the file has no name, so nothing is left behind by a crash.

use super::limits::Refusal;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::StreamExt;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// Bytes drained from a refused body so the client sees the answer (then the connection closes).
const DRAIN_LIMIT: u64 = 256 << 20;
/// Read size when handing a staged file to the handler.
const READ_CHUNK: usize = 256 * 1024;

/// How a listener stages its uploads.
pub struct Staging {
    /// Where staged files are created (`None`: the system's temporary folder — tests only; on
    /// a Pi that can be RAM).
    pub dir: Option<PathBuf>,
    /// Bytes an upload may stage now (the room left under `storage.max_storage`); called on
    /// a blocking thread.
    pub room: Arc<dyn Fn() -> Result<u64, String> + Send + Sync>,
    /// Formats refusals.
    pub refuse: Refusal,
}

/// Why staging failed.
#[derive(Debug)]
pub enum StageError {
    /// The body is larger than the room left.
    TooLarge { room: u64 },
    /// Reading the body failed (cut off, too slow).
    Body(String),
    /// Writing the staging file failed.
    Io(std::io::Error),
}

impl Staging {
    fn temp_file(&self) -> std::io::Result<std::fs::File> {
        match &self.dir {
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                tempfile::tempfile_in(dir)
            }
            None => tempfile::tempfile(),
        }
    }

    /// Copies `body` into a new unlinked file, refusing more than `room` bytes; returns the
    /// file (rewound) and its length.
    pub async fn stage(
        &self,
        body: Body,
        room: u64,
    ) -> Result<(tokio::fs::File, u64), (StageError, Body)> {
        let file = match self.temp_file() {
            Ok(f) => f,
            Err(e) => return Err((StageError::Io(e), body)),
        };
        let mut file = tokio::fs::File::from_std(file);
        let mut stream = body.into_data_stream();
        let mut len = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => return Err((StageError::Body(e.to_string()), Body::empty())),
            };
            len += chunk.len() as u64;
            if len > room {
                return Err((StageError::TooLarge { room }, Body::from_stream(stream)));
            }
            if let Err(e) = file.write_all(&chunk).await {
                return Err((StageError::Io(e), Body::from_stream(stream)));
            }
        }
        let rewound = async {
            file.flush().await?;
            file.rewind().await?;
            Ok::<_, std::io::Error>(())
        };
        if let Err(e) = rewound.await {
            return Err((StageError::Io(e), Body::empty()));
        }
        Ok((file, len))
    }
}

/// A body streaming a staged file.
pub fn file_body(file: tokio::fs::File) -> Body {
    let stream = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; READ_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(stream)
}

/// Reads and drops up to [`DRAIN_LIMIT`] more bytes of a refused body, so a client that is
/// still sending reads the answer instead of a reset.
pub async fn drain(body: Body) {
    let mut stream = body.into_data_stream();
    let mut n = 0u64;
    while let Some(Ok(chunk)) = stream.next().await {
        n += chunk.len() as u64;
        if n > DRAIN_LIMIT {
            return;
        }
    }
}

/// The middleware: stages the body, then runs the handler over the staged file (with its
/// `Content-Length`). A declared length beyond the room is refused before anything is read.
pub async fn stage_body(State(staging): State<Arc<Staging>>, req: Request, next: Next) -> Response {
    let room_fn = staging.room.clone();
    let room = match tokio::task::spawn_blocking(move || room_fn()).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            return (staging.refuse)(StatusCode::INTERNAL_SERVER_ERROR, "STAGING_ERROR", e);
        }
        Err(e) => {
            return (staging.refuse)(
                StatusCode::INTERNAL_SERVER_ERROR,
                "STAGING_ERROR",
                e.to_string(),
            );
        }
    };
    let full = |room: u64| {
        (staging.refuse)(
            StatusCode::INSUFFICIENT_STORAGE,
            "STORAGE_FULL",
            format!("the upload does not fit: {room} bytes are left under storage.max_storage"),
        )
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (mut parts, body) = req.into_parts();
    if declared.is_some_and(|n| n > room) {
        tokio::spawn(drain(body));
        return full(room);
    }
    match staging.stage(body, room).await {
        Ok((file, len)) => {
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            parts.headers.remove(header::TRANSFER_ENCODING);
            next.run(Request::from_parts(parts, file_body(file))).await
        }
        Err((StageError::TooLarge { room }, rest)) => {
            tokio::spawn(drain(rest));
            full(room)
        }
        Err((StageError::Body(e), _)) => (staging.refuse)(
            StatusCode::BAD_REQUEST,
            "INVALID_REQUEST",
            format!("reading the request body: {e}"),
        ),
        Err((StageError::Io(e), rest)) => {
            tokio::spawn(drain(rest));
            let disk_full = e.raw_os_error() == Some(28);
            (staging.refuse)(
                if disk_full {
                    StatusCode::INSUFFICIENT_STORAGE
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                },
                if disk_full {
                    "STORAGE_FULL"
                } else {
                    "STAGING_ERROR"
                },
                format!("staging the upload: {e}"),
            )
        }
    }
}
