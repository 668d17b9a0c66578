//! GPIO pins through the Linux GPIO character device (feature `gpio`).

use std::path::Path;

use gpiocdev::Request;
use gpiocdev::line::{Offset, Value, Values};

use super::{CoilOutput, MountError, StepperConfig, StepperMount};

/// A stepper mount on Raspberry Pi GPIO lines.
pub type GpioMount = StepperMount<GpioOutput>;

/// Output lines requested from a GPIO chip, all starting low.
pub struct GpioOutput {
    request: Request,
    offsets: Vec<Offset>,
}

impl GpioOutput {
    /// Requests `offsets` (BCM line numbers on the Pi, e.g. `[17, 18, 27,
    /// 22]` for IN1..IN4, or `[step, dir]`) on `chip` (e.g.
    /// `/dev/gpiochip0`; `/dev/gpiochip4` on a Pi 5) as outputs.
    pub fn open(chip: &Path, offsets: &[Offset]) -> Result<Self, MountError> {
        let request = Request::builder()
            .on_chip(chip)
            .with_consumer("wanda-mount")
            .with_lines(offsets)
            .as_output(Value::Inactive)
            .request()
            .map_err(|e| {
                MountError::Output(format!(
                    "cannot request GPIO lines {offsets:?} on {}: {e}",
                    chip.display()
                ))
            })?;
        Ok(Self {
            request,
            offsets: offsets.to_vec(),
        })
    }
}

impl CoilOutput for GpioOutput {
    fn pin_count(&self) -> usize {
        self.offsets.len()
    }

    fn write(&mut self, levels: &[bool]) -> Result<(), MountError> {
        if levels.len() != self.offsets.len() {
            return Err(MountError::Output(format!(
                "{} levels for {} GPIO lines",
                levels.len(),
                self.offsets.len()
            )));
        }
        let values: Values = self
            .offsets
            .iter()
            .zip(levels)
            .map(|(&o, &on)| (o, if on { Value::Active } else { Value::Inactive }))
            .collect();
        self.request
            .set_values(&values)
            .map_err(|e| MountError::Output(format!("GPIO write failed: {e}")))
    }
}

impl GpioMount {
    /// Opens the lines and builds the mount; the motor starts de-energised.
    pub fn open_gpio(
        chip: &Path,
        offsets: &[Offset],
        config: StepperConfig,
    ) -> Result<Self, MountError> {
        StepperMount::new("gpio", GpioOutput::open(chip, offsets)?, config)
    }
}
