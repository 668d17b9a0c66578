//! `add`: Kubo's multipart import. Streams `{"Name","Hash","Size"}` per entry (and
//! `{"Name","Bytes"}` progress with `progress=true`), with the same CIDs as `wanda add`.

use super::RpcContext;
use super::error::{RpcError, RpcResult};
use super::multipart::{checked_upload, entries};
use super::params::{flag, number, opt_flag, value};
use super::stream::{Emitter, Kind, respond};
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Query, State};
use axum::response::Response;
use serde_json::json;
use std::cell::RefCell;
use std::sync::Arc;
use wanda_node::store::{PinMode, PinRecord};
use wanda_node::unixfs::{
    AddEvent, AddOptions, BlockSink, EntryKind, EntrySource, HashOnlySink, Importer, StoreSink,
};

/// Import options from the query (Kubo's names and defaults).
fn options(q: &[(String, String)]) -> RpcResult<AddOptions> {
    if let Some(h) = value(q, "hash").filter(|h| *h != "sha2-256") {
        return Err(RpcError::bad_request(format!(
            "hash function \"{h}\" is not supported (sha2-256)"
        )));
    }
    if flag(q, "inline", false)? || flag(q, "nocopy", false)? {
        return Err(RpcError::bad_request("inline and nocopy are not supported"));
    }
    let opts = AddOptions {
        cid_version: number::<u8>(q, "cid-version")?.unwrap_or(0),
        raw_leaves: opt_flag(q, "raw-leaves")?,
        chunk_size: AddOptions::parse_chunker(value(q, "chunker").unwrap_or("size-262144"))?,
        trickle: flag(q, "trickle", false)?,
        wrap: flag(q, "wrap-with-directory", false)?,
        hidden: flag(q, "hidden", false)?,
        only_hash: flag(q, "only-hash", false)?,
        pin: flag(q, "pin", true)?,
        ..AddOptions::default()
    };
    opts.validate()?;
    Ok(opts)
}

/// `POST /api/v0/add` with a multipart body. Options: `cid-version`, `raw-leaves`, `chunker`,
/// `trickle`, `wrap-with-directory`, `only-hash`, `pin`, `progress`, `silent`, `hash`
/// (sha2-256 only); `quiet`/`quieter` are accepted and change nothing (clients filter).
pub async fn add(
    State(ctx): State<Arc<RpcContext>>,
    Query(q): Query<Vec<(String, String)>>,
    multipart: Result<Multipart, MultipartRejection>,
) -> RpcResult<Response> {
    let checked = (|| {
        let opts = options(&q)?;
        let progress = flag(&q, "progress", false)?;
        let silent = flag(&q, "silent", false)?;
        flag(&q, "quiet", false)?;
        flag(&q, "quieter", false)?;
        Ok((opts, progress, silent))
    })();
    let ((opts, progress, silent), multipart) = checked_upload(checked, multipart).await?;
    let (mut src, read_error) = entries(multipart);
    let store = ctx.store.clone();
    respond(Kind::Ndjson, move |out| {
        let outcome = if opts.only_hash {
            import(&opts, &mut HashOnlySink, &mut src, out, progress, silent)
        } else {
            let mut sink = StoreSink::new(&store)?;
            let root = import(&opts, &mut sink, &mut src, out, progress, silent);
            match root {
                Ok(root) => {
                    let pin = opts.pin.then_some((
                        root,
                        PinRecord {
                            mode: PinMode::Recursive,
                            name: None,
                        },
                    ));
                    sink.finish(pin)?;
                    Ok(root)
                }
                Err(e) => Err(e),
            }
        };
        match outcome {
            Ok(_) => Ok(()),
            Err(e) => Err(read_error.take().unwrap_or(e)),
        }
    })
    .await
}

/// Records the name of the entry being read, for progress events.
struct Named<'a> {
    inner: &'a mut dyn EntrySource,
    current: &'a RefCell<(String, u64)>,
}

impl EntrySource for Named<'_> {
    fn next_entry(&mut self) -> wanda_node::Result<Option<(String, EntryKind)>> {
        let next = self.inner.next_entry()?;
        if let Some((name, _)) = &next {
            *self.current.borrow_mut() = (name.trim_matches('/').to_string(), 0);
        }
        Ok(next)
    }

    fn content(&mut self) -> &mut dyn std::io::Read {
        self.inner.content()
    }
}

fn import(
    opts: &AddOptions,
    sink: &mut dyn BlockSink,
    src: &mut dyn EntrySource,
    out: &mut Emitter,
    progress: bool,
    silent: bool,
) -> RpcResult<cid::Cid> {
    let current = RefCell::new((String::new(), 0u64));
    let mut sent: RpcResult<()> = Ok(());
    let mut on_event = |ev: AddEvent<'_>| {
        if sent.is_err() || silent {
            return;
        }
        sent = match ev {
            AddEvent::Bytes(n) if progress => {
                let mut cur = current.borrow_mut();
                cur.1 += n;
                out.json(&json!({"Name": cur.0, "Bytes": cur.1}))
            }
            AddEvent::Bytes(_) => Ok(()),
            AddEvent::Added { path, cid, size } => {
                out.json(&json!({"Name": path, "Hash": cid.to_string(), "Size": size.to_string()}))
            }
        };
    };
    let mut named = Named {
        inner: src,
        current: &current,
    };
    let root = {
        let mut importer = Importer::new(opts.clone(), sink, &mut on_event)?;
        importer.add_entries(&mut named)?
    };
    sent?;
    Ok(root)
}
