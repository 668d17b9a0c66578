//! Choosing a camera: CSI first, then USB, then the simulator.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::rpicam::{RpicamCamera, RpicamConfig};
use super::sim::{SimCamera, SimCameraConfig};
use super::{Camera, CameraError};
use crate::clock::SimClock;
use crate::tracking::TrackingSource;

/// Which camera to use; `Auto` tries CSI, then USB, then the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CameraKind {
    /// First that works of CSI, USB, simulator.
    #[default]
    Auto,
    /// Raspberry Pi CSI camera via `rpicam-still` only.
    Csi,
    /// USB UVC camera only (needs the `v4l` feature).
    Usb,
    /// The simulator only.
    Sim,
}

impl std::str::FromStr for CameraKind {
    type Err = CameraError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "csi" | "rpicam" | "pi" => Ok(Self::Csi),
            "usb" | "uvc" | "v4l" => Ok(Self::Usb),
            "sim" | "simulator" => Ok(Self::Sim),
            other => Err(CameraError::InvalidSetting(format!(
                "unknown camera kind {other:?} (auto, csi, usb, sim)"
            ))),
        }
    }
}

/// Everything [`open_camera`] needs to build any driver.
#[derive(Clone, Default)]
pub struct DetectConfig {
    /// Which camera to use.
    pub kind: CameraKind,
    /// Settings for the CSI driver.
    pub rpicam: RpicamConfig,
    /// Settings for the simulator.
    pub sim: SimCameraConfig,
    /// Clock for the simulator (`None` = real time).
    pub sim_clock: Option<SimClock>,
    /// Where the simulator learns whether the mount tracks.
    pub tracking: Option<Arc<dyn TrackingSource>>,
    /// Settings for the USB driver.
    #[cfg(feature = "v4l")]
    pub uvc: super::uvc::UvcConfig,
}

/// Opens the configured camera. With `Auto` a missing or failing CSI or USB
/// camera is logged and the next one tried; the simulator always works.
pub fn open_camera(config: &DetectConfig) -> Result<Arc<dyn Camera>, CameraError> {
    match config.kind {
        CameraKind::Csi => open_csi(config),
        CameraKind::Usb => open_usb(config),
        CameraKind::Sim => Ok(open_sim(config)),
        CameraKind::Auto => {
            for (name, open) in [
                ("CSI", open_csi as fn(&DetectConfig) -> _),
                ("USB", open_usb),
            ] {
                match open(config) {
                    Ok(cam) => return Ok(cam),
                    Err(e) => tracing::info!("no {name} camera: {e}"),
                }
            }
            tracing::info!("using the simulated camera");
            Ok(open_sim(config))
        }
    }
}

fn open_csi(config: &DetectConfig) -> Result<Arc<dyn Camera>, CameraError> {
    Ok(Arc::new(RpicamCamera::open(config.rpicam.clone())?))
}

#[cfg(feature = "v4l")]
fn open_usb(config: &DetectConfig) -> Result<Arc<dyn Camera>, CameraError> {
    Ok(Arc::new(super::uvc::UvcCamera::detect(&config.uvc)?))
}

#[cfg(not(feature = "v4l"))]
fn open_usb(_: &DetectConfig) -> Result<Arc<dyn Camera>, CameraError> {
    Err(CameraError::Unsupported(
        "USB cameras need wanda-hardware built with the `v4l` feature".into(),
    ))
}

fn open_sim(config: &DetectConfig) -> Arc<dyn Camera> {
    let mut cam = SimCamera::new(config.sim);
    if let Some(clock) = &config.sim_clock {
        cam = cam.with_clock(clock.clone());
    }
    if let Some(source) = &config.tracking {
        cam = cam.with_tracking(source.clone());
    }
    Arc::new(cam)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::CameraDriver;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;
    use std::sync::atomic::AtomicBool;

    fn absent() -> DetectConfig {
        DetectConfig {
            rpicam: RpicamConfig {
                program: PathBuf::from("/nonexistent/rpicam-still"),
                ..RpicamConfig::default()
            },
            sim: SimCameraConfig {
                width: 320,
                height: 240,
                ..SimCameraConfig::default()
            },
            ..DetectConfig::default()
        }
    }

    #[test]
    fn kinds_parse_and_serialize() {
        assert_eq!("CSI".parse::<CameraKind>().unwrap(), CameraKind::Csi);
        assert_eq!("uvc".parse::<CameraKind>().unwrap(), CameraKind::Usb);
        assert!("webcam9000".parse::<CameraKind>().is_err());
        let json = serde_json::to_string(&CameraKind::Sim).unwrap();
        assert_eq!(json, "\"sim\"");
        let back: CameraKind = serde_json::from_str("\"auto\"").unwrap();
        assert_eq!(back, CameraKind::Auto);
    }

    #[test]
    fn auto_falls_back_to_the_simulator() {
        let flag = Arc::new(AtomicBool::new(true));
        let config = DetectConfig {
            tracking: Some(flag),
            ..absent()
        };
        let cam = open_camera(&config).unwrap();
        assert_eq!(cam.info().kind, CameraDriver::Sim);
        assert_eq!(cam.info().width, 320);
        assert!(cam.capture().unwrap().jpeg.starts_with(&[0xFF, 0xD8]));
    }

    #[test]
    fn forced_kinds_fail_clearly_when_absent() {
        let csi = DetectConfig {
            kind: CameraKind::Csi,
            ..absent()
        };
        let err = open_camera(&csi).err().unwrap();
        assert!(matches!(err, CameraError::NotFound(_)), "{err}");
        let sim = DetectConfig {
            kind: CameraKind::Sim,
            ..absent()
        };
        assert_eq!(open_camera(&sim).unwrap().info().kind, CameraDriver::Sim);
        #[cfg(not(feature = "v4l"))]
        {
            let usb = DetectConfig {
                kind: CameraKind::Usb,
                ..absent()
            };
            let err = open_camera(&usb).err().unwrap();
            assert!(err.to_string().contains("`v4l` feature"), "{err}");
        }
    }

    #[test]
    fn auto_prefers_a_present_csi_camera() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("rpicam-still");
        let script = "#!/bin/sh\necho '0 : imx477 [4056x3040 12-bit RGGB] (/base/x)'\n";
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mut config = absent();
        config.rpicam.program = program;
        let cam = open_camera(&config).unwrap();
        assert_eq!(cam.info().kind, CameraDriver::Csi);
        assert_eq!(cam.info().name, "imx477");
    }
}
