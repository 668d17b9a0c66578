//! Cameras: the [`Camera`] trait, its data types and the drivers.
//!
//! Every method of [`Camera`] is synchronous and may block for the length of
//! an exposure (up to 230 s). A tokio application must call
//! [`Camera::capture`] and [`Camera::preview`] through
//! `tokio::task::spawn_blocking`; [`Camera::status`], [`Camera::settings`]
//! and [`Camera::set_settings`] are cheap and never wait for a capture.

mod detect;
mod image;
mod mjpeg;
mod noise;
mod process;
mod psf;
mod rpicam;
mod settings;
mod sim;
pub mod starfield;
#[cfg(feature = "v4l")]
mod uvc;

use serde::{Deserialize, Serialize};

pub use detect::{CameraKind, DetectConfig, open_camera};
pub use image::{apply_digital_gain_jpeg, encode_jpeg, yuyv_to_rgb};
pub use mjpeg::{MJPEG_BOUNDARY, MJPEG_CONTENT_TYPE, mjpeg_part};
pub use rpicam::{CsiCameraListing, RpicamCamera, RpicamConfig, list_cameras, parse_list_cameras};
pub use settings::{CameraSettings, MAX_DIGITAL_GAIN, MAX_EXPOSURE_US, MAX_GAIN};
pub use sim::{SimCamera, SimCameraConfig};
#[cfg(feature = "v4l")]
pub use uvc::{UvcCamera, UvcConfig, find_uvc_devices};

/// Errors from camera drivers.
#[derive(Debug, thiserror::Error)]
pub enum CameraError {
    /// A setting is out of range; the message says which and why.
    #[error("invalid camera setting: {0}")]
    InvalidSetting(String),
    /// No camera of the requested kind is present.
    #[error("no camera found: {0}")]
    NotFound(String),
    /// The camera exists but another process holds it.
    #[error("camera busy: {0}")]
    Busy(String),
    /// An external capture command ran past its deadline and was killed.
    #[error("{program} did not finish within {seconds:.1} s and was killed")]
    Timeout {
        /// The command that timed out.
        program: String,
        /// The deadline in seconds.
        seconds: f64,
    },
    /// An external capture command failed.
    #[error("{program} failed: {message}")]
    CommandFailed {
        /// The command that failed.
        program: String,
        /// The most useful line of its error output.
        message: String,
    },
    /// The driver cannot do this (e.g. the feature was not compiled in).
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// Image encoding or decoding failed.
    #[error("image error: {0}")]
    Image(String),
    /// Device or file I/O failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

/// Which kind of driver a camera is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CameraDriver {
    /// Raspberry Pi CSI camera through `rpicam-still`.
    Csi,
    /// USB UVC webcam through Video4Linux2.
    Usb,
    /// Simulated star-field camera.
    Sim,
}

/// Format of the raw sensor file returned with a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RawFormat {
    /// Adobe DNG as written by `rpicam-still --raw`.
    Dng,
    /// Binary PGM (`P5`), 16-bit big-endian samples, maxval 4095 (12-bit data).
    Pgm16,
}

impl RawFormat {
    /// File-name extension without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            RawFormat::Dng => "dng",
            RawFormat::Pgm16 => "pgm",
        }
    }

    /// MIME type of the format.
    pub fn mime_type(self) -> &'static str {
        match self {
            RawFormat::Dng => "image/x-adobe-dng",
            RawFormat::Pgm16 => "image/x-portable-graymap",
        }
    }
}

/// Raw sensor data returned when [`CameraSettings::save_raw`] is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawImage {
    /// The file format of `bytes`.
    pub format: RawFormat,
    /// The complete file contents.
    pub bytes: Vec<u8>,
}

/// The result of one still capture.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The processed image as JPEG (always present).
    pub jpeg: Vec<u8>,
    /// Raw sensor data, when requested and the camera can produce it.
    pub raw: Option<RawImage>,
    /// Image width in pixels.
    pub width: u32,
    /// Image height in pixels.
    pub height: u32,
    /// The settings the capture was taken with.
    pub settings: CameraSettings,
}

/// Static facts about a camera.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraInfo {
    /// Driver kind.
    pub kind: CameraDriver,
    /// Sensor or device name, e.g. `imx477`.
    pub name: String,
    /// Full-resolution width in pixels.
    pub width: u32,
    /// Full-resolution height in pixels.
    pub height: u32,
}

/// A snapshot of a camera's state, ready to serialize as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CameraStatus {
    /// Driver kind.
    pub kind: CameraDriver,
    /// Sensor or device name.
    pub name: String,
    /// Full-resolution width in pixels.
    pub width: u32,
    /// Full-resolution height in pixels.
    pub height: u32,
    /// Current settings.
    pub settings: CameraSettings,
    /// ISO equivalent of the current gain (`gain × 100`).
    pub iso: u32,
    /// True while a still capture is in progress.
    pub capturing: bool,
}

impl CameraStatus {
    /// Builds a status from the camera's info, settings and capture flag.
    pub fn new(info: &CameraInfo, settings: CameraSettings, capturing: bool) -> Self {
        Self {
            kind: info.kind,
            name: info.name.clone(),
            width: info.width,
            height: info.height,
            settings,
            iso: settings.iso(),
            capturing,
        }
    }
}

/// A camera driver. Implementations use interior mutability so one camera
/// can be shared as `Arc<dyn Camera>`; see the module docs about blocking.
pub trait Camera: Send + Sync {
    /// Static facts about the camera.
    fn info(&self) -> CameraInfo;

    /// The settings used for the next capture.
    fn settings(&self) -> CameraSettings;

    /// Validates and stores new settings (an invalid value changes nothing).
    fn set_settings(&self, settings: CameraSettings) -> Result<(), CameraError>;

    /// Takes one full-resolution still. Blocks for at least the exposure.
    fn capture(&self) -> Result<Capture, CameraError>;

    /// Returns one small JPEG frame for the live view (MJPEG feed).
    fn preview(&self) -> Result<Vec<u8>, CameraError>;

    /// True while [`Camera::capture`] is running.
    fn is_capturing(&self) -> bool;

    /// A serializable snapshot of the camera's state.
    fn status(&self) -> CameraStatus {
        CameraStatus::new(&self.info(), self.settings(), self.is_capturing())
    }
}

/// Sets an `AtomicBool` for as long as it lives (marks "capturing").
pub(crate) struct BusyGuard<'a>(&'a std::sync::atomic::AtomicBool);

impl<'a> BusyGuard<'a> {
    /// Sets the flag; it is cleared when the guard drops.
    pub(crate) fn new(flag: &'a std::sync::atomic::AtomicBool) -> Self {
        flag.store(true, std::sync::atomic::Ordering::SeqCst);
        Self(flag)
    }
}

impl Drop for BusyGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::SeqCst);
    }
}
