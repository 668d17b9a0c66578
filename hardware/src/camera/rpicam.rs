//! `RpicamCamera`: the Raspberry Pi CSI camera (e.g. IMX477 HQ) driven by
//! shelling out to `rpicam-still`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::image::{apply_digital_gain_jpeg, jpeg_dimensions};
use super::process::{Finished, run};
use super::{
    BusyGuard, Camera, CameraDriver, CameraError, CameraInfo, CameraSettings, Capture, RawFormat,
    RawImage,
};

/// Longest shutter used for preview frames, so the live view stays live.
pub const PREVIEW_MAX_SHUTTER_US: u64 = 1_000_000;

/// Configuration of an [`RpicamCamera`].
#[derive(Debug, Clone, PartialEq)]
pub struct RpicamConfig {
    /// The `rpicam-still` executable (looked up on PATH if not absolute).
    pub program: PathBuf,
    /// Camera index (`--camera`), when more than one is attached.
    pub camera_index: Option<u32>,
    /// Fixed part of the capture timeout; the total is this plus three
    /// times the exposure (the sensor needs a few frames at that shutter).
    pub timeout_base: Duration,
    /// Preview frame size.
    pub preview_size: (u32, u32),
    /// JPEG quality for stills (also used when re-encoding for night vision).
    pub jpeg_quality: u8,
}

impl Default for RpicamConfig {
    fn default() -> Self {
        Self {
            program: PathBuf::from("rpicam-still"),
            camera_index: None,
            timeout_base: Duration::from_secs(20),
            preview_size: (640, 480),
            jpeg_quality: 93,
        }
    }
}

impl RpicamConfig {
    /// Deadline for a capture with this exposure.
    pub fn timeout_for(&self, exposure_us: u64) -> Duration {
        self.timeout_base + Duration::from_micros(exposure_us.saturating_mul(3))
    }
}

/// One camera from `rpicam-still --list-cameras`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsiCameraListing {
    /// Index for `--camera`.
    pub index: u32,
    /// Sensor name, e.g. `imx477`.
    pub sensor: String,
    /// Full-resolution width.
    pub width: u32,
    /// Full-resolution height.
    pub height: u32,
    /// Bit depth of the raw data, when listed.
    pub bit_depth: Option<u32>,
}

/// Parses `rpicam-still --list-cameras` output, e.g.
/// `0 : imx477 [4056x3040 12-bit RGGB] (/base/soc/...)`.
pub fn parse_list_cameras(text: &str) -> Vec<CsiCameraListing> {
    text.lines().filter_map(parse_listing_line).collect()
}

fn parse_listing_line(line: &str) -> Option<CsiCameraListing> {
    let (index, rest) = line.trim().split_once(" : ")?;
    let index = index.trim().parse().ok()?;
    let (sensor, rest) = rest.trim().split_once(' ')?;
    let inside = rest.trim().strip_prefix('[')?.split(']').next()?;
    let mut fields = inside.split_whitespace();
    let (w, h) = fields.next()?.split_once('x')?;
    let bit_depth = fields
        .next()
        .and_then(|f| f.strip_suffix("-bit"))
        .and_then(|b| b.parse().ok());
    Some(CsiCameraListing {
        index,
        sensor: sensor.to_string(),
        width: w.parse().ok()?,
        height: h.parse().ok()?,
        bit_depth,
    })
}

/// Runs `rpicam-still --list-cameras` and parses the cameras it reports.
pub fn list_cameras(config: &RpicamConfig) -> Result<Vec<CsiCameraListing>, CameraError> {
    let out = run(
        &config.program,
        &["--list-cameras".to_string()],
        Duration::from_secs(15),
    )?;
    if !out.status.success() && !out.stdout.contains(" : ") {
        return Err(explain_failure(&config.program.display().to_string(), &out));
    }
    Ok(parse_list_cameras(&out.stdout))
}

/// Turns a failed run into the clearest error its output allows.
fn explain_failure(program: &str, out: &Finished) -> CameraError {
    let text = format!("{}\n{}", out.stderr, out.stdout);
    let lower = text.to_lowercase();
    if lower.contains("no cameras available") {
        return CameraError::NotFound(
            "rpicam-still sees no camera: check the ribbon cable and camera_auto_detect".into(),
        );
    }
    if lower.contains("resource busy") || lower.contains("failed to acquire camera") {
        return CameraError::Busy("another program is using the camera".into());
    }
    let line = |pred: &dyn Fn(&str) -> bool| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && pred(l))
            .last()
            .map(str::to_string)
    };
    let message = if lower.contains("unrecognised option") || lower.contains("unrecognized option")
    {
        let l = line(&|l| l.to_lowercase().contains("option")).unwrap_or_default();
        format!("rejected an option (rpicam-apps too old?): {l}")
    } else {
        line(&|l| l.contains("ERROR"))
            .or_else(|| line(&|_| true))
            .unwrap_or_else(|| format!("exited with {}", out.status))
    };
    CameraError::CommandFailed {
        program: program.to_string(),
        message,
    }
}

/// The Pi CSI camera through `rpicam-still`. Captures write into a private
/// temporary directory that is removed afterwards.
pub struct RpicamCamera {
    config: RpicamConfig,
    listing: CsiCameraListing,
    settings: Mutex<CameraSettings>,
    capturing: AtomicBool,
}

impl RpicamCamera {
    /// Detects the camera with `--list-cameras` and opens the configured
    /// index (or the first camera).
    pub fn open(config: RpicamConfig) -> Result<Self, CameraError> {
        let cameras = list_cameras(&config)?;
        let wanted = config.camera_index.unwrap_or(0);
        let listing = cameras
            .into_iter()
            .find(|c| c.index == wanted)
            .ok_or_else(|| CameraError::NotFound(format!("no CSI camera with index {wanted}")))?;
        Ok(Self::with_listing(config, listing))
    }

    /// Uses an already known camera without running detection.
    pub fn with_listing(config: RpicamConfig, listing: CsiCameraListing) -> Self {
        Self {
            config,
            listing,
            settings: Mutex::new(CameraSettings::default()),
            capturing: AtomicBool::new(false),
        }
    }

    /// The arguments for one still; `size` overrides the resolution.
    pub fn still_args(
        &self,
        settings: &CameraSettings,
        output: &std::path::Path,
        size: Option<(u32, u32)>,
        raw: bool,
    ) -> Vec<String> {
        let mut args: Vec<String> = vec!["--immediate".into(), "-n".into(), "-o".into()];
        args.push(output.display().to_string());
        args.extend(["--shutter".into(), settings.exposure_us.to_string()]);
        args.extend(["--gain".into(), format!("{}", settings.gain)]);
        if let Some(i) = self.config.camera_index {
            args.extend(["--camera".into(), i.to_string()]);
        }
        if let Some((w, h)) = size {
            args.extend([
                "--width".into(),
                w.to_string(),
                "--height".into(),
                h.to_string(),
            ]);
        }
        if raw {
            args.push("--raw".into());
        }
        args
    }

    /// Runs one still and returns the JPEG (and DNG when `raw`).
    fn shoot(
        &self,
        settings: &CameraSettings,
        size: Option<(u32, u32)>,
        raw: bool,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>), CameraError> {
        let dir = tempfile::Builder::new().prefix("wanda-rpicam").tempdir()?;
        let jpg = dir.path().join("capture.jpg");
        let args = self.still_args(settings, &jpg, size, raw);
        let program = self.config.program.display().to_string();
        let out = run(
            &self.config.program,
            &args,
            self.config.timeout_for(settings.exposure_us),
        )?;
        if !out.status.success() {
            return Err(explain_failure(&program, &out));
        }
        let jpeg = std::fs::read(&jpg).map_err(|e| CameraError::CommandFailed {
            program: program.clone(),
            message: format!("succeeded but wrote no JPEG ({e})"),
        })?;
        let dng = if raw {
            match std::fs::read(jpg.with_extension("dng")) {
                Ok(bytes) => Some(bytes),
                Err(e) => {
                    tracing::warn!("{program} wrote no DNG alongside the JPEG: {e}");
                    None
                }
            }
        } else {
            None
        };
        Ok((jpeg, dng))
    }

    fn current(&self) -> CameraSettings {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Camera for RpicamCamera {
    fn info(&self) -> CameraInfo {
        CameraInfo {
            kind: CameraDriver::Csi,
            name: self.listing.sensor.clone(),
            width: self.listing.width,
            height: self.listing.height,
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
        let (jpeg, dng) = self.shoot(&settings, None, settings.save_raw)?;
        let jpeg =
            apply_digital_gain_jpeg(&jpeg, settings.night_vision_gain, self.config.jpeg_quality)?;
        let (width, height) =
            jpeg_dimensions(&jpeg).unwrap_or((self.listing.width, self.listing.height));
        Ok(Capture {
            jpeg,
            raw: dng.map(|bytes| RawImage {
                format: RawFormat::Dng,
                bytes,
            }),
            width,
            height,
            settings,
        })
    }

    fn preview(&self) -> Result<Vec<u8>, CameraError> {
        let mut settings = self.current();
        settings.exposure_us = settings.exposure_us.min(PREVIEW_MAX_SHUTTER_US);
        let (jpeg, _) = self.shoot(&settings, Some(self.config.preview_size), false)?;
        apply_digital_gain_jpeg(&jpeg, settings.night_vision_gain, 75)
    }

    fn is_capturing(&self) -> bool {
        self.capturing.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
#[path = "rpicam_tests.rs"]
mod tests;
