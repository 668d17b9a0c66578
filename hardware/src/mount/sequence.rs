//! Coil energising sequences for 4-wire unipolar steppers (ULN2003 style).

use serde::{Deserialize, Serialize};

/// Which coil sequence drives the four pins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepSequence {
    /// 4-phase, two coils on at a time (full torque, full steps).
    Full,
    /// 8-phase, alternating one and two coils (half steps, smoother).
    Half,
}

const FULL: [[bool; 4]; 4] = [
    [true, true, false, false],
    [false, true, true, false],
    [false, false, true, true],
    [true, false, false, true],
];

const HALF: [[bool; 4]; 8] = [
    [true, false, false, false],
    [true, true, false, false],
    [false, true, false, false],
    [false, true, true, false],
    [false, false, true, false],
    [false, false, true, true],
    [false, false, false, true],
    [true, false, false, true],
];

impl StepSequence {
    /// The pin levels of every phase, in forward order.
    pub fn phases(self) -> &'static [[bool; 4]] {
        match self {
            StepSequence::Full => &FULL,
            StepSequence::Half => &HALF,
        }
    }

    /// Number of phases in one electrical cycle (4 or 8).
    pub fn len(self) -> usize {
        self.phases().len()
    }

    /// Always false: a sequence has at least four phases.
    pub fn is_empty(self) -> bool {
        false
    }

    /// Steps per full step: 1 for full stepping, 2 for half stepping.
    pub fn steps_per_full_step(self) -> u32 {
        match self {
            StepSequence::Full => 1,
            StepSequence::Half => 2,
        }
    }

    /// Pin levels for phase `index` (taken modulo the sequence length).
    pub fn levels(self, index: usize) -> [bool; 4] {
        self.phases()[index % self.len()]
    }

    /// The phase after `index` moving `direction` (+1 or −1) steps.
    pub fn next_index(self, index: usize, direction: i64) -> usize {
        (index as i64 + direction).rem_euclid(self.len() as i64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_changes_exactly_one_pin() {
        for seq in [StepSequence::Full, StepSequence::Half] {
            let n = seq.len();
            for i in 0..n {
                let (a, b) = (seq.levels(i), seq.levels(i + 1));
                let changed = a.iter().zip(b).filter(|(x, y)| *x != y).count();
                let expected = if seq == StepSequence::Full { 2 } else { 1 };
                assert_eq!(changed, expected, "{seq:?} phase {i}");
            }
        }
    }

    #[test]
    fn coil_counts_and_lengths() {
        assert_eq!(StepSequence::Full.len(), 4);
        assert_eq!(StepSequence::Half.len(), 8);
        assert!(FULL.iter().all(|p| p.iter().filter(|&&x| x).count() == 2));
        let on: Vec<usize> = HALF
            .iter()
            .map(|p| p.iter().filter(|&&x| x).count())
            .collect();
        assert_eq!(on, [1, 2, 1, 2, 1, 2, 1, 2]);
        // Half-step phases 1, 3, 5, 7 are exactly the full-step phases.
        for k in 0..4 {
            assert_eq!(HALF[2 * k + 1], FULL[k]);
        }
    }

    #[test]
    fn indices_wrap_both_ways() {
        let s = StepSequence::Half;
        assert_eq!(s.next_index(7, 1), 0);
        assert_eq!(s.next_index(0, -1), 7);
        assert_eq!(StepSequence::Full.next_index(2, -1), 1);
    }
}
