//! Pin records stored in the datastore (recursive and direct; indirect pins are derived).

use super::tables::PINS;
use crate::error::{Error, Result};
use cid::Cid;
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use serde::{Deserialize, Serialize};

/// How a CID is pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PinMode {
    /// The CID and every block below it are kept.
    Recursive,
    /// Only the block itself is kept.
    Direct,
}

/// A stored pin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinRecord {
    /// Recursive or direct.
    pub mode: PinMode,
    /// Optional human name (Kubo's `--name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

pub(super) fn put_pin(txn: &WriteTransaction, cid: &Cid, record: &PinRecord) -> Result<()> {
    let bytes = serde_json::to_vec(record).map_err(|e| Error::Store(e.to_string()))?;
    let key = cid.to_bytes();
    let mut pins = txn.open_table(PINS)?;
    // A recursive pin supersedes a direct one; a direct pin never downgrades a recursive one.
    if record.mode == PinMode::Direct
        && let Some(existing) = pins.get(key.as_slice())?
        && decode(existing.value())?.mode == PinMode::Recursive
    {
        return Ok(());
    }
    pins.insert(key.as_slice(), bytes.as_slice())?;
    Ok(())
}

fn decode(bytes: &[u8]) -> Result<PinRecord> {
    serde_json::from_slice(bytes).map_err(|e| Error::Store(format!("bad pin record: {e}")))
}

impl super::Blockstore {
    /// Adds or updates a pin (durably).
    pub fn put_pin(&self, cid: &Cid, record: &PinRecord) -> Result<()> {
        let txn = self.begin_durable_write()?;
        put_pin(&txn, cid, record)?;
        txn.commit()?;
        Ok(())
    }

    /// Removes a pin; returns the removed record.
    pub fn remove_pin(&self, cid: &Cid) -> Result<Option<PinRecord>> {
        let txn = self.begin_durable_write()?;
        let removed = {
            let mut pins = txn.open_table(PINS)?;
            let removed = pins.remove(cid.to_bytes().as_slice())?;
            removed.map(|g| decode(g.value())).transpose()?
        };
        txn.commit()?;
        Ok(removed)
    }

    /// The pin stored for exactly this CID.
    pub fn get_pin(&self, cid: &Cid) -> Result<Option<PinRecord>> {
        let txn = self.db().begin_read()?;
        let pins = txn.open_table(PINS)?;
        pins.get(cid.to_bytes().as_slice())?
            .map(|g| decode(g.value()))
            .transpose()
    }

    /// Every stored pin (recursive and direct), in key order.
    pub fn list_pins(&self) -> Result<Vec<(Cid, PinRecord)>> {
        let txn = self.db().begin_read()?;
        let pins = txn.open_table(PINS)?;
        let mut out = Vec::new();
        for row in pins.iter()? {
            let (k, v) = row?;
            let cid =
                Cid::try_from(k.value()).map_err(|e| Error::Store(format!("bad pin key: {e}")))?;
            out.push((cid, decode(v.value())?));
        }
        Ok(out)
    }
}
