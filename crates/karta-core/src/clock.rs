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

/// The start of the day containing `now` for a user `offset_min` minutes east of UTC.
#[must_use]
pub fn day_start(now: i64, offset_min: i64) -> i64 {
    let off = offset_min * 60_000;
    (now + off).div_euclid(86_400_000) * 86_400_000 - off
}

/// The UTC date of `now` (milliseconds) as `YYYY-MM-DD`.
#[must_use]
pub fn today(now: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(now / 1000).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
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
