//! Thumbnails: a JPEG scaled so its longest side is at most N pixels. Decoding uses the JPEG
//! decoder's DCT scaling (1/2, 1/4, 1/8), so a 12 MP capture costs a fraction of a full decode.

use anyhow::{Context, Result};

/// Makes a thumbnail JPEG whose longest side is at most `max_side` pixels.
pub fn thumbnail_jpeg(jpeg: &[u8], max_side: u32) -> Result<Vec<u8>> {
    let mut dec = jpeg_decoder::Decoder::new(jpeg);
    dec.read_info().context("not a JPEG")?;
    let info = dec.info().context("JPEG without a header")?;
    let longest = u32::from(info.width.max(info.height));
    // Ask for at least `max_side` (the decoder picks the smallest DCT scale not below it).
    let target = max_side.min(longest);
    let scale = f64::from(target) / f64::from(longest);
    let req_w = ((f64::from(info.width) * scale).ceil() as u16).max(1);
    let req_h = ((f64::from(info.height) * scale).ceil() as u16).max(1);
    dec.scale(req_w, req_h).context("JPEG scaling")?;
    let pixels = dec.decode().context("JPEG decode")?;
    let info = dec.info().context("JPEG without a header")?;
    let channels: usize = match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => 1,
        jpeg_decoder::PixelFormat::RGB24 => 3,
        other => anyhow::bail!("unsupported JPEG pixel format {other:?}"),
    };
    let (w, h) = (usize::from(info.width), usize::from(info.height));
    let (pixels, w, h) = downscale(&pixels, w, h, channels, max_side as usize);
    wanda_hardware::camera::encode_jpeg(&pixels, w as u32, h as u32, channels as u8, 80)
        .map_err(|e| anyhow::anyhow!("thumbnail encode: {e}"))
}

/// Box-filters `pixels` down so the longest side is at most `max_side`.
fn downscale(
    pixels: &[u8],
    w: usize,
    h: usize,
    ch: usize,
    max_side: usize,
) -> (Vec<u8>, usize, usize) {
    let longest = w.max(h);
    if longest <= max_side {
        return (pixels.to_vec(), w, h);
    }
    let nw = (w * max_side).div_ceil(longest).max(1);
    let nh = (h * max_side).div_ceil(longest).max(1);
    let mut out = vec![0u8; nw * nh * ch];
    for y in 0..nh {
        let (y0, y1) = (y * h / nh, ((y + 1) * h / nh).max(y * h / nh + 1));
        for x in 0..nw {
            let (x0, x1) = (x * w / nw, ((x + 1) * w / nw).max(x * w / nw + 1));
            for c in 0..ch {
                let mut sum = 0u32;
                for sy in y0..y1 {
                    for sx in x0..x1 {
                        sum += u32::from(pixels[(sy * w + sx) * ch + c]);
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                out[(y * nw + x) * ch + c] = (sum / n) as u8;
            }
        }
    }
    (out, nw, nh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size_of(jpeg: &[u8]) -> (u16, u16) {
        let mut d = jpeg_decoder::Decoder::new(jpeg);
        d.read_info().unwrap();
        let i = d.info().unwrap();
        (i.width, i.height)
    }

    #[test]
    fn longest_side_is_capped_and_aspect_kept() {
        let (w, h) = (1000u32, 600u32);
        let px: Vec<u8> = (0..w * h * 3).map(|i| (i % 251) as u8).collect();
        let jpeg = wanda_hardware::camera::encode_jpeg(&px, w, h, 3, 90).unwrap();
        let t = thumbnail_jpeg(&jpeg, 320).unwrap();
        assert_eq!(size_of(&t), (320, 192));
        let grey =
            wanda_hardware::camera::encode_jpeg(&vec![9u8; 100 * 50], 100, 50, 1, 90).unwrap();
        assert_eq!(size_of(&thumbnail_jpeg(&grey, 320).unwrap()), (100, 50));
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(thumbnail_jpeg(b"not a jpeg", 320).is_err());
    }
}
