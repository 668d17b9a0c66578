//! `SimMount`: a simulated mount whose step count advances with (simulated)
//! time at the computed sidereal step rate.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::sidereal::{DriveGeometry, validate_speed};
use super::{Hemisphere, Mount, MountError, MountStatus, StepSequence, step_direction};
use crate::clock::SimClock;

#[derive(Debug)]
struct State {
    hemisphere: Hemisphere,
    reverse: bool,
    speed: f64,
    /// Steps accumulated before the current tracking segment.
    base_steps: i64,
    /// Clock time (s) the current tracking segment started.
    since: Option<f64>,
}

/// A simulated mount. It records its settings and, while tracking, counts
/// the steps a real stepper with the same geometry would have made.
pub struct SimMount {
    geometry: DriveGeometry,
    clock: SimClock,
    tracking: Arc<AtomicBool>,
    state: Mutex<State>,
}

impl SimMount {
    /// A simulated mount with `geometry` on a real-time clock.
    pub fn new(geometry: DriveGeometry) -> Result<Self, MountError> {
        geometry.validate()?;
        Ok(Self {
            geometry,
            clock: SimClock::real(),
            tracking: Arc::new(AtomicBool::new(false)),
            state: Mutex::new(State {
                hemisphere: Hemisphere::North,
                reverse: false,
                speed: 1.0,
                base_steps: 0,
                since: None,
            }),
        })
    }

    /// Uses `clock` (share it with a `SimCamera`).
    pub fn with_clock(mut self, clock: SimClock) -> Self {
        self.clock = clock;
        self
    }

    /// The drive geometry.
    pub fn geometry(&self) -> DriveGeometry {
        self.geometry
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Steps made so far, counting whole steps of the current segment.
    fn steps(&self, s: &State) -> i64 {
        let running = s.since.map_or(0, |since| {
            let elapsed = (self.clock.now().as_secs_f64() - since).max(0.0);
            (elapsed / self.geometry.step_interval_s(s.speed)).floor() as i64
        });
        s.base_steps + step_direction(s.hemisphere, s.reverse) * running
    }

    /// Ends the current segment (folding its steps in) and, if tracking,
    /// starts a new one now.
    fn change(&self, f: impl FnOnce(&mut State)) {
        let mut s = self.lock();
        s.base_steps = self.steps(&s);
        if s.since.is_some() {
            s.since = Some(self.clock.now().as_secs_f64());
        }
        f(&mut s);
    }
}

impl Default for SimMount {
    /// A 28BYJ-48, half-stepping, direct drive.
    fn default() -> Self {
        Self::new(DriveGeometry::byj48(StepSequence::Half, 1.0))
            .expect("the 28BYJ-48 geometry is valid")
    }
}

impl Mount for SimMount {
    fn start_tracking(&self) -> Result<(), MountError> {
        let now = self.clock.now().as_secs_f64();
        let mut s = self.lock();
        if s.since.is_none() {
            s.since = Some(now);
        }
        self.tracking.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn stop_tracking(&self) -> Result<(), MountError> {
        let mut s = self.lock();
        s.base_steps = self.steps(&s);
        s.since = None;
        self.tracking.store(false, Ordering::SeqCst);
        Ok(())
    }

    fn set_hemisphere(&self, hemisphere: Hemisphere) -> Result<(), MountError> {
        self.change(|s| s.hemisphere = hemisphere);
        Ok(())
    }

    fn set_reverse(&self, reverse: bool) -> Result<(), MountError> {
        self.change(|s| s.reverse = reverse);
        Ok(())
    }

    fn set_speed(&self, speed: f64) -> Result<(), MountError> {
        validate_speed(speed)?;
        self.change(|s| s.speed = speed);
        Ok(())
    }

    fn status(&self) -> MountStatus {
        let s = self.lock();
        MountStatus {
            driver: "sim".into(),
            tracking: s.since.is_some(),
            hemisphere: s.hemisphere,
            reverse: s.reverse,
            speed: s.speed,
            steps: self.steps(&s),
            step_interval_s: self.geometry.step_interval_s(s.speed),
            steps_per_axis_rev: self.geometry.steps_per_axis_rev(),
            error: None,
        }
    }

    fn tracking_flag(&self) -> Arc<AtomicBool> {
        self.tracking.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mount::SIDEREAL_DAY_S;
    use std::time::Duration;

    fn mount() -> (SimMount, SimClock) {
        let clock = SimClock::manual();
        (SimMount::default().with_clock(clock.clone()), clock)
    }

    #[test]
    fn steps_advance_with_time_only_while_tracking() {
        let (m, clock) = mount();
        clock.advance(Duration::from_secs(100));
        assert_eq!(m.status().steps, 0);
        m.start_tracking().unwrap();
        assert!(m.is_tracking() && m.tracking_flag().load(Ordering::SeqCst));
        // One sidereal day turns the axis exactly once.
        clock.advance(Duration::from_secs_f64(SIDEREAL_DAY_S + 1e-3));
        let per_rev = m.geometry().steps_per_axis_rev();
        assert_eq!(m.status().steps, per_rev.floor() as i64);
        m.stop_tracking().unwrap();
        let frozen = m.status().steps;
        clock.advance(Duration::from_secs(1000));
        assert_eq!(m.status().steps, frozen);
        assert!(!m.tracking_flag().load(Ordering::SeqCst));
    }

    #[test]
    fn speed_and_direction_changes_fold_in_steps() {
        let (m, clock) = mount();
        let interval = m.status().step_interval_s;
        m.start_tracking().unwrap();
        clock.advance(Duration::from_secs_f64(interval * 10.5));
        m.set_speed(2.0).unwrap();
        assert_eq!(m.status().steps, 10);
        clock.advance(Duration::from_secs_f64(interval * 5.25)); // 10.5 steps at 2×
        m.set_hemisphere(Hemisphere::South).unwrap();
        assert_eq!(m.status().steps, 20);
        clock.advance(Duration::from_secs_f64(interval * 2.1)); // 4.2 steps back
        assert_eq!(m.status().steps, 16);
        let json = serde_json::to_value(m.status()).unwrap();
        assert_eq!(json["driver"], "sim");
        assert_eq!(json["hemisphere"], "south");
        assert_eq!(json["speed"], 2.0);
        assert!(m.set_speed(0.0).is_err());
    }
}
