//! A clock the simulators share: real time, or manual time for tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Time since the clock's epoch, either following the real monotonic clock
/// or moved by hand. Clones share the same time.
#[derive(Debug, Clone)]
pub struct SimClock {
    source: Arc<Source>,
}

#[derive(Debug)]
enum Source {
    Real(Instant),
    Manual(AtomicU64),
}

impl SimClock {
    /// A clock that follows real time, starting now at zero.
    pub fn real() -> Self {
        Self {
            source: Arc::new(Source::Real(Instant::now())),
        }
    }

    /// A clock that stands still at zero until [`SimClock::set`] or
    /// [`SimClock::advance`] moves it.
    pub fn manual() -> Self {
        Self {
            source: Arc::new(Source::Manual(AtomicU64::new(0))),
        }
    }

    /// Time elapsed since the epoch.
    pub fn now(&self) -> Duration {
        match &*self.source {
            Source::Real(start) => start.elapsed(),
            Source::Manual(nanos) => Duration::from_nanos(nanos.load(Ordering::SeqCst)),
        }
    }

    /// True for a manual clock.
    pub fn is_manual(&self) -> bool {
        matches!(*self.source, Source::Manual(_))
    }

    /// Sets a manual clock to `t`; ignored (with `false`) on a real clock.
    pub fn set(&self, t: Duration) -> bool {
        match &*self.source {
            Source::Real(_) => false,
            Source::Manual(nanos) => {
                nanos.store(duration_nanos(t), Ordering::SeqCst);
                true
            }
        }
    }

    /// Moves a manual clock forward by `d`; ignored (with `false`) on a real clock.
    pub fn advance(&self, d: Duration) -> bool {
        match &*self.source {
            Source::Real(_) => false,
            Source::Manual(nanos) => {
                nanos.fetch_add(duration_nanos(d), Ordering::SeqCst);
                true
            }
        }
    }
}

impl Default for SimClock {
    fn default() -> Self {
        Self::real()
    }
}

fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_by_hand_and_clones_share_time() {
        let clock = SimClock::manual();
        let other = clock.clone();
        assert_eq!(clock.now(), Duration::ZERO);
        assert!(clock.advance(Duration::from_secs(3)));
        assert_eq!(other.now(), Duration::from_secs(3));
        assert!(other.set(Duration::from_millis(10)));
        assert_eq!(clock.now(), Duration::from_millis(10));
    }

    #[test]
    fn real_clock_runs_and_refuses_manual_moves() {
        let clock = SimClock::real();
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now() > a);
        assert!(!clock.set(Duration::ZERO));
        assert!(!clock.is_manual());
    }
}
