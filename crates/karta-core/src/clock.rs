//! The application clock: the system time in production, a hand-moved one in tests, so that
//! time-dependent rules (stalled and overdue deals, reminders) are testable end to end.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of "now" in ms since the epoch.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    #[must_use]
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock standing at `ms` until moved.
    #[must_use]
    pub fn manual(ms: i64) -> Self {
        Self(Some(Arc::new(AtomicI64::new(ms))))
    }

    /// Now.
    #[must_use]
    pub fn now(&self) -> i64 {
        self.0.as_ref().map_or_else(crate::now_ms, |t| t.load(Ordering::SeqCst))
    }

    /// Moves a manual clock forward by `ms` (no effect on the system clock).
    pub fn advance(&self, ms: i64) {
        if let Some(t) = &self.0 {
            t.fetch_add(ms, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = Clock::manual(1_000);
        let c2 = c.clone();
        c.advance(500);
        assert_eq!(c2.now(), 1_500);
        assert!(Clock::system().now() > 1_600_000_000_000);
    }
}
