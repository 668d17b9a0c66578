//! A node on 127.0.0.1 for gateway tests that need the network.

use wanda_node::net::{NetConfig, NodeHandle, start};
use wanda_node::store::Blockstore;

/// A fresh store in `dir` and a node on loopback serving it.
pub async fn node(dir: &tempfile::TempDir) -> (Blockstore, NodeHandle) {
    let store = Blockstore::open(&dir.path().join("ds.redb")).unwrap();
    let key = libp2p::identity::Keypair::generate_ed25519();
    let (handle, _task) = start(key, NetConfig::loopback(), store.clone())
        .await
        .unwrap();
    (store, handle)
}
