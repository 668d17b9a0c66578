//! Pixel-integrated point-spread functions: a Gaussian star, and a Gaussian
//! swept along x (a star trail), both exact up to the erf approximation.

/// Fraction of a unit Gaussian at `c` (sigma `s`) falling in pixel `[p, p+1)`.
pub(crate) fn pixel_gauss(p: f64, c: f64, s: f64) -> f64 {
    phi((p + 1.0 - c) / s) - phi((p - c) / s)
}

/// Fraction of a Gaussian swept uniformly from `c` to `c + len` that falls
/// in each pixel `[p, p+1)` for `p` in `x0..=x1`, written to `out`: the
/// exact integral, via G(z) = zΦ(z) + φ(z) evaluated once per pixel edge.
pub(crate) fn trail_profile(out: &mut Vec<f64>, x0: i64, x1: i64, c: f64, s: f64, len: f64) {
    out.clear();
    if len < 1e-6 {
        out.extend((x0..=x1).map(|p| pixel_gauss(p as f64, c, s)));
        return;
    }
    let l = len / s;
    let edge = |p: i64| {
        let z = (p as f64 - c) / s;
        big_g(z) - big_g(z - l)
    };
    let mut left = edge(x0);
    for p in x0..=x1 {
        let right = edge(p + 1);
        out.push((s / len) * (right - left));
        left = right;
    }
}

/// Fraction of the swept Gaussian in one pixel (see [`trail_profile`]).
#[cfg(test)]
fn pixel_trail(p: f64, c: f64, s: f64, len: f64) -> f64 {
    let mut out = Vec::new();
    trail_profile(&mut out, p as i64, p as i64, c, s, len);
    out[0]
}

/// G(z) = ∫Φ = zΦ(z) + φ(z); exactly z or 0 far from the centre.
fn big_g(z: f64) -> f64 {
    if z > 9.0 {
        z
    } else if z < -9.0 {
        0.0
    } else {
        z * phi(z) + pdf(z)
    }
}

/// Standard normal density.
fn pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal cumulative distribution.
fn phi(z: f64) -> f64 {
    if z > 9.0 {
        return 1.0;
    }
    if z < -9.0 {
        return 0.0;
    }
    0.5 * (1.0 + erf(z / std::f64::consts::SQRT_2))
}

/// Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7).
fn erf(x: f64) -> f64 {
    let sign = if x < 0.0 { -1.0 } else { 1.0 };
    let x = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    sign * (1.0 - poly * (-x * x).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psf_integrals_conserve_flux() {
        let sum: f64 = (-10..=10).map(|p| pixel_gauss(p as f64, 0.3, 1.3)).sum();
        assert!((sum - 1.0).abs() < 1e-6, "{sum}");
        let sum: f64 = (-10..=60)
            .map(|p| pixel_trail(p as f64, 0.3, 1.3, 40.0))
            .sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
        let tiny: f64 = (-5..=5).map(|p| pixel_gauss(p as f64, 0.5, 0.2)).sum();
        assert!((tiny - 1.0).abs() < 1e-6, "{tiny}");
    }
}
