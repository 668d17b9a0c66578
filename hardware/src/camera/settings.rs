//! Exposure, gain/ISO, night-vision gain and raw-output settings.

use serde::{Deserialize, Serialize};

use super::CameraError;

/// Longest exposure any driver accepts: 230 s, in microseconds.
pub const MAX_EXPOSURE_US: u64 = 230_000_000;
/// Highest analogue gain accepted (ISO 6400).
pub const MAX_GAIN: f64 = 64.0;
/// Highest night-vision digital gain accepted.
pub const MAX_DIGITAL_GAIN: f64 = 100.0;

/// The settings applied to the next capture or preview frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CameraSettings {
    /// Exposure time in microseconds (1 ..= [`MAX_EXPOSURE_US`]).
    pub exposure_us: u64,
    /// Analogue gain (1.0 = unity); ISO is `gain × 100`.
    pub gain: f64,
    /// Night-vision digital gain: a multiplier applied to the processed
    /// image (JPEG/preview), not to the raw file. 1.0 means off.
    pub night_vision_gain: f64,
    /// Also return the raw sensor data (DNG on the Pi, 16-bit PGM in the sim).
    pub save_raw: bool,
}

impl Default for CameraSettings {
    fn default() -> Self {
        Self {
            exposure_us: 1_000_000,
            gain: 1.0,
            night_vision_gain: 1.0,
            save_raw: false,
        }
    }
}

impl CameraSettings {
    /// ISO equivalent of the analogue gain (`gain × 100`, rounded).
    pub fn iso(&self) -> u32 {
        (self.gain * 100.0).round() as u32
    }

    /// Sets the gain from an ISO value (`gain = iso / 100`).
    pub fn set_iso(&mut self, iso: u32) {
        self.gain = f64::from(iso) / 100.0;
    }

    /// Exposure time in seconds.
    pub fn exposure_secs(&self) -> f64 {
        self.exposure_us as f64 / 1e6
    }

    /// True when the night-vision digital gain changes the image.
    pub fn night_vision_active(&self) -> bool {
        (self.night_vision_gain - 1.0).abs() > 1e-9
    }

    /// Checks every field against its allowed range.
    pub fn validate(&self) -> Result<(), CameraError> {
        if self.exposure_us == 0 {
            return Err(CameraError::InvalidSetting(
                "exposure must be at least 1 µs".into(),
            ));
        }
        if self.exposure_us > MAX_EXPOSURE_US {
            return Err(CameraError::InvalidSetting(format!(
                "exposure {} µs is longer than the maximum of {} µs (230 s)",
                self.exposure_us, MAX_EXPOSURE_US
            )));
        }
        if !self.gain.is_finite() || self.gain <= 0.0 || self.gain > MAX_GAIN {
            return Err(CameraError::InvalidSetting(format!(
                "gain {} is outside (0, {MAX_GAIN}] (ISO up to {})",
                self.gain,
                MAX_GAIN * 100.0
            )));
        }
        if !self.night_vision_gain.is_finite()
            || self.night_vision_gain < 1.0
            || self.night_vision_gain > MAX_DIGITAL_GAIN
        {
            return Err(CameraError::InvalidSetting(format!(
                "night-vision gain {} is outside [1, {MAX_DIGITAL_GAIN}]",
                self.night_vision_gain
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_is_gain_times_100() {
        let mut s = CameraSettings {
            gain: 2.5,
            ..Default::default()
        };
        assert_eq!(s.iso(), 250);
        s.set_iso(800);
        assert_eq!(s.gain, 8.0);
        assert_eq!(s.iso(), 800);
    }

    #[test]
    fn exposure_limit_is_230_seconds() {
        let ok = CameraSettings {
            exposure_us: MAX_EXPOSURE_US,
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        let too_long = CameraSettings {
            exposure_us: MAX_EXPOSURE_US + 1,
            ..Default::default()
        };
        let err = too_long.validate().unwrap_err().to_string();
        assert!(err.contains("230000001"), "{err}");
        assert!(err.contains("230 s"), "{err}");
        let zero = CameraSettings {
            exposure_us: 0,
            ..Default::default()
        };
        assert!(zero.validate().is_err());
    }

    #[test]
    fn gains_are_range_checked() {
        for gain in [0.0, -1.0, f64::NAN, MAX_GAIN + 0.1] {
            let s = CameraSettings {
                gain,
                ..Default::default()
            };
            assert!(s.validate().is_err(), "gain {gain} accepted");
        }
        for nv in [0.5, f64::INFINITY, MAX_DIGITAL_GAIN + 1.0] {
            let s = CameraSettings {
                night_vision_gain: nv,
                ..Default::default()
            };
            assert!(s.validate().is_err(), "night vision {nv} accepted");
        }
        let s = CameraSettings {
            night_vision_gain: 4.0,
            ..Default::default()
        };
        assert!(s.validate().is_ok());
        assert!(s.night_vision_active());
    }
}
