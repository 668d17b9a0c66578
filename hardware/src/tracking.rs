//! How the simulated camera learns whether the mount is tracking, without
//! going through the application.

use std::sync::atomic::{AtomicBool, Ordering};

/// Anything that can say whether the mount is currently tracking.
///
/// Every mount exposes its state as a shared `Arc<AtomicBool>`
/// ([`crate::Mount::tracking_flag`]); that `Arc` coerces directly to
/// `Arc<dyn TrackingSource>` for [`crate::SimCamera::with_tracking`].
pub trait TrackingSource: Send + Sync {
    /// True while the mount compensates for the Earth's rotation.
    fn is_tracking(&self) -> bool;
}

impl TrackingSource for AtomicBool {
    fn is_tracking(&self) -> bool {
        self.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn atomic_bool_is_a_tracking_source() {
        let flag = Arc::new(AtomicBool::new(false));
        let source: Arc<dyn TrackingSource> = flag.clone();
        assert!(!source.is_tracking());
        flag.store(true, Ordering::SeqCst);
        assert!(source.is_tracking());
    }
}
