//! Time, injectable so that cache timing is testable without sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of monotonic and wall-clock time.
pub trait Clock: Send + Sync + 'static {
    /// Monotonic time since an arbitrary fixed origin; used for cache ages and backoff.
    fn elapsed(&self) -> Duration;
    /// Seconds since the Unix epoch; used for `exp`, `nbf` and `iat`.
    fn unix_seconds(&self) -> f64;
}

/// The real clocks.
#[derive(Debug)]
pub struct SystemClock {
    origin: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self { origin: Instant::now() }
    }
}

impl Clock for SystemClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
    fn unix_seconds(&self) -> f64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Duration>,
    epoch_offset: f64,
}

impl ManualClock {
    /// Starts at monotonic zero and at `unix_start` seconds since the epoch.
    pub fn new(unix_start: f64) -> Self {
        Self { now: Mutex::new(Duration::ZERO), epoch_offset: unix_start }
    }

    /// Moves both clocks forward.
    pub fn advance(&self, by: Duration) {
        if let Ok(mut now) = self.now.lock() {
            *now += by;
        }
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        self.now.lock().map_or(Duration::ZERO, |n| *n)
    }
    fn unix_seconds(&self) -> f64 {
        self.epoch_offset + self.elapsed().as_secs_f64()
    }
}
