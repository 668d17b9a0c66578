//! The simulator's sky: a seeded star field rendered with Gaussian PSFs,
//! sky background, shot and read noise, hot pixels and drift trails.
//!
//! Rendering costs O(stars × PSF area) plus one noise sample per pixel:
//! each star touches only the pixels within 4σ of its (possibly trailed)
//! image. A trailed star is the exact pixel-integral of a Gaussian swept
//! along the x (right ascension) axis, so trails cost O(length × PSF width).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::noise::GaussianNoise;
use super::psf::{pixel_gauss, trail_profile};

/// Full-scale value of the simulated 12-bit sensor.
pub const FULL_SCALE_ADU: u16 = 4095;

/// Physical parameters of the simulated sky and sensor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkyModel {
    /// Mean number of stars per megapixel.
    pub stars_per_megapixel: f64,
    /// Faintest star flux, electrons per second.
    pub min_star_flux: f64,
    /// Brightest star flux, electrons per second.
    pub max_star_flux: f64,
    /// Gaussian PSF sigma in full-resolution pixels.
    pub psf_sigma_px: f64,
    /// Sky background, electrons per second per pixel.
    pub sky_e_per_s: f64,
    /// Read noise, electrons RMS.
    pub read_noise_e: f64,
    /// Hot pixels per megapixel.
    pub hot_pixels_per_megapixel: f64,
}

impl Default for SkyModel {
    fn default() -> Self {
        Self {
            stars_per_megapixel: 600.0,
            min_star_flux: 30.0,
            max_star_flux: 300_000.0,
            psf_sigma_px: 1.3,
            sky_e_per_s: 8.0,
            read_noise_e: 3.0,
            hot_pixels_per_megapixel: 100.0,
        }
    }
}

/// One star: position in full-resolution pixels and flux in electrons/s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Star {
    /// Column (x) at sky offset zero.
    pub x: f64,
    /// Row (y).
    pub y: f64,
    /// Flux, electrons per second.
    pub flux: f64,
}

/// A pixel with a high dark current.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HotPixel {
    /// Column.
    pub x: u32,
    /// Row.
    pub y: u32,
    /// Dark current, electrons per second.
    pub rate: f64,
}

/// How one frame is exposed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Exposure {
    /// Exposure time in seconds.
    pub seconds: f64,
    /// Analogue gain (ADU per electron).
    pub gain: f64,
    /// Sky offset along x at the start of the exposure, full-res pixels.
    pub offset_px: f64,
    /// How far the sky moves along x during the exposure (0 when tracking).
    pub trail_px: f64,
    /// Averaging bin factor (1 = full resolution; previews use more).
    pub bin: u32,
    /// Seed of the noise for this frame.
    pub noise_seed: u64,
}

/// A rendered 12-bit frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row-major samples, 0 ..= [`FULL_SCALE_ADU`].
    pub adu: Vec<u16>,
}

/// A deterministic star field: the same seed gives the same stars.
#[derive(Debug, Clone, PartialEq)]
pub struct StarField {
    /// Full-resolution width; the sky wraps around horizontally at this width.
    pub width: u32,
    /// Full-resolution height.
    pub height: u32,
    /// The stars.
    pub stars: Vec<Star>,
    /// The hot pixels.
    pub hot_pixels: Vec<HotPixel>,
    /// Sky and sensor model.
    pub model: SkyModel,
}

impl StarField {
    /// Generates the field for `seed` at the given resolution.
    pub fn generate(seed: u64, width: u32, height: u32, model: SkyModel) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let megapixels = f64::from(width) * f64::from(height) / 1e6;
        let n_stars = (megapixels * model.stars_per_megapixel).round() as usize;
        let stars = (0..n_stars)
            .map(|_| {
                let x = rng.random::<f64>() * f64::from(width);
                let y = rng.random::<f64>() * f64::from(height);
                // Power-law counts: many faint stars, few bright ones.
                let u = 1.0 - rng.random::<f64>();
                let flux = (model.min_star_flux * u.powf(-1.0 / 1.2)).min(model.max_star_flux);
                Star { x, y, flux }
            })
            .collect();
        let n_hot = (megapixels * model.hot_pixels_per_megapixel).round() as usize;
        let hot_pixels = (0..n_hot)
            .map(|_| HotPixel {
                x: rng.random_range(0..width),
                y: rng.random_range(0..height),
                rate: rng.random_range(500.0..5000.0),
            })
            .collect();
        Self {
            width,
            height,
            stars,
            hot_pixels,
            model,
        }
    }

    /// Renders one exposure: electrons from sky, stars and hot pixels, plus
    /// Poisson (Gaussian-approximated) shot noise and read noise, times gain,
    /// clipped to 12 bits.
    pub fn render(&self, exp: &Exposure) -> Frame {
        let bin = exp.bin.max(1);
        let ow = (self.width / bin).max(1);
        let oh = (self.height / bin).max(1);
        let binf = f64::from(bin);
        let t = exp.seconds;
        let mut electrons = vec![(self.model.sky_e_per_s * t) as f32; ow as usize * oh as usize];

        let sigma = self.model.psf_sigma_px / binf;
        let trail = exp.trail_px.max(0.0) / binf;
        let radius = (4.0 * sigma).ceil() + 1.0;
        let wrap = f64::from(self.width);
        let mut gy = Vec::new();
        let mut hx = Vec::new();
        for star in &self.stars {
            let xc = (star.x + exp.offset_px).rem_euclid(wrap) / binf;
            let yc = star.y / binf;
            let y0 = (yc - radius).floor().max(0.0) as i64;
            let y1 = ((yc + radius).ceil() as i64).min(i64::from(oh) - 1);
            if y1 < y0 {
                continue;
            }
            gy.clear();
            gy.extend((y0..=y1).map(|y| pixel_gauss(y as f64, yc, sigma)));
            let x0 = (xc - radius).floor() as i64;
            let x1 = (xc + trail + radius).ceil() as i64;
            trail_profile(&mut hx, x0, x1, xc, sigma, trail);
            let total = star.flux * t / (binf * binf);
            for (j, &wy) in gy.iter().enumerate() {
                let row = (y0 as usize + j) * ow as usize;
                let ty = total * wy;
                for (i, &wx) in hx.iter().enumerate() {
                    let col = (x0 + i as i64).rem_euclid(i64::from(ow)) as usize;
                    electrons[row + col] += (ty * wx) as f32;
                }
            }
        }
        for hot in &self.hot_pixels {
            let (x, y) = (hot.x / bin, hot.y / bin);
            if x < ow && y < oh {
                electrons[(y * ow + x) as usize] += (hot.rate * t / (binf * binf)) as f32;
            }
        }

        let mut noise = GaussianNoise::new(exp.noise_seed);
        let read_var = (self.model.read_noise_e * self.model.read_noise_e) as f32;
        let inv_bin = 1.0 / bin as f32;
        let gain = exp.gain as f32;
        let full = f32::from(FULL_SCALE_ADU);
        let adu = electrons
            .iter()
            .map(|&e| {
                let sd = (e.max(0.0) + read_var).sqrt() * inv_bin;
                let v = (e + sd * noise.next()) * gain;
                v.round().clamp(0.0, full) as u16
            })
            .collect();
        Frame {
            width: ow,
            height: oh,
            adu,
        }
    }
}

impl Frame {
    /// Mean sample value.
    pub fn mean(&self) -> f64 {
        self.adu.iter().map(|&v| f64::from(v)).sum::<f64>() / self.adu.len().max(1) as f64
    }

    /// 8-bit display pixels: linear scale by the night-vision gain, then the
    /// display gamma. Brighter raw data always gives brighter pixels.
    pub fn to_display(&self, night_vision_gain: f64) -> Vec<u8> {
        let gamma = 1.0 / super::image::DISPLAY_GAMMA;
        let lut: Vec<u8> = (0..=FULL_SCALE_ADU)
            .map(|v| {
                let lin = (f64::from(v) / f64::from(FULL_SCALE_ADU) * night_vision_gain).min(1.0);
                (255.0 * lin.powf(gamma)).round() as u8
            })
            .collect();
        self.adu.iter().map(|&v| lut[usize::from(v)]).collect()
    }

    /// Binary PGM (`P5`) with maxval 4095 and 16-bit big-endian samples.
    pub fn to_pgm16(&self) -> Vec<u8> {
        let header = format!("P5\n{} {}\n{}\n", self.width, self.height, FULL_SCALE_ADU);
        let mut out = Vec::with_capacity(header.len() + self.adu.len() * 2);
        out.extend_from_slice(header.as_bytes());
        for v in &self.adu {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_field_and_render() {
        let a = StarField::generate(42, 320, 240, SkyModel::default());
        let b = StarField::generate(42, 320, 240, SkyModel::default());
        let c = StarField::generate(43, 320, 240, SkyModel::default());
        assert_eq!(a, b);
        assert_ne!(a.stars, c.stars);
        assert_eq!(a.stars.len(), 46);
        let exp = Exposure {
            seconds: 2.0,
            gain: 1.0,
            offset_px: 0.0,
            trail_px: 0.0,
            bin: 1,
            noise_seed: 9,
        };
        assert_eq!(a.render(&exp), b.render(&exp));
    }

    #[test]
    fn binned_render_has_same_background_level() {
        let field = StarField::generate(1, 640, 480, SkyModel::default());
        let mut exp = Exposure {
            seconds: 10.0,
            gain: 2.0,
            offset_px: 0.0,
            trail_px: 0.0,
            bin: 1,
            noise_seed: 1,
        };
        let full = field.render(&exp);
        exp.bin = 4;
        let small = field.render(&exp);
        assert_eq!((small.width, small.height), (160, 120));
        let median = |f: &Frame| {
            let mut v = f.adu.clone();
            v.sort_unstable();
            f64::from(v[v.len() / 2])
        };
        let (mf, ms) = (median(&full), median(&small));
        assert!((mf - 160.0).abs() < 5.0, "full median {mf}");
        assert!((ms - 160.0).abs() < 5.0, "binned median {ms}");
    }

    #[test]
    fn pgm_header_and_size() {
        let frame = Frame {
            width: 3,
            height: 2,
            adu: vec![0, 1, 2, 4095, 256, 7],
        };
        let pgm = frame.to_pgm16();
        let header = b"P5\n3 2\n4095\n";
        assert_eq!(&pgm[..header.len()], header);
        assert_eq!(pgm.len(), header.len() + 12);
        assert_eq!(&pgm[header.len() + 6..header.len() + 8], &[0x0F, 0xFF]);
        let display = frame.to_display(1.0);
        assert_eq!(display[0], 0);
        assert_eq!(display[3], 255);
    }
}
