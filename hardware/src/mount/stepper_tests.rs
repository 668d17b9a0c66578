//! Tests of the stepping thread against the in-memory pin backend.

use std::time::{Duration, Instant};

use super::*;
use crate::mount::RecordingOutput;

/// 2037.886 × 2 × 10 steps per turn at 1000× sidereal ≈ 2.114 ms per step.
fn fast(drive: Drive) -> StepperConfig {
    StepperConfig {
        geometry: DriveGeometry::byj48(StepSequence::Half, 10.0),
        drive,
        hemisphere: Hemisphere::North,
        reverse: false,
        speed: 1000.0,
    }
}

fn run_for(mount: &impl Mount, d: Duration) -> Duration {
    let start = Instant::now();
    mount.start_tracking().unwrap();
    std::thread::sleep(d);
    mount.stop_tracking().unwrap();
    start.elapsed()
}

#[test]
fn coils_follow_the_half_step_sequence_and_stop_de_energises() {
    let rec = RecordingOutput::new(4);
    let mount =
        StepperMount::new("test", rec.clone(), fast(Drive::Coils(StepSequence::Half))).unwrap();
    assert_eq!(rec.levels(), vec![false; 4], "idle motor is de-energised");
    run_for(&mount, Duration::from_millis(100));
    let history = rec.history();
    let seq = StepSequence::Half;
    assert_eq!(history[0], vec![false; 4]);
    assert_eq!(history[1], seq.levels(0).to_vec(), "holds phase 0 on start");
    let steps = &history[2..history.len() - 1];
    assert!(steps.len() > 10, "only {} steps", steps.len());
    for (k, levels) in steps.iter().enumerate() {
        assert_eq!(levels, &seq.levels(k + 1).to_vec(), "step {k}");
    }
    assert_eq!(
        history.last().unwrap(),
        &vec![false; 4],
        "stop → all pins low"
    );
    assert_eq!(mount.status().steps, steps.len() as i64);
    assert!(!mount.is_tracking());
}

#[test]
fn south_or_reversed_steps_backwards() {
    for (hemisphere, reverse, sign) in [
        (Hemisphere::South, false, -1),
        (Hemisphere::North, true, -1),
        (Hemisphere::South, true, 1),
    ] {
        let rec = RecordingOutput::new(4);
        let mut config = fast(Drive::Coils(StepSequence::Full));
        config.hemisphere = hemisphere;
        config.reverse = reverse;
        let mount = StepperMount::new("test", rec.clone(), config).unwrap();
        run_for(&mount, Duration::from_millis(40));
        let steps = mount.status().steps;
        assert!(steps * sign > 3, "{hemisphere:?}/{reverse}: {steps}");
        let history = rec.history();
        let seq = StepSequence::Full;
        let second = seq.next_index(0, sign);
        assert_eq!(history[2], seq.levels(second).to_vec());
    }
}

#[test]
fn step_dir_pulses_step_pin_with_direction_level() {
    let rec = RecordingOutput::new(2);
    let mut config = fast(Drive::StepDir {
        pulse: Duration::from_micros(10),
    });
    config.hemisphere = Hemisphere::South;
    let mount = StepperMount::new("test", rec.clone(), config).unwrap();
    run_for(&mount, Duration::from_millis(40));
    let history = rec.history();
    assert_eq!(history[1], vec![false, false], "dir low for south");
    let pulses = &history[2..history.len() - 1];
    assert_eq!(pulses.len() % 2, 0);
    for pair in pulses.chunks(2) {
        assert_eq!(pair, [vec![true, false], vec![false, false]]);
    }
    assert_eq!(mount.status().steps, -((pulses.len() / 2) as i64));
}

#[test]
fn step_count_keeps_pace_with_absolute_deadlines() {
    let rec = RecordingOutput::new(4);
    let mount = StepperMount::new("test", rec, fast(Drive::Coils(StepSequence::Half))).unwrap();
    let interval = mount.status().step_interval_s;
    assert!((interval - 0.002_114).abs() < 1e-5, "{interval}");
    let elapsed = run_for(&mount, Duration::from_millis(300));
    let max = (elapsed.as_secs_f64() / interval).floor() as i64;
    let steps = mount.status().steps;
    assert!(steps <= max, "{steps} steps in {elapsed:?} (max {max})");
    assert!(
        steps >= max - 8,
        "{steps} steps in {elapsed:?} (expected ~{max})"
    );
}

#[test]
fn stop_is_immediate_even_at_sidereal_rate() {
    let rec = RecordingOutput::new(4);
    let mount =
        StepperMount::new("test", rec.clone(), StepperConfig::byj48_half_step(1.0)).unwrap();
    mount.start_tracking().unwrap();
    assert!(mount.is_tracking());
    assert!((mount.status().step_interval_s - 21.1406).abs() < 1e-3);
    let t = Instant::now();
    mount.stop_tracking().unwrap();
    assert!(t.elapsed() < Duration::from_millis(200));
    assert_eq!(rec.levels(), vec![false; 4]);
    assert_eq!(mount.status().steps, 0);
}

#[test]
fn changing_speed_while_tracking_restarts_at_new_rate() {
    let rec = RecordingOutput::new(4);
    let mut config = fast(Drive::Coils(StepSequence::Half));
    config.speed = 1.0;
    let mount = StepperMount::new("test", rec, config).unwrap();
    mount.start_tracking().unwrap();
    mount.set_speed(1000.0).unwrap();
    assert!(mount.is_tracking());
    std::thread::sleep(Duration::from_millis(50));
    mount.set_hemisphere(Hemisphere::South).unwrap();
    let status = mount.status();
    assert!(status.tracking && status.steps > 5, "{status:?}");
    assert!(mount.set_speed(-1.0).is_err());
    mount.stop_tracking().unwrap();
    let json = serde_json::to_value(mount.status()).unwrap();
    assert_eq!(json["hemisphere"], "south");
    assert_eq!(json["tracking"], false);
    assert_eq!(json["speed"], 1000.0);
}

#[test]
fn wrong_pin_count_is_rejected() {
    let err = StepperMount::new(
        "test",
        RecordingOutput::new(2),
        fast(Drive::Coils(StepSequence::Full)),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("needs 4 pins"), "{err}");
}

/// Fails every write after the first `ok` ones.
struct Flaky {
    ok: usize,
    writes: usize,
}

impl CoilOutput for Flaky {
    fn pin_count(&self) -> usize {
        4
    }
    fn write(&mut self, _: &[bool]) -> Result<(), MountError> {
        self.writes += 1;
        if self.writes > self.ok {
            Err(MountError::Output("line gone".into()))
        } else {
            Ok(())
        }
    }
}

#[test]
fn output_failure_stops_tracking_and_reports() {
    let flaky = Flaky { ok: 5, writes: 0 };
    let mount = StepperMount::new("test", flaky, fast(Drive::Coils(StepSequence::Half))).unwrap();
    mount.start_tracking().unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    while mount.is_tracking() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = mount.status();
    assert!(!status.tracking);
    assert_eq!(status.steps, 3, "writes 3..=5 were steps");
    assert!(status.error.unwrap().contains("line gone"));
}
