//! Tests of the simulated camera through the `Camera` trait.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::*;
use crate::camera::image::decode_jpeg;
use crate::camera::starfield::Star;

fn small() -> SimCameraConfig {
    SimCameraConfig {
        width: 640,
        height: 480,
        ..SimCameraConfig::default()
    }
}

fn camera(config: SimCameraConfig, tracking: bool) -> (SimCamera, SimClock, Arc<AtomicBool>) {
    let clock = SimClock::manual();
    let flag = Arc::new(AtomicBool::new(tracking));
    let cam = SimCamera::new(config)
        .with_clock(clock.clone())
        .with_tracking(flag.clone());
    (cam, clock, flag)
}

fn set(cam: &SimCamera, exposure_us: u64, gain: f64, nv: f64, raw: bool) {
    cam.set_settings(CameraSettings {
        exposure_us,
        gain,
        night_vision_gain: nv,
        save_raw: raw,
    })
    .unwrap();
}

fn jpeg_mean(jpeg: &[u8]) -> f64 {
    let img = decode_jpeg(jpeg).unwrap();
    img.pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / img.pixels.len() as f64
}

/// Parses the sim's 16-bit PGM back into (width, height, samples).
fn parse_pgm(bytes: &[u8]) -> (usize, usize, Vec<u16>) {
    let text_end = bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'\n')
        .nth(2)
        .unwrap()
        .0;
    let header = std::str::from_utf8(&bytes[..text_end]).unwrap();
    let f: Vec<&str> = header.split_whitespace().collect();
    assert_eq!((f[0], f[3]), ("P5", "4095"));
    let (w, h) = (f[1].parse().unwrap(), f[2].parse().unwrap());
    let data: Vec<u16> = bytes[text_end + 1..]
        .chunks_exact(2)
        .map(|c| u16::from_be_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(data.len(), w * h);
    (w, h, data)
}

fn brightest_star(cam: &SimCamera) -> Star {
    let h = f64::from(cam.config().height);
    *cam.field()
        .stars
        .iter()
        .filter(|s| s.y > 6.0 && s.y < h - 6.0)
        .max_by(|a, b| a.flux.total_cmp(&b.flux))
        .unwrap()
}

fn median(data: &[u16]) -> f64 {
    let mut v = data.to_vec();
    v.sort_unstable();
    f64::from(v[v.len() / 2])
}

#[test]
fn same_seed_settings_and_time_give_identical_bytes() {
    let (a, clock_a, _) = camera(small(), false);
    let (b, clock_b, _) = camera(small(), false);
    for cam in [&a, &b] {
        set(cam, 2_000_000, 2.0, 1.0, true);
    }
    clock_a.set(Duration::from_secs(5));
    clock_b.set(Duration::from_secs(5));
    let (ca, cb) = (a.capture().unwrap(), b.capture().unwrap());
    assert_eq!(ca.jpeg, cb.jpeg);
    assert_eq!(ca.raw, cb.raw);

    let other = SimCameraConfig { seed: 2, ..small() };
    let (c, clock_c, _) = camera(other, false);
    set(&c, 2_000_000, 2.0, 1.0, true);
    clock_c.set(Duration::from_secs(5));
    assert_ne!(c.capture().unwrap().jpeg, ca.jpeg);
}

#[test]
fn longer_exposure_and_higher_gain_are_brighter() {
    let (cam, _, _) = camera(small(), true);
    set(&cam, 1_000_000, 1.0, 1.0, false);
    let base = jpeg_mean(&cam.capture().unwrap().jpeg);
    set(&cam, 8_000_000, 1.0, 1.0, false);
    let long = jpeg_mean(&cam.capture().unwrap().jpeg);
    set(&cam, 1_000_000, 8.0, 1.0, false);
    let gained = jpeg_mean(&cam.capture().unwrap().jpeg);
    assert!(long > base * 1.5, "8 s mean {long} vs 1 s mean {base}");
    assert!(gained > base * 1.5, "gain 8 mean {gained} vs gain 1 {base}");
}

#[test]
fn night_vision_brightens_jpeg_but_not_raw() {
    let (cam, _, _) = camera(small(), true);
    set(&cam, 1_000_000, 1.0, 1.0, true);
    let plain = cam.capture().unwrap();
    set(&cam, 1_000_000, 1.0, 10.0, true);
    let night = cam.capture().unwrap();
    assert!(jpeg_mean(&night.jpeg) > jpeg_mean(&plain.jpeg) * 1.5);
    assert_eq!(plain.raw, night.raw, "raw data is sensor data, unaffected");
    assert_eq!(night.raw.unwrap().format, RawFormat::Pgm16);
}

#[test]
fn raw_only_when_requested_and_matches_size() {
    let (cam, _, _) = camera(small(), true);
    set(&cam, 500_000, 1.0, 1.0, false);
    let shot = cam.capture().unwrap();
    assert!(shot.raw.is_none());
    assert_eq!((shot.width, shot.height), (640, 480));
    let dec = decode_jpeg(&shot.jpeg).unwrap();
    assert_eq!((dec.width, dec.height), (640, 480));
    set(&cam, 500_000, 1.0, 1.0, true);
    let raw = cam.capture().unwrap().raw.unwrap();
    let (w, h, _) = parse_pgm(&raw.bytes);
    assert_eq!((w, h), (640, 480));
}

#[test]
fn untracked_long_exposure_trails_stars() {
    let (exposure_s, gain) = (10.0, 4.0);
    let mut extents = Vec::new();
    for tracking in [true, false] {
        let (cam, _, _) = camera(SimCameraConfig::default(), tracking);
        set(&cam, (exposure_s * 1e6) as u64, gain, 1.0, true);
        let (w, _, data) = parse_pgm(&cam.capture().unwrap().raw.unwrap().bytes);
        let star = brightest_star(&cam);
        let trail = cam.drift_rate_px_per_s() * exposure_s;
        // Sum three rows through the star to collect most of its light.
        let row = star.y as usize;
        let column = |col: usize| -> f64 {
            (row - 1..=row + 1)
                .map(|r| f64::from(data[r * w + col]))
                .sum()
        };
        let bg = median(&data);
        let electrons = bg / gain + 9.0; // sky + read noise variance, e-
        let threshold = 3.0 * bg + 6.0 * gain * (3.0 * electrons).sqrt();
        let start = star.x as i64 - 10;
        let lit = (start..start + trail as i64 + 20)
            .filter(|&x| column(x.rem_euclid(w as i64) as usize) > threshold)
            .count();
        extents.push((lit, trail));
    }
    let ((tracked, _), (trailed, length)) = (extents[0], extents[1]);
    assert!(tracked <= 12, "tracked star spans {tracked} px");
    assert!(
        trailed as f64 >= 0.8 * length,
        "untracked star spans {trailed} px, trail is {length} px"
    );
}

#[test]
fn sky_drifts_at_sidereal_rate_only_when_not_tracking() {
    for tracking in [false, true] {
        let (cam, clock, _) = camera(small(), tracking);
        set(&cam, 100_000, 4.0, 1.0, true);
        cam.capture().unwrap(); // first frame fixes the starting time
        clock.advance(Duration::from_secs(10));
        let (w, _, data) = parse_pgm(&cam.capture().unwrap().raw.unwrap().bytes);
        let star = brightest_star(&cam);
        let row = &data[star.y as usize * w..(star.y as usize + 1) * w];
        let peak = (0..w).max_by_key(|&x| row[x]).unwrap() as f64 + 0.5;
        let rate = cam.drift_rate_px_per_s();
        assert!((rate - 15.041).abs() < 0.001, "rate {rate}");
        let shift = if tracking { 0.0 } else { rate * 10.0 };
        let trail = if tracking { 0.0 } else { rate * 0.1 };
        let expected = (star.x + shift + trail / 2.0).rem_euclid(w as f64);
        assert!(
            (peak - expected).abs() < 2.5,
            "tracking={tracking}: peak at {peak}, expected {expected}"
        );
    }
}

#[test]
fn invalid_settings_are_rejected_and_not_stored() {
    let (cam, _, _) = camera(small(), true);
    let before = cam.settings();
    let err = cam
        .set_settings(CameraSettings {
            exposure_us: 231_000_000,
            ..before
        })
        .unwrap_err();
    assert!(err.to_string().contains("230 s"), "{err}");
    assert_eq!(cam.settings(), before);
}

#[test]
fn preview_is_a_small_jpeg() {
    let (cam, _, _) = camera(SimCameraConfig::default(), true);
    let preview = cam.preview().unwrap();
    let dec = decode_jpeg(&preview).unwrap();
    assert_eq!((dec.width, dec.height), (640, 480));
    assert!(preview.len() < cam.capture().unwrap().jpeg.len());
}

#[test]
fn status_serializes_and_shows_capturing() {
    let config = SimCameraConfig {
        realtime: true,
        ..small()
    };
    let cam = Arc::new(SimCamera::new(config));
    set(&cam, 400_000, 2.0, 1.0, false);
    let json = serde_json::to_value(cam.status()).unwrap();
    assert_eq!(json["kind"], "sim");
    assert_eq!(json["iso"], 200);
    assert_eq!(json["settings"]["exposure_us"], 400_000);
    assert_eq!(json["capturing"], false);
    let worker = {
        let cam = cam.clone();
        std::thread::spawn(move || cam.capture().unwrap())
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !cam.is_capturing() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(cam.status().capturing, "capture in progress");
    worker.join().unwrap();
    assert!(!cam.status().capturing);
}

#[test]
fn twelve_megapixel_mode_captures_full_size() {
    let (cam, _, flag) = camera(SimCameraConfig::twelve_megapixel(), true);
    flag.store(true, Ordering::SeqCst);
    let shot = cam.capture().unwrap();
    assert_eq!((shot.width, shot.height), (4056, 3040));
    let dec = decode_jpeg(&shot.jpeg).unwrap();
    assert_eq!((dec.width, dec.height), (4056, 3040));
}
