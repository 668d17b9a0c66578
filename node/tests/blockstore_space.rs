//! Space on disk stays ≤ 1.10 × the bytes of the stored blocks after importing 1 GiB of random
//! data (redb would otherwise put each 256 KiB block in a 512 KiB page).

use rand::RngCore;
use wanda_node::store::Blockstore;
use wanda_node::unixfs::{AddEvent, AddOptions, Importer, StoreSink};

struct Random(u64, rand::rngs::StdRng);

impl std::io::Read for Random {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.0) as usize;
        self.1.fill_bytes(&mut buf[..n]);
        self.0 -= n as u64;
        Ok(n)
    }
}

#[test]
fn one_gib_of_random_data_costs_at_most_ten_percent_overhead() {
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ds.redb");
    let store = Blockstore::open(&path).unwrap();
    let mut sink = StoreSink::new(&store).unwrap();
    let mut ev = |_: AddEvent<'_>| {};
    let input = Random(1 << 30, rand::rngs::StdRng::seed_from_u64(7));
    Importer::new(AddOptions::default(), &mut sink, &mut ev)
        .unwrap()
        .add_stream(input, None)
        .unwrap();
    sink.finish(None).unwrap();
    let stats = store.stats().unwrap();
    assert!(stats.block_bytes > 1 << 30, "leaves plus branch nodes");
    // Space on disk = allocated blocks: redb extends the file ahead of use (doubling up to 4 GiB),
    // and that unused tail is sparse.
    let ratio = stats.disk_bytes as f64 / stats.block_bytes as f64;
    println!(
        "blocks {} bytes in {} blocks, on disk {} bytes (file length {}), ratio {ratio:.4}",
        stats.block_bytes, stats.num_blocks, stats.disk_bytes, stats.file_bytes
    );
    assert!(ratio <= 1.10, "disk/blocks ratio {ratio:.4} > 1.10");
}
