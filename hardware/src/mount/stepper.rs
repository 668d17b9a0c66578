//! `StepperMount`: drives any [`CoilOutput`] at the computed sidereal step
//! rate from a dedicated thread.
//!
//! The thread steps at absolute deadlines `start + n × interval`, so timer
//! jitter never accumulates into drift; it waits on a channel so `stop` is
//! immediate even when steps are seconds apart.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::sequence::StepSequence;
use super::sidereal::{DriveGeometry, validate_speed};
use super::{CoilOutput, Hemisphere, Mount, MountError, MountStatus, step_direction};

/// How the pins drive the motor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drive {
    /// Four coil pins (ULN2003 IN1..IN4) stepped through a sequence.
    Coils(StepSequence),
    /// Two pins `[step, dir]` for an A4988/DRV8825-style driver; each step
    /// is a high pulse of the given width on `step`.
    StepDir {
        /// Width of the step pulse.
        pulse: Duration,
    },
}

impl Drive {
    /// Pins this drive needs.
    pub fn pin_count(self) -> usize {
        match self {
            Drive::Coils(_) => 4,
            Drive::StepDir { .. } => 2,
        }
    }
}

/// Configuration of a [`StepperMount`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepperConfig {
    /// Motor, microstepping and gearing.
    pub geometry: DriveGeometry,
    /// Coil sequence or step/dir pulses.
    pub drive: Drive,
    /// Hemisphere (sets the direction).
    pub hemisphere: Hemisphere,
    /// Reverse the direction.
    pub reverse: bool,
    /// Speed multiple of sidereal.
    pub speed: f64,
}

impl StepperConfig {
    /// A 28BYJ-48 on a ULN2003 board, half-stepping, behind `gear_ratio`.
    pub fn byj48_half_step(gear_ratio: f64) -> Self {
        Self {
            geometry: DriveGeometry::byj48(StepSequence::Half, gear_ratio),
            drive: Drive::Coils(StepSequence::Half),
            hemisphere: Hemisphere::North,
            reverse: false,
            speed: 1.0,
        }
    }
}

/// State shared with the stepping thread.
struct Shared<O> {
    output: Mutex<O>,
    steps: AtomicI64,
    phase: AtomicUsize,
    tracking: Arc<AtomicBool>,
    error: Mutex<Option<String>>,
}

impl<O: CoilOutput> Shared<O> {
    fn out(&self) -> std::sync::MutexGuard<'_, O> {
        self.output.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Holds the current phase (coils) so the motor keeps its position.
    fn energise(&self, drive: Drive, dir: i64) -> Result<(), MountError> {
        match drive {
            Drive::Coils(seq) => self
                .out()
                .write(&seq.levels(self.phase.load(Ordering::SeqCst))),
            Drive::StepDir { .. } => self.out().write(&[false, dir > 0]),
        }
    }

    /// Issues one step in direction `dir`.
    fn step(&self, drive: Drive, dir: i64) -> Result<(), MountError> {
        match drive {
            Drive::Coils(seq) => {
                let next = seq.next_index(self.phase.load(Ordering::SeqCst), dir);
                self.out().write(&seq.levels(next))?;
                self.phase.store(next, Ordering::SeqCst);
            }
            Drive::StepDir { pulse } => {
                let mut out = self.out();
                out.write(&[true, dir > 0])?;
                spin_sleep(pulse);
                out.write(&[false, dir > 0])?;
            }
        }
        self.steps.fetch_add(dir, Ordering::SeqCst);
        Ok(())
    }

    fn de_energise(&self) -> Result<(), MountError> {
        let mut out = self.out();
        let pins = out.pin_count();
        out.write(&vec![false; pins])
    }
}

/// Busy-waits for very short pulses, sleeps for longer ones.
fn spin_sleep(d: Duration) {
    if d > Duration::from_millis(1) {
        std::thread::sleep(d);
    } else {
        let end = Instant::now() + d;
        while Instant::now() < end {
            std::hint::spin_loop();
        }
    }
}

struct Runner {
    stop: Sender<()>,
    handle: JoinHandle<()>,
}

/// A stepper-motor mount over any [`CoilOutput`] (GPIO on the Pi, or
/// [`super::RecordingOutput`] in tests).
pub struct StepperMount<O: CoilOutput + 'static> {
    name: String,
    config: Mutex<StepperConfig>,
    shared: Arc<Shared<O>>,
    runner: Mutex<Option<Runner>>,
}

impl<O: CoilOutput + 'static> StepperMount<O> {
    /// Wraps `output`, checks the configuration and de-energises the pins.
    pub fn new(name: &str, output: O, config: StepperConfig) -> Result<Self, MountError> {
        config.geometry.validate()?;
        validate_speed(config.speed)?;
        if output.pin_count() != config.drive.pin_count() {
            return Err(MountError::InvalidConfig(format!(
                "{:?} needs {} pins, the output has {}",
                config.drive,
                config.drive.pin_count(),
                output.pin_count()
            )));
        }
        let shared = Arc::new(Shared {
            output: Mutex::new(output),
            steps: AtomicI64::new(0),
            phase: AtomicUsize::new(0),
            tracking: Arc::new(AtomicBool::new(false)),
            error: Mutex::new(None),
        });
        shared.de_energise()?;
        Ok(Self {
            name: name.to_string(),
            config: Mutex::new(config),
            shared,
            runner: Mutex::new(None),
        })
    }

    /// Current configuration.
    pub fn config(&self) -> StepperConfig {
        *self.config.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn runner(&self) -> std::sync::MutexGuard<'_, Option<Runner>> {
        self.runner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn spawn(&self, runner: &mut Option<Runner>) -> Result<(), MountError> {
        if runner.is_some() {
            return Ok(());
        }
        let config = self.config();
        let dir = step_direction(config.hemisphere, config.reverse);
        let interval = config.geometry.step_interval_s(config.speed);
        *self
            .shared
            .error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        self.shared.energise(config.drive, dir)?;
        self.shared.tracking.store(true, Ordering::SeqCst);
        let (stop, stop_rx) = mpsc::channel::<()>();
        let shared = self.shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("{}-stepper", self.name))
            .spawn(move || {
                let start = Instant::now();
                for n in 1u64.. {
                    let deadline = start + Duration::from_secs_f64(interval * n as f64);
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match stop_rx.recv_timeout(wait) {
                        Err(RecvTimeoutError::Timeout) => {}
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                    }
                    if let Err(e) = shared.step(config.drive, dir) {
                        tracing::error!("stepper stopped: {e}");
                        *shared.error.lock().unwrap_or_else(PoisonError::into_inner) =
                            Some(e.to_string());
                        shared.tracking.store(false, Ordering::SeqCst);
                        let _ = shared.de_energise();
                        return;
                    }
                }
            })
            .map_err(|e| MountError::Output(format!("cannot start stepping thread: {e}")))?;
        *runner = Some(Runner { stop, handle });
        Ok(())
    }

    fn halt(&self, runner: &mut Option<Runner>) -> Result<(), MountError> {
        if let Some(r) = runner.take() {
            let _ = r.stop.send(());
            let _ = r.handle.join();
        }
        self.shared.tracking.store(false, Ordering::SeqCst);
        self.shared.de_energise()
    }

    /// Applies a config change, restarting the thread if it was running.
    fn reconfigure(&self, change: impl FnOnce(&mut StepperConfig)) -> Result<(), MountError> {
        let mut runner = self.runner();
        let was_running = runner.is_some() && self.shared.tracking.load(Ordering::SeqCst);
        if was_running {
            self.halt(&mut runner)?;
        }
        change(&mut self.config.lock().unwrap_or_else(PoisonError::into_inner));
        if was_running {
            self.spawn(&mut runner)?;
        }
        Ok(())
    }
}

impl<O: CoilOutput + 'static> Mount for StepperMount<O> {
    fn start_tracking(&self) -> Result<(), MountError> {
        let mut runner = self.runner();
        if runner.is_some() && !self.shared.tracking.load(Ordering::SeqCst) {
            // The thread died on an output error: clean it up first.
            self.halt(&mut runner)?;
        }
        self.spawn(&mut runner)
    }

    fn stop_tracking(&self) -> Result<(), MountError> {
        self.halt(&mut self.runner())
    }

    fn set_hemisphere(&self, hemisphere: Hemisphere) -> Result<(), MountError> {
        self.reconfigure(|c| c.hemisphere = hemisphere)
    }

    fn set_reverse(&self, reverse: bool) -> Result<(), MountError> {
        self.reconfigure(|c| c.reverse = reverse)
    }

    fn set_speed(&self, speed: f64) -> Result<(), MountError> {
        validate_speed(speed)?;
        self.reconfigure(|c| c.speed = speed)
    }

    fn status(&self) -> MountStatus {
        let c = self.config();
        MountStatus {
            driver: self.name.clone(),
            tracking: self.shared.tracking.load(Ordering::SeqCst),
            hemisphere: c.hemisphere,
            reverse: c.reverse,
            speed: c.speed,
            steps: self.shared.steps.load(Ordering::SeqCst),
            step_interval_s: c.geometry.step_interval_s(c.speed),
            steps_per_axis_rev: c.geometry.steps_per_axis_rev(),
            error: self
                .shared
                .error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    fn tracking_flag(&self) -> Arc<AtomicBool> {
        self.shared.tracking.clone()
    }
}

impl<O: CoilOutput + 'static> Drop for StepperMount<O> {
    fn drop(&mut self) {
        let mut runner = self.runner.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = self.halt(&mut runner) {
            tracing::warn!("could not de-energise {} on drop: {e}", self.name);
        }
    }
}

#[cfg(test)]
#[path = "stepper_tests.rs"]
mod tests;
