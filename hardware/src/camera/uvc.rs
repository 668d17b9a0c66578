//! `UvcCamera`: USB webcams through Video4Linux2 (feature `v4l`).
//!
//! Frames are grabbed as MJPEG when the device offers it (passed through
//! as the JPEG), otherwise as YUYV and converted to RGB and encoded.
//! Exposure and gain are set through the standard V4L2 controls where the
//! device supports them (failures are logged, not fatal). No raw output.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use v4l::buffer::Type;
use v4l::control::{Control, Value};
use v4l::io::traits::CaptureStream;
use v4l::prelude::*;
use v4l::video::Capture as _;
use v4l::{Format, FourCC};

use super::image::{apply_digital_gain_jpeg, encode_jpeg, jpeg_dimensions, yuyv_to_rgb};
use super::{BusyGuard, Camera, CameraDriver, CameraError, CameraInfo, CameraSettings, Capture};

/// `V4L2_CID_EXPOSURE_AUTO`.
const CID_EXPOSURE_AUTO: u32 = 0x009a_0901;
/// `V4L2_CID_EXPOSURE_ABSOLUTE`, in units of 100 µs.
const CID_EXPOSURE_ABSOLUTE: u32 = 0x009a_0902;
/// `V4L2_CID_GAIN`.
const CID_GAIN: u32 = 0x0098_0913;
/// `V4L2_EXPOSURE_MANUAL`.
const EXPOSURE_MANUAL: i64 = 1;

/// Configuration of a [`UvcCamera`].
#[derive(Debug, Clone, PartialEq)]
pub struct UvcConfig {
    /// Device node; `None` picks the first UVC capture device.
    pub device: Option<PathBuf>,
    /// Requested capture size (the driver may choose the nearest).
    pub size: (u32, u32),
    /// Frames thrown away after starting the stream (auto-exposure settle).
    pub warmup_frames: u32,
    /// JPEG quality when encoding YUYV frames or applying night vision.
    pub jpeg_quality: u8,
}

impl Default for UvcConfig {
    fn default() -> Self {
        Self {
            device: None,
            size: (1280, 720),
            warmup_frames: 3,
            jpeg_quality: 90,
        }
    }
}

/// Paths of video nodes driven by `uvcvideo` that can capture.
pub fn find_uvc_devices() -> Vec<PathBuf> {
    v4l::context::enum_devices()
        .into_iter()
        .filter_map(|node| {
            let dev = Device::with_path(node.path()).ok()?;
            let caps = dev.query_caps().ok()?;
            let capture = caps
                .capabilities
                .contains(v4l::capability::Flags::VIDEO_CAPTURE);
            (caps.driver == "uvcvideo" && capture).then(|| node.path().to_path_buf())
        })
        .collect()
}

/// A USB UVC camera.
pub struct UvcCamera {
    path: PathBuf,
    name: String,
    config: UvcConfig,
    device: Mutex<Device>,
    format: Format,
    settings: Mutex<CameraSettings>,
    capturing: AtomicBool,
}

impl UvcCamera {
    /// Opens the configured device, or the first UVC device found.
    pub fn detect(config: &UvcConfig) -> Result<Self, CameraError> {
        let path = match &config.device {
            Some(p) => p.clone(),
            None => find_uvc_devices()
                .into_iter()
                .next()
                .ok_or_else(|| CameraError::NotFound("no USB (UVC) camera".into()))?,
        };
        Self::open(&path, config.clone())
    }

    /// Opens `path`, preferring MJPEG and falling back to YUYV.
    pub fn open(path: &Path, config: UvcConfig) -> Result<Self, CameraError> {
        let device = Device::with_path(path)?;
        let caps = device.query_caps()?;
        let (w, h) = config.size;
        let mut format = None;
        for fourcc in [b"MJPG", b"YUYV"] {
            let got = device.set_format(&Format::new(w, h, FourCC::new(fourcc)))?;
            if got.fourcc == FourCC::new(fourcc) {
                format = Some(got);
                break;
            }
        }
        let format = format.ok_or_else(|| {
            CameraError::Unsupported(format!("{} offers neither MJPEG nor YUYV", path.display()))
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            name: caps.card,
            config,
            device: Mutex::new(device),
            format,
            settings: Mutex::new(CameraSettings::default()),
            capturing: AtomicBool::new(false),
        })
    }

    /// The device node.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies exposure and gain controls, best effort.
    fn apply_controls(device: &Device, settings: &CameraSettings) {
        let controls = [
            (CID_EXPOSURE_AUTO, EXPOSURE_MANUAL),
            (
                CID_EXPOSURE_ABSOLUTE,
                (settings.exposure_us / 100).max(1) as i64,
            ),
            (CID_GAIN, (settings.gain * 100.0).round() as i64),
        ];
        for (id, value) in controls {
            let control = Control {
                id,
                value: Value::Integer(value),
            };
            if let Err(e) = device.set_control(control) {
                tracing::debug!("UVC control {id:#x} = {value} not applied: {e}");
            }
        }
    }

    /// Grabs one frame and returns it as JPEG with its size.
    fn grab(&self, settings: &CameraSettings) -> Result<(Vec<u8>, u32, u32), CameraError> {
        let device = self.device.lock().unwrap_or_else(PoisonError::into_inner);
        Self::apply_controls(&device, settings);
        let mut stream = MmapStream::with_buffers(&device, Type::VideoCapture, 4)?;
        for _ in 0..self.config.warmup_frames {
            stream.next()?;
        }
        let (buf, meta) = stream.next()?;
        let data = &buf[..(meta.bytesused as usize).min(buf.len()).max(1)];
        let (w, h) = (self.format.width, self.format.height);
        let jpeg = if self.format.fourcc == FourCC::new(b"MJPG") {
            data.to_vec()
        } else {
            let rgb = yuyv_to_rgb(data, w, h)?;
            encode_jpeg(&rgb, w, h, 3, self.config.jpeg_quality)?
        };
        let jpeg =
            apply_digital_gain_jpeg(&jpeg, settings.night_vision_gain, self.config.jpeg_quality)?;
        let (w, h) = jpeg_dimensions(&jpeg).unwrap_or((w, h));
        Ok((jpeg, w, h))
    }
}

impl Camera for UvcCamera {
    fn info(&self) -> CameraInfo {
        CameraInfo {
            kind: CameraDriver::Usb,
            name: self.name.clone(),
            width: self.format.width,
            height: self.format.height,
        }
    }

    fn settings(&self) -> CameraSettings {
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn set_settings(&self, settings: CameraSettings) -> Result<(), CameraError> {
        settings.validate()?;
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = settings;
        Ok(())
    }

    fn capture(&self) -> Result<Capture, CameraError> {
        let settings = self.settings();
        let _busy = BusyGuard::new(&self.capturing);
        if settings.save_raw {
            tracing::info!("UVC cameras have no raw output; returning JPEG only");
        }
        let (jpeg, width, height) = self.grab(&settings)?;
        Ok(Capture {
            jpeg,
            raw: None,
            width,
            height,
            settings,
        })
    }

    fn preview(&self) -> Result<Vec<u8>, CameraError> {
        Ok(self.grab(&self.settings())?.0)
    }

    fn is_capturing(&self) -> bool {
        self.capturing.load(Ordering::SeqCst)
    }
}
