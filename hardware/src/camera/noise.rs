//! Fast seeded Gaussian noise for the simulator.

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// Number of entries in the Gaussian quantile table (16-bit index).
const NOISE_TABLE_LEN: usize = 1 << 16;

/// Standard normal quantiles at `(i + ½) / 2¹⁶`: a sample is one table
/// lookup with a 16-bit random index (tails truncated at ±4.3σ), four
/// samples per 64-bit draw of the seeded RNG.
fn noise_table() -> &'static [f32] {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0..NOISE_TABLE_LEN)
            .map(|i| inverse_normal_cdf((i as f64 + 0.5) / NOISE_TABLE_LEN as f64) as f32)
            .collect()
    })
}

/// Acklam's rational approximation of the normal quantile (|rel err| < 1.2e-9).
fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// Standard normal samples from a seeded RNG via [`noise_table`].
pub(crate) struct GaussianNoise {
    rng: StdRng,
    table: &'static [f32],
    bits: u64,
    left: u32,
}

impl GaussianNoise {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            table: noise_table(),
            bits: 0,
            left: 0,
        }
    }

    pub(crate) fn next(&mut self) -> f32 {
        if self.left == 0 {
            self.bits = self.rng.next_u64();
            self.left = 4;
        }
        let index = (self.bits & 0xFFFF) as usize;
        self.bits >>= 16;
        self.left -= 1;
        self.table[index]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_standard_normal() {
        let mut n = GaussianNoise::new(7);
        let xs: Vec<f64> = (0..200_000).map(|_| f64::from(n.next())).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "var {var}");
        assert!((inverse_normal_cdf(0.975) - 1.959_964).abs() < 1e-5);
        assert!((inverse_normal_cdf(0.001) + 3.090_232).abs() < 1e-5);
    }
}
