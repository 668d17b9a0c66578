//! Where step pulses go: the [`CoilOutput`] trait and an in-memory backend.

use std::sync::{Arc, Mutex, PoisonError};

use super::MountError;

/// A set of output pins the stepper writes together.
///
/// Coil drives use four pins (ULN2003 IN1..IN4); step/dir drives use two
/// (`[step, dir]`). Writing all `false` de-energises the motor.
pub trait CoilOutput: Send {
    /// Number of pins.
    fn pin_count(&self) -> usize;

    /// Sets every pin; `levels.len()` equals [`CoilOutput::pin_count`].
    fn write(&mut self, levels: &[bool]) -> Result<(), MountError>;
}

/// An in-memory output that records every write; clones share the record.
/// Used by tests and for dry runs without hardware.
#[derive(Debug, Clone)]
pub struct RecordingOutput {
    pins: usize,
    log: Arc<Mutex<Vec<Vec<bool>>>>,
}

impl RecordingOutput {
    /// A recorder for `pins` pins.
    pub fn new(pins: usize) -> Self {
        Self {
            pins,
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Every write so far, oldest first.
    pub fn history(&self) -> Vec<Vec<bool>> {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The current pin levels (all low before the first write).
    pub fn levels(&self) -> Vec<bool> {
        self.history()
            .last()
            .cloned()
            .unwrap_or_else(|| vec![false; self.pins])
    }
}

impl CoilOutput for RecordingOutput {
    fn pin_count(&self) -> usize {
        self.pins
    }

    fn write(&mut self, levels: &[bool]) -> Result<(), MountError> {
        if levels.len() != self.pins {
            return Err(MountError::Output(format!(
                "{} levels for {} pins",
                levels.len(),
                self.pins
            )));
        }
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(levels.to_vec());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_writes_and_checks_width() {
        let rec = RecordingOutput::new(4);
        let mut out = rec.clone();
        assert_eq!(rec.levels(), vec![false; 4]);
        out.write(&[true, false, false, true]).unwrap();
        assert_eq!(rec.levels(), vec![true, false, false, true]);
        assert!(out.write(&[true]).is_err());
        assert_eq!(rec.history().len(), 1);
    }
}
