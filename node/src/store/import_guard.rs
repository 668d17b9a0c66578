//! Coordination between running imports and garbage collection.
//!
//! An import holds an [`ImportGuard`] from its first block until its root is pinned; GC takes a
//! [`GcPause`], which waits for running imports to finish and holds new ones back while it runs.
//! So GC never removes a block of an import still running.

use std::sync::{Arc, Condvar, Mutex};

#[derive(Default)]
struct State {
    imports: usize,
    gc_running: bool,
}

/// Counts running imports and lets GC exclude them.
#[derive(Clone, Default)]
pub struct ImportTracker {
    inner: Arc<(Mutex<State>, Condvar)>,
}

/// Held by an import while it runs.
pub struct ImportGuard {
    tracker: ImportTracker,
}

/// Held by GC while it runs; no import makes progress meanwhile.
pub struct GcPause {
    tracker: ImportTracker,
}

impl ImportTracker {
    /// Registers a running import (waits while GC runs).
    pub fn begin_import(&self) -> ImportGuard {
        let (lock, cvar) = &*self.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while state.gc_running {
            state = cvar.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.imports += 1;
        ImportGuard {
            tracker: self.clone(),
        }
    }

    /// Waits until no import runs and blocks new ones until the returned pause is dropped.
    pub fn pause_for_gc(&self) -> GcPause {
        let (lock, cvar) = &*self.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        while state.gc_running || state.imports > 0 {
            state = cvar.wait(state).unwrap_or_else(|e| e.into_inner());
        }
        state.gc_running = true;
        GcPause {
            tracker: self.clone(),
        }
    }

    /// Number of imports running now.
    pub fn running_imports(&self) -> usize {
        self.inner
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .imports
    }
}

impl Drop for ImportGuard {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.tracker.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.imports -= 1;
        cvar.notify_all();
    }
}

impl Drop for GcPause {
    fn drop(&mut self) {
        let (lock, cvar) = &*self.tracker.inner;
        let mut state = lock.lock().unwrap_or_else(|e| e.into_inner());
        state.gc_running = false;
        cvar.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn gc_waits_for_running_import() {
        let tracker = ImportTracker::default();
        let guard = tracker.begin_import();
        let t2 = tracker.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let _pause = t2.pause_for_gc();
            tx.send(()).unwrap();
        });
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "GC ran during an import"
        );
        drop(guard);
        rx.recv_timeout(Duration::from_secs(5))
            .expect("GC never ran");
        handle.join().unwrap();
        assert_eq!(tracker.running_imports(), 0);
    }
}
