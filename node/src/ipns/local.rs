//! This node's own published IPNS records, kept in the datastore so the next sequence number
//! survives restarts and own names resolve without the network.

use crate::error::Result;
use crate::store::Blockstore;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

use super::name::IpnsName;

/// Own IPNS records: name (peer id bytes) → serialized record (the last one published).
const LOCAL_RECORDS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("ipns_local_records");

/// The records this node published, one per name.
#[derive(Clone)]
pub struct LocalRecords {
    store: Blockstore,
}

impl LocalRecords {
    /// Records kept in `store`'s datastore.
    pub fn new(store: Blockstore) -> Self {
        LocalRecords { store }
    }

    /// The last record published for `name`, if any.
    pub fn get(&self, name: &IpnsName) -> Result<Option<Vec<u8>>> {
        let txn = self.store.db().begin_read()?;
        let table = match txn.open_table(LOCAL_RECORDS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(table
            .get(name.to_bytes().as_slice())?
            .map(|v| v.value().to_vec()))
    }

    /// Replaces the record of `name` (durably).
    pub fn put(&self, name: &IpnsName, record: &[u8]) -> Result<()> {
        let txn = self.store.begin_durable_write()?;
        {
            let mut table = txn.open_table(LOCAL_RECORDS)?;
            table.insert(name.to_bytes().as_slice(), record)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Every stored record, with its name.
    pub fn all(&self) -> Result<Vec<(IpnsName, Vec<u8>)>> {
        let txn = self.store.db().begin_read()?;
        let table = match txn.open_table(LOCAL_RECORDS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut out = Vec::new();
        for row in table.iter()? {
            let (k, v) = row?;
            if let Ok(peer) = libp2p_identity::PeerId::from_bytes(k.value()) {
                out.push((IpnsName::from_peer_id(peer), v.value().to_vec()));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_persist_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ds.redb");
        let name =
            IpnsName::from_public_key(&libp2p_identity::Keypair::generate_ed25519().public());
        {
            let recs = LocalRecords::new(Blockstore::open(&path).unwrap());
            assert_eq!(recs.get(&name).unwrap(), None);
            assert!(recs.all().unwrap().is_empty());
            recs.put(&name, b"one").unwrap();
            recs.put(&name, b"two").unwrap();
        }
        let recs = LocalRecords::new(Blockstore::open(&path).unwrap());
        assert_eq!(recs.get(&name).unwrap().as_deref(), Some(&b"two"[..]));
        assert_eq!(recs.all().unwrap(), vec![(name, b"two".to_vec())]);
    }
}
