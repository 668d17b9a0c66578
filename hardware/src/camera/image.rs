//! Pixel helpers shared by the drivers: JPEG encoding, night-vision gain,
//! YUYV→RGB conversion.

use jpeg_encoder::{ColorType, Encoder};

use super::CameraError;

/// Display gamma used to turn linear sensor values into 8-bit pixels.
pub(crate) const DISPLAY_GAMMA: f64 = 2.2;

/// Encodes 8-bit pixels as a baseline JPEG. `channels` is 1 (grey) or 3 (RGB).
pub fn encode_jpeg(
    pixels: &[u8],
    width: u32,
    height: u32,
    channels: u8,
    quality: u8,
) -> Result<Vec<u8>, CameraError> {
    let color = match channels {
        1 => ColorType::Luma,
        3 => ColorType::Rgb,
        n => return Err(CameraError::Image(format!("{n} channels not supported"))),
    };
    let (w, h) = match (u16::try_from(width), u16::try_from(height)) {
        (Ok(w), Ok(h)) => (w, h),
        _ => {
            return Err(CameraError::Image(format!(
                "{width}x{height} is too large for JPEG"
            )));
        }
    };
    let mut out = Vec::with_capacity(pixels.len() / 8);
    Encoder::new(&mut out, quality)
        .encode(pixels, w, h, color)
        .map_err(|e| CameraError::Image(e.to_string()))?;
    Ok(out)
}

/// A decoded 8-bit image: width, height, channels (1 or 3) and pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub width: u32,
    pub height: u32,
    pub channels: u8,
    pub pixels: Vec<u8>,
}

/// Decodes a greyscale or RGB JPEG.
pub(crate) fn decode_jpeg(jpeg: &[u8]) -> Result<Decoded, CameraError> {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    let pixels = decoder
        .decode()
        .map_err(|e| CameraError::Image(format!("cannot decode JPEG: {e}")))?;
    let info = decoder
        .info()
        .ok_or_else(|| CameraError::Image("JPEG has no header".into()))?;
    let channels = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        other => {
            return Err(CameraError::Image(format!(
                "unsupported JPEG pixel format {other:?}"
            )));
        }
    };
    Ok(Decoded {
        width: u32::from(info.width),
        height: u32::from(info.height),
        channels,
        pixels,
    })
}

/// Width and height from a JPEG's headers, without decoding pixels.
pub(crate) fn jpeg_dimensions(jpeg: &[u8]) -> Option<(u32, u32)> {
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    decoder.read_info().ok()?;
    decoder
        .info()
        .map(|i| (u32::from(i.width), u32::from(i.height)))
}

/// Lookup table applying a digital gain in linear light to gamma-encoded
/// 8-bit values: `out = 255 · min(1, gain · (v/255)^γ)^(1/γ)`.
pub(crate) fn digital_gain_lut(gain: f64) -> [u8; 256] {
    let mut lut = [0u8; 256];
    for (v, slot) in lut.iter_mut().enumerate() {
        let linear = (v as f64 / 255.0).powf(DISPLAY_GAMMA) * gain;
        *slot = (255.0 * linear.min(1.0).powf(1.0 / DISPLAY_GAMMA)).round() as u8;
    }
    lut
}

/// Applies the night-vision digital gain to a JPEG: decode, brighten every
/// channel in linear light (clipping at white), re-encode at `quality`.
/// A gain of 1.0 returns the input unchanged.
pub fn apply_digital_gain_jpeg(
    jpeg: &[u8],
    gain: f64,
    quality: u8,
) -> Result<Vec<u8>, CameraError> {
    if (gain - 1.0).abs() < 1e-9 {
        return Ok(jpeg.to_vec());
    }
    let mut img = decode_jpeg(jpeg)?;
    let lut = digital_gain_lut(gain);
    for p in &mut img.pixels {
        *p = lut[usize::from(*p)];
    }
    encode_jpeg(&img.pixels, img.width, img.height, img.channels, quality)
}

/// Converts packed YUYV 4:2:2 (BT.601, limited range) to RGB24.
/// `data` must hold `width × height × 2` bytes and `width` must be even.
pub fn yuyv_to_rgb(data: &[u8], width: u32, height: u32) -> Result<Vec<u8>, CameraError> {
    let pixels = width as usize * height as usize;
    if !width.is_multiple_of(2) || data.len() < pixels * 2 {
        return Err(CameraError::Image(format!(
            "YUYV buffer of {} bytes does not fit {width}x{height}",
            data.len()
        )));
    }
    let mut rgb = Vec::with_capacity(pixels * 3);
    for quad in data[..pixels * 2].chunks_exact(4) {
        let (y0, u, y1, v) = (quad[0], quad[1], quad[2], quad[3]);
        for y in [y0, y1] {
            rgb.extend_from_slice(&ycbcr_to_rgb(y, u, v));
        }
    }
    Ok(rgb)
}

/// One BT.601 limited-range YCbCr sample to RGB.
fn ycbcr_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    let c = 1.164_383 * (f32::from(y) - 16.0);
    let d = f32::from(cb) - 128.0;
    let e = f32::from(cr) - 128.0;
    let clamp = |x: f32| x.round().clamp(0.0, 255.0) as u8;
    [
        clamp(c + 1.596_027 * e),
        clamp(c - 0.391_762 * d - 0.812_968 * e),
        clamp(c + 2.017_232 * d),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuyv_primaries_convert() {
        // black, white, then pure red (Y=81, U=90, V=240) twice.
        let data = [16, 128, 235, 128, 81, 90, 81, 240];
        let rgb = yuyv_to_rgb(&data, 4, 1).unwrap();
        assert_eq!(&rgb[0..3], &[0, 0, 0]);
        assert_eq!(&rgb[3..6], &[255, 255, 255]);
        for px in rgb[6..].chunks(3) {
            assert!(px[0] >= 250 && px[1] <= 5 && px[2] <= 5, "{px:?}");
        }
    }

    #[test]
    fn yuyv_rejects_short_or_odd_buffers() {
        assert!(yuyv_to_rgb(&[0; 6], 2, 2).is_err());
        assert!(yuyv_to_rgb(&[0; 6], 3, 1).is_err());
    }

    #[test]
    fn jpeg_round_trips_and_gain_brightens() {
        let (w, h) = (32u32, 16u32);
        let pixels: Vec<u8> = (0..w * h).map(|i| (i % 64) as u8 + 20).collect();
        let jpeg = encode_jpeg(&pixels, w, h, 1, 95).unwrap();
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        let dec = decode_jpeg(&jpeg).unwrap();
        assert_eq!((dec.width, dec.height, dec.channels), (w, h, 1));
        assert_eq!(jpeg_dimensions(&jpeg), Some((w, h)));
        assert_eq!(jpeg_dimensions(b"not a jpeg"), None);
        let mean = |p: &[u8]| p.iter().map(|&v| f64::from(v)).sum::<f64>() / p.len() as f64;
        let m0 = mean(&dec.pixels);
        let brighter = apply_digital_gain_jpeg(&jpeg, 4.0, 95).unwrap();
        let m1 = mean(&decode_jpeg(&brighter).unwrap().pixels);
        assert!(m1 > m0 * 1.5, "gain 4 mean {m1} vs {m0}");
        assert_eq!(apply_digital_gain_jpeg(&jpeg, 1.0, 95).unwrap(), jpeg);
    }

    #[test]
    fn gain_lut_is_monotonic_and_clips() {
        let lut = digital_gain_lut(3.0);
        assert_eq!(lut[0], 0);
        assert_eq!(lut[255], 255);
        assert!(lut.windows(2).all(|w| w[0] <= w[1]));
        assert!(lut[100] > 100);
    }
}
