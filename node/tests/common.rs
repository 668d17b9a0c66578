//! Shared helpers for the node's integration tests.
#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::io::Read;

/// Deterministic test bytes: SHA-256(seed ‖ u64_le(k)) for k = 0, 1, … truncated to `n` bytes
/// (the same scheme as tests/vectors/gen.mjs).
pub struct SeedBytes {
    seed: Vec<u8>,
    counter: u64,
    block: [u8; 32],
    pos: usize,
    remaining: u64,
}

impl SeedBytes {
    pub fn new(seed: &str, n: u64) -> Self {
        SeedBytes {
            seed: seed.as_bytes().to_vec(),
            counter: 0,
            block: [0; 32],
            pos: 32,
            remaining: n,
        }
    }
}

impl Read for SeedBytes {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut written = 0;
        while written < buf.len() && self.remaining > 0 {
            if self.pos == 32 {
                let mut h = Sha256::new();
                h.update(&self.seed);
                h.update(self.counter.to_le_bytes());
                self.block = h.finalize().into();
                self.counter += 1;
                self.pos = 0;
            }
            let take = (32 - self.pos)
                .min(buf.len() - written)
                .min(self.remaining as usize);
            buf[written..written + take].copy_from_slice(&self.block[self.pos..self.pos + take]);
            self.pos += take;
            written += take;
            self.remaining -= take as u64;
        }
        Ok(written)
    }
}

/// All of `seed_bytes(seed, n)` in memory.
pub fn seed_bytes(seed: &str, n: u64) -> Vec<u8> {
    let mut v = Vec::with_capacity(n as usize);
    SeedBytes::new(seed, n).read_to_end(&mut v).unwrap();
    v
}
