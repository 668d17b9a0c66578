//! Sidereal-rate maths: how often the motor must step so the RA axis turns
//! once per sidereal day.

use serde::Serialize;

use super::MountError;
use super::sequence::StepSequence;

/// Length of one sidereal day in SI seconds.
pub const SIDEREAL_DAY_S: f64 = 86_164.090_5;

/// Apparent motion of the sky at the celestial equator, arcseconds per
/// second (360° per sidereal day ≈ 15.041″/s).
pub const SIDEREAL_RATE_ARCSEC_PER_S: f64 = 1_296_000.0 / SIDEREAL_DAY_S;

/// Exact ratio of the 28BYJ-48's internal gearbox:
/// (32/9)·(22/11)·(26/9)·(31/10) = 63.683 950 6…, not the nominal 64.
pub const BYJ48_GEARBOX: f64 = (32.0 * 22.0 * 26.0 * 31.0) / (9.0 * 11.0 * 9.0 * 10.0);

/// Full steps per output-shaft turn of a 28BYJ-48: 32 rotor steps × gearbox
/// = 2037.886… (often quoted as 2048). Half-stepping doubles it.
pub const BYJ48_FULL_STEPS_PER_REV: f64 = 32.0 * BYJ48_GEARBOX;

/// Largest accepted speed multiplier (× sidereal).
pub const MAX_SPEED: f64 = 1000.0;

/// The drive train from motor steps to one turn of the RA axis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DriveGeometry {
    /// Full steps per turn of the motor's output shaft (200 for a 1.8°
    /// NEMA motor, [`BYJ48_FULL_STEPS_PER_REV`] for a 28BYJ-48).
    pub motor_full_steps_per_rev: f64,
    /// Steps issued per full step: the driver's microstepping for
    /// step/dir drivers, 2 for half-step coil sequences, 1 for full-step.
    pub microsteps: u32,
    /// Motor turns per RA-axis turn (external gearing, e.g. a 144:1 worm).
    pub gear_ratio: f64,
}

impl DriveGeometry {
    /// A 28BYJ-48 on a ULN2003 driven with `sequence`, behind `gear_ratio`.
    pub fn byj48(sequence: StepSequence, gear_ratio: f64) -> Self {
        Self {
            motor_full_steps_per_rev: BYJ48_FULL_STEPS_PER_REV,
            microsteps: sequence.steps_per_full_step(),
            gear_ratio,
        }
    }

    /// A 200-step (1.8°) motor on a step/dir driver.
    pub fn nema_200(microsteps: u32, gear_ratio: f64) -> Self {
        Self {
            motor_full_steps_per_rev: 200.0,
            microsteps,
            gear_ratio,
        }
    }

    /// Steps the controller issues for one full turn of the RA axis.
    pub fn steps_per_axis_rev(&self) -> f64 {
        self.motor_full_steps_per_rev * f64::from(self.microsteps) * self.gear_ratio
    }

    /// Seconds between steps to turn the axis at `speed` × sidereal rate.
    pub fn step_interval_s(&self, speed: f64) -> f64 {
        SIDEREAL_DAY_S / (self.steps_per_axis_rev() * speed)
    }

    /// Steps per second at `speed` × sidereal rate.
    pub fn step_rate_hz(&self, speed: f64) -> f64 {
        1.0 / self.step_interval_s(speed)
    }

    /// Rejects non-positive or non-finite values.
    pub fn validate(&self) -> Result<(), MountError> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        if !ok(self.motor_full_steps_per_rev) || self.microsteps == 0 || !ok(self.gear_ratio) {
            return Err(MountError::InvalidConfig(format!(
                "drive geometry must be positive: {self:?}"
            )));
        }
        Ok(())
    }
}

/// Checks a speed multiplier is in (0, [`MAX_SPEED`]].
pub fn validate_speed(speed: f64) -> Result<(), MountError> {
    if !speed.is_finite() || speed <= 0.0 || speed > MAX_SPEED {
        return Err(MountError::InvalidConfig(format!(
            "speed {speed} × sidereal is outside (0, {MAX_SPEED}]"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_one_turn_per_sidereal_day(g: DriveGeometry) {
        let day = g.steps_per_axis_rev() * g.step_interval_s(1.0);
        assert!(
            ((day - SIDEREAL_DAY_S) / SIDEREAL_DAY_S).abs() < 1e-9,
            "{g:?}: {day}"
        );
    }

    #[test]
    fn interval_times_steps_is_one_sidereal_day() {
        assert_one_turn_per_sidereal_day(DriveGeometry::byj48(StepSequence::Half, 1.0));
        assert_one_turn_per_sidereal_day(DriveGeometry::byj48(StepSequence::Full, 100.0));
        assert_one_turn_per_sidereal_day(DriveGeometry::nema_200(16, 144.0));
    }

    #[test]
    fn byj48_numbers_are_exact() {
        assert!((BYJ48_GEARBOX - 63.683_950_617).abs() < 1e-8);
        assert!((BYJ48_FULL_STEPS_PER_REV - 2_037.886_419_75).abs() < 1e-6);
        let half = DriveGeometry::byj48(StepSequence::Half, 1.0);
        assert!((half.steps_per_axis_rev() - 4_075.772_839_5).abs() < 1e-6);
        // 86164.0905 s / 4075.7728 steps = 21.1406 s per half step.
        assert!((half.step_interval_s(1.0) - 21.140_62).abs() < 1e-4);
    }

    #[test]
    fn speed_scales_the_rate() {
        let g = DriveGeometry::nema_200(16, 144.0);
        // 460 800 steps per sidereal day = 5.3480 steps/s.
        assert!((g.step_rate_hz(1.0) - 460_800.0 / SIDEREAL_DAY_S).abs() < 1e-12);
        assert!((g.step_interval_s(2.0) * 2.0 - g.step_interval_s(1.0)).abs() < 1e-15);
        assert!((SIDEREAL_RATE_ARCSEC_PER_S - 15.041_068_6).abs() < 1e-6);
    }

    #[test]
    fn bad_values_are_rejected() {
        assert!(validate_speed(0.0).is_err());
        assert!(validate_speed(f64::NAN).is_err());
        assert!(validate_speed(MAX_SPEED * 2.0).is_err());
        assert!(validate_speed(0.5).is_ok());
        let mut g = DriveGeometry::nema_200(0, 1.0);
        assert!(g.validate().is_err());
        g.microsteps = 1;
        g.gear_ratio = -3.0;
        assert!(g.validate().is_err());
    }
}
