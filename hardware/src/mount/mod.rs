//! Equatorial mounts: the [`Mount`] trait, the simulator and the stepper
//! driver.
//!
//! All [`Mount`] methods are cheap and non-blocking apart from joining the
//! stepping thread on stop (at most one step's pin writes), so a tokio app
//! may call them directly.

#[cfg(feature = "gpio")]
mod gpio;
mod output;
mod sequence;
mod sidereal;
mod sim;
mod stepper;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

#[cfg(feature = "gpio")]
pub use gpio::{GpioMount, GpioOutput};
pub use output::{CoilOutput, RecordingOutput};
pub use sequence::StepSequence;
pub use sidereal::{
    BYJ48_FULL_STEPS_PER_REV, BYJ48_GEARBOX, DriveGeometry, MAX_SPEED, SIDEREAL_DAY_S,
    SIDEREAL_RATE_ARCSEC_PER_S, validate_speed,
};
pub use sim::SimMount;
pub use stepper::{Drive, StepperConfig, StepperMount};

/// Errors from mount drivers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MountError {
    /// A configuration value or setting is invalid.
    #[error("invalid mount configuration: {0}")]
    InvalidConfig(String),
    /// Writing the motor pins failed.
    #[error("motor output failed: {0}")]
    Output(String),
}

/// Which celestial hemisphere the mount is in; sets the RA drive direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hemisphere {
    /// Northern hemisphere (forward steps).
    #[default]
    North,
    /// Southern hemisphere (backward steps).
    South,
}

/// Step direction (+1 or −1) for a hemisphere and a wiring reversal.
pub fn step_direction(hemisphere: Hemisphere, reverse: bool) -> i64 {
    let base = match hemisphere {
        Hemisphere::North => 1,
        Hemisphere::South => -1,
    };
    if reverse { -base } else { base }
}

/// A snapshot of a mount's state, ready to serialize as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MountStatus {
    /// Driver name (`sim`, `gpio`, …).
    pub driver: String,
    /// True while the mount tracks.
    pub tracking: bool,
    /// Hemisphere setting.
    pub hemisphere: Hemisphere,
    /// True when the motor direction is reversed.
    pub reverse: bool,
    /// Speed as a multiple of the sidereal rate.
    pub speed: f64,
    /// Signed step count since the mount was created.
    pub steps: i64,
    /// Seconds between steps at the current speed.
    pub step_interval_s: f64,
    /// Steps for one turn of the RA axis.
    pub steps_per_axis_rev: f64,
    /// The last error from the stepping thread, if it stopped on one.
    pub error: Option<String>,
}

/// An equatorial mount that can track the sky.
pub trait Mount: Send + Sync {
    /// Starts tracking at the configured speed and direction (no-op if on).
    fn start_tracking(&self) -> Result<(), MountError>;

    /// Stops tracking and de-energises the motor (no-op if off).
    fn stop_tracking(&self) -> Result<(), MountError>;

    /// True while tracking.
    fn is_tracking(&self) -> bool {
        crate::TrackingSource::is_tracking(&*self.tracking_flag())
    }

    /// Sets the hemisphere; takes effect at once if tracking.
    fn set_hemisphere(&self, hemisphere: Hemisphere) -> Result<(), MountError>;

    /// Reverses the motor direction (for mirrored wiring or mounting).
    fn set_reverse(&self, reverse: bool) -> Result<(), MountError>;

    /// Sets the speed as a multiple of sidereal (1.0 = sidereal).
    fn set_speed(&self, speed: f64) -> Result<(), MountError>;

    /// A serializable snapshot of the mount's state.
    fn status(&self) -> MountStatus;

    /// The shared flag that is true while tracking; give it to
    /// [`crate::SimCamera::with_tracking`].
    fn tracking_flag(&self) -> Arc<AtomicBool>;
}
