//! Opens the camera and mount the config asks for (the only place the app picks drivers).

use super::config::{CameraConfig, MountConfig};
use anyhow::{Result, anyhow};
use std::sync::Arc;
use wanda_hardware::mount::StepSequence;
use wanda_hardware::{
    Camera, CameraKind, DetectConfig, DriveGeometry, Mount, SimCameraConfig, SimMount,
    TrackingSource, open_camera,
};

/// The geometry from `[mount]`.
pub fn geometry(cfg: &MountConfig) -> DriveGeometry {
    DriveGeometry {
        motor_full_steps_per_rev: cfg.motor_full_steps_per_rev,
        microsteps: cfg.microsteps,
        gear_ratio: cfg.gear_ratio,
    }
}

/// Opens the configured mount.
pub fn open_mount(cfg: &MountConfig) -> Result<Arc<dyn Mount>> {
    match cfg.driver.as_str() {
        "sim" => Ok(Arc::new(SimMount::new(geometry(cfg))?)),
        "gpio" => open_gpio(cfg),
        other => Err(anyhow!("mount.driver: unknown driver {other:?}")),
    }
}

#[cfg(feature = "gpio")]
fn open_gpio(cfg: &MountConfig) -> Result<Arc<dyn Mount>> {
    use wanda_hardware::mount::{Drive, GpioMount, GpioOutput};
    use wanda_hardware::{Hemisphere, StepperConfig};
    let sequence = if cfg.microsteps == 2 {
        StepSequence::Half
    } else {
        StepSequence::Full
    };
    let output = GpioOutput::open(std::path::Path::new(&cfg.gpio_chip), &cfg.gpio_pins)?;
    let config = StepperConfig {
        geometry: geometry(cfg),
        drive: Drive::Coils(sequence),
        hemisphere: Hemisphere::North,
        reverse: false,
        speed: 1.0,
    };
    Ok(Arc::new(GpioMount::new("gpio", output, config)?))
}

#[cfg(not(feature = "gpio"))]
fn open_gpio(_: &MountConfig) -> Result<Arc<dyn Mount>> {
    let _ = StepSequence::Half;
    Err(anyhow!(
        "mount.driver = \"gpio\" needs a binary built with `--features gpio` (scripts/build-pi.sh does)"
    ))
}

/// Opens the configured camera; the simulator sees whether `mount` tracks.
pub fn open_configured_camera(
    cfg: &CameraConfig,
    mount: &Arc<dyn Mount>,
) -> Result<Arc<dyn Camera>> {
    let kind: CameraKind = cfg.driver.parse()?;
    let tracking: Arc<dyn TrackingSource> = mount.tracking_flag();
    let detect = DetectConfig {
        kind,
        sim: SimCameraConfig {
            seed: cfg.sim_seed,
            width: cfg.sim_width,
            height: cfg.sim_height,
            realtime: true,
            ..SimCameraConfig::default()
        },
        tracking: Some(tracking),
        ..DetectConfig::default()
    };
    Ok(open_camera(&detect)?)
}
