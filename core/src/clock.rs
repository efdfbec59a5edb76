//! The source of "now": the system clock in production, a hand-driven clock in tests.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

/// A source of the current instant.
///
/// Everything that depends on time (rate limits, lookback windows, leases, scheduled marks) asks a
/// `Clock` instead of the operating system, so tests can move time explicitly instead of sleeping.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that only moves when told to: tests set or advance it explicitly.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock to `t` (backwards too: tests may simulate clock skew).
    pub fn set(&self, t: Timestamp) {
        *self.lock() = t;
    }

    /// Moves the clock by `by` (negative moves it backwards); saturates at the ends of the
    /// representable range rather than panicking.
    pub fn advance(&self, by: SignedDuration) {
        let mut now = self.lock();
        *now = now.saturating_add(by).unwrap_or(*now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Timestamp> {
        // A panic while holding the lock cannot leave a half-written timestamp behind, so a
        // poisoned lock is still safe to use.
        self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.lock()
    }
}

/// A clock shared by every component of a running host.
pub type SharedClock = Arc<dyn Clock>;

/// The system clock, ready to share.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(SignedDuration::from_secs(90));
        assert_eq!(clock.now(), "2024-01-01T00:01:30Z".parse().unwrap());
        clock.advance(SignedDuration::from_secs(-30));
        assert_eq!(clock.now(), "2024-01-01T00:01:00Z".parse().unwrap());
        clock.set(start);
        assert_eq!(clock.now(), start);
    }

    #[test]
    fn manual_clock_saturates_instead_of_panicking() {
        let clock = ManualClock::new(Timestamp::MAX);
        clock.advance(SignedDuration::MAX);
        assert_eq!(clock.now(), Timestamp::MAX);
    }

    #[test]
    fn system_clock_is_shareable() {
        let clock: SharedClock = system();
        let a = clock.now();
        let b = clock.now();
        assert!(b >= a);
    }
}
