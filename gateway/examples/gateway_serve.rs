//! Serves a throwaway repo through the gateway on 127.0.0.1 (for benchmarks):
//! `gateway_serve PORT SIZE_MIB`: imports SIZE_MIB of deterministic bytes as a UnixFS file
//! (default import options), prints its CID, then serves `/ipfs/*` until killed.

use std::io::Read;
use std::sync::Arc;
use wanda_gateway::gateway::{GatewayContext, router};
use wanda_node::store::Blockstore;
use wanda_node::unixfs::{AddOptions, Importer, StoreSink};

/// Deterministic pseudo-random bytes (xorshift), `n` of them.
struct Bytes(u64, u64);

impl Read for Bytes {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1 as usize);
        for b in &mut buf[..n] {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = self.0 as u8;
        }
        self.1 -= n as u64;
        Ok(n)
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(8089);
    let mib: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Blockstore::open(&dir.path().join("ds.redb")).expect("store");
    let mut sink = StoreSink::new(&store).expect("sink");
    let mut events = |_: wanda_node::unixfs::AddEvent<'_>| {};
    let file = {
        let mut imp =
            Importer::new(AddOptions::default(), &mut sink, &mut events).expect("importer");
        imp.import_stream(Bytes(0x9e3779b97f4a7c15, mib << 20))
            .expect("import")
    };
    sink.finish(None).expect("finish");
    println!("{}", file.cid);
    let app = router(Arc::new(GatewayContext::local(store)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
