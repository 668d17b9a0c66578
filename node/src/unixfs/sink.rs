//! Where imported blocks go: the store (through a writer thread) or nowhere (`--only-hash`).

use crate::error::{Error, Result};
use crate::store::{BlockWriter, Blockstore, PinRecord};
use cid::Cid;
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Receives the blocks an import produces.
pub trait BlockSink {
    /// Takes one block.
    fn put(&mut self, cid: &Cid, data: Vec<u8>) -> Result<()>;

    /// Whether the sink keeps what it is given. When false, importers skip `put` for leaf
    /// blocks (the bulk of the bytes) and reuse their buffers; branch blocks are still put.
    fn keeps_blocks(&self) -> bool {
        true
    }
}

/// Discards blocks (`--only-hash`).
#[derive(Debug, Default)]
pub struct HashOnlySink;

impl BlockSink for HashOnlySink {
    fn put(&mut self, _: &Cid, _: Vec<u8>) -> Result<()> {
        Ok(())
    }

    fn keeps_blocks(&self) -> bool {
        false
    }
}

/// Writes blocks to the store on a separate thread so hashing and writing overlap.
pub struct StoreSink {
    tx: Option<SyncSender<(Cid, Vec<u8>)>>,
    handle: Option<JoinHandle<Result<BlockWriter>>>,
}

impl StoreSink {
    /// Starts the writer thread.
    pub fn new(store: &Blockstore) -> Result<Self> {
        let mut writer = store.writer()?;
        let (tx, rx) = sync_channel::<(Cid, Vec<u8>)>(32);
        let handle = std::thread::Builder::new()
            .name("wanda-block-writer".into())
            .spawn(move || {
                for (cid, data) in rx {
                    writer.put(&cid, &data)?;
                }
                Ok(writer)
            })
            .map_err(Error::IoBare)?;
        Ok(StoreSink {
            tx: Some(tx),
            handle: Some(handle),
        })
    }

    fn join(&mut self) -> Result<BlockWriter> {
        self.tx = None;
        match self.handle.take() {
            Some(h) => h
                .join()
                .map_err(|_| Error::Store("block writer thread panicked".into()))?,
            None => Err(Error::Store("block writer already finished".into())),
        }
    }

    /// Waits for every block to be written, records `pin` in the same transaction and makes it
    /// all durable. Returns (new blocks, new bytes).
    pub fn finish(mut self, pin: Option<(Cid, PinRecord)>) -> Result<(u64, u64)> {
        let mut writer = self.join()?;
        if let Some((cid, record)) = pin {
            writer.pin(&cid, &record)?;
        }
        let counts = (writer.new_blocks(), writer.new_bytes());
        writer.finish()?;
        Ok(counts)
    }
}

impl BlockSink for StoreSink {
    fn put(&mut self, cid: &Cid, data: Vec<u8>) -> Result<()> {
        let sent = match &self.tx {
            Some(tx) => tx.send((*cid, data)).is_ok(),
            None => false,
        };
        if sent {
            return Ok(());
        }
        // The writer thread stopped early: report its error.
        match self.join() {
            Err(e) => Err(e),
            Ok(_) => Err(Error::Store("block writer stopped".into())),
        }
    }
}
