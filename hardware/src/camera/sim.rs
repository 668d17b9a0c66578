//! `SimCamera`: a deterministic simulated camera looking at a star field.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::image::encode_jpeg;
use super::starfield::{Exposure, Frame, SkyModel, StarField};
use super::{
    BusyGuard, Camera, CameraDriver, CameraError, CameraInfo, CameraSettings, Capture, RawFormat,
    RawImage,
};
use crate::clock::SimClock;
use crate::mount::SIDEREAL_RATE_ARCSEC_PER_S;
use crate::tracking::TrackingSource;

/// Configuration of a [`SimCamera`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SimCameraConfig {
    /// Seed of the star field (and, mixed with time, of the noise).
    pub seed: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Plate scale in arcseconds per pixel.
    pub plate_scale_arcsec_per_px: f64,
    /// Declination of the field; drift is `15.041″/s × cos(dec)`.
    pub declination_deg: f64,
    /// Sky and sensor model.
    pub sky: SkyModel,
    /// When true, `capture` sleeps for the exposure time like a real camera.
    pub realtime: bool,
    /// Previews are binned down to at most this width.
    pub preview_max_width: u32,
    /// JPEG quality of captures (previews use 70).
    pub jpeg_quality: u8,
}

impl Default for SimCameraConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            width: 1280,
            height: 960,
            plate_scale_arcsec_per_px: 1.0,
            declination_deg: 0.0,
            sky: SkyModel::default(),
            realtime: false,
            preview_max_width: 640,
            jpeg_quality: 90,
        }
    }
}

impl SimCameraConfig {
    /// The 12 MP (4056×3040) resolution of the Raspberry Pi HQ camera.
    pub fn twelve_megapixel() -> Self {
        Self {
            width: 4056,
            height: 3040,
            ..Self::default()
        }
    }
}

/// Where the sky is relative to the sensor.
#[derive(Debug, Default)]
struct Drift {
    /// Clock time of the last frame, seconds.
    last_t: f64,
    /// Accumulated sky offset along x, pixels.
    offset_px: f64,
}

/// A simulated camera. The sky drifts along x at the sidereal rate whenever
/// the tracking source says the mount is not tracking; between two frames
/// the drift assumes the tracking state seen at the later frame. With no
/// tracking source the mount is taken as not tracking.
pub struct SimCamera {
    config: SimCameraConfig,
    field: StarField,
    clock: SimClock,
    tracking: Option<Arc<dyn TrackingSource>>,
    settings: Mutex<CameraSettings>,
    capturing: AtomicBool,
    drift: Mutex<Drift>,
}

impl SimCamera {
    /// Creates the camera with a real-time clock and no tracking source.
    pub fn new(config: SimCameraConfig) -> Self {
        Self {
            field: StarField::generate(config.seed, config.width, config.height, config.sky),
            config,
            clock: SimClock::real(),
            tracking: None,
            settings: Mutex::new(CameraSettings::default()),
            capturing: AtomicBool::new(false),
            drift: Mutex::new(Drift::default()),
        }
    }

    /// Uses `clock` for the sky's position (share it with a `SimMount`).
    pub fn with_clock(mut self, clock: SimClock) -> Self {
        self.drift = Mutex::new(Drift {
            last_t: clock.now().as_secs_f64(),
            offset_px: 0.0,
        });
        self.clock = clock;
        self
    }

    /// Asks `source` whether the mount tracks, e.g. `mount.tracking_flag()`.
    pub fn with_tracking(mut self, source: Arc<dyn TrackingSource>) -> Self {
        self.tracking = Some(source);
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SimCameraConfig {
        &self.config
    }

    /// The simulated star field.
    pub fn field(&self) -> &StarField {
        &self.field
    }

    /// Sky drift in pixels per second when not tracking.
    pub fn drift_rate_px_per_s(&self) -> f64 {
        SIDEREAL_RATE_ARCSEC_PER_S * self.config.declination_deg.to_radians().cos()
            / self.config.plate_scale_arcsec_per_px
    }

    /// Renders one frame at the clock's current time with `bin`-fold binning.
    fn expose(&self, settings: &CameraSettings, bin: u32) -> Frame {
        let now = self.clock.now();
        let t = now.as_secs_f64();
        let tracking = self.tracking.as_ref().is_some_and(|s| s.is_tracking());
        let rate = self.drift_rate_px_per_s();
        let offset_px = {
            let mut drift = self.drift.lock().unwrap_or_else(PoisonError::into_inner);
            if !tracking {
                drift.offset_px += (t - drift.last_t).max(0.0) * rate;
            }
            drift.last_t = t;
            drift.offset_px
        };
        let exposure = Exposure {
            seconds: settings.exposure_secs(),
            gain: settings.gain,
            offset_px,
            trail_px: if tracking {
                0.0
            } else {
                rate * settings.exposure_secs()
            },
            bin,
            noise_seed: mix(self.config.seed, now.as_nanos() as u64, u64::from(bin)),
        };
        self.field.render(&exposure)
    }

    fn current(&self) -> CameraSettings {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// SplitMix64-style mixing of the frame's identity into a noise seed.
fn mix(seed: u64, nanos: u64, bin: u64) -> u64 {
    let mut z = seed ^ nanos.rotate_left(21) ^ bin.rotate_left(47) ^ 0x9E37_79B9_7F4A_7C15;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Camera for SimCamera {
    fn info(&self) -> CameraInfo {
        CameraInfo {
            kind: CameraDriver::Sim,
            name: "WANDA star-field simulator".into(),
            width: self.config.width,
            height: self.config.height,
        }
    }

    fn settings(&self) -> CameraSettings {
        self.current()
    }

    fn set_settings(&self, settings: CameraSettings) -> Result<(), CameraError> {
        settings.validate()?;
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings;
        Ok(())
    }

    fn capture(&self) -> Result<Capture, CameraError> {
        let settings = self.current();
        settings.validate()?;
        let _busy = BusyGuard::new(&self.capturing);
        if self.config.realtime {
            std::thread::sleep(Duration::from_micros(settings.exposure_us));
        }
        let frame = self.expose(&settings, 1);
        let display = frame.to_display(settings.night_vision_gain);
        let jpeg = encode_jpeg(
            &display,
            frame.width,
            frame.height,
            1,
            self.config.jpeg_quality,
        )?;
        let raw = settings.save_raw.then(|| RawImage {
            format: RawFormat::Pgm16,
            bytes: frame.to_pgm16(),
        });
        Ok(Capture {
            jpeg,
            raw,
            width: frame.width,
            height: frame.height,
            settings,
        })
    }

    fn preview(&self) -> Result<Vec<u8>, CameraError> {
        let settings = self.current();
        let bin = self
            .config
            .width
            .div_ceil(self.config.preview_max_width.max(1));
        let frame = self.expose(&settings, bin.max(1));
        let display = frame.to_display(settings.night_vision_gain);
        encode_jpeg(&display, frame.width, frame.height, 1, 70)
    }

    fn is_capturing(&self) -> bool {
        self.capturing.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[cfg(test)]
#[path = "sim_tests.rs"]
mod tests;
