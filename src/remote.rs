//! A cached remote document with single-flight refresh and exponential backoff.
//!
//! Shared by the JWKS cache and discovery: at most one fetch is in flight per document; callers
//! that wait for it take its outcome instead of fetching again; after a failure, no new fetch
//! starts until the backoff has passed (1 s, doubling, at most 30 s).

use crate::clock::Clock;
use crate::error::AuthError;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// The first retry delay after a failure. 1 s.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest retry delay. 30 s.
pub const MAX_RETRY: Duration = Duration::from_secs(30);

/// The delay before attempt `failures + 1`, after `failures` consecutive failures.
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY)
}

/// What is cached now.
#[derive(Debug)]
pub struct Snapshot<T> {
    /// The last good value.
    pub value: Option<Arc<T>>,
    /// When the value was fetched.
    pub fetched_at: Duration,
    /// When the last attempt (good or bad) finished.
    pub last_attempt: Option<Duration>,
    /// Counts attempts; a refresh that sees another number knows someone else just tried.
    pub generation: u64,
}

struct State<T> {
    value: Option<Arc<T>>,
    fetched_at: Duration,
    last_attempt: Option<Duration>,
    failures: u32,
    last_error: Option<AuthError>,
    generation: u64,
    /// Counts the values stored: changes exactly when `value` is replaced.
    version: u64,
}

/// One remote document, cached.
pub struct Remote<T> {
    state: Mutex<State<T>>,
    gate: tokio::sync::Mutex<()>,
}

impl<T> Default for Remote<T> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                value: None,
                fetched_at: Duration::ZERO,
                last_attempt: None,
                failures: 0,
                last_error: None,
                generation: 0,
                version: 0,
            }),
            gate: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T> Remote<T> {
    fn state(&self) -> MutexGuard<'_, State<T>> {
        // A poisoned lock only means a panic elsewhere; the state itself is always consistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A copy of what is cached.
    pub fn snapshot(&self) -> Snapshot<T> {
        let s = self.state();
        Snapshot {
            value: s.value.clone(),
            fetched_at: s.fetched_at,
            last_attempt: s.last_attempt,
            generation: s.generation,
        }
    }

    /// Changes whenever a new value replaces the cached one.
    pub fn version(&self) -> u64 {
        self.state().version
    }

    /// Sets a value without fetching (resolved configuration).
    pub fn preset(value: T) -> Self {
        let remote = Self::default();
        remote.state().value = Some(Arc::new(value));
        remote
    }

    /// Fetches a new value with `load`, unless another caller attempted since `seen` (then its
    /// outcome is returned) or the backoff after a failure has not passed (then that failure is
    /// returned with the time left in `retry_after`).
    pub async fn refresh<F, Fut>(&self, clock: &dyn Clock, seen: u64, load: F) -> Result<Arc<T>, AuthError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AuthError>>,
    {
        let _flight = self.gate.lock().await;
        {
            let s = self.state();
            if s.generation != seen {
                return match (&s.last_error, &s.value) {
                    (Some(e), _) => Err(e.clone()),
                    (None, Some(v)) => Ok(v.clone()),
                    (None, None) => Err(AuthError::unavailable("No value yet.", FIRST_RETRY)),
                };
            }
            if let (Some(err), Some(at)) = (&s.last_error, s.last_attempt) {
                let retry_at = at + backoff(s.failures);
                let now = clock.elapsed();
                if now < retry_at {
                    let mut err = err.clone();
                    if err.retry_after.is_some() {
                        err.retry_after = Some(retry_at - now);
                    }
                    return Err(err);
                }
            }
        }
        let outcome = load().await;
        let now = clock.elapsed();
        let mut s = self.state();
        s.generation += 1;
        s.last_attempt = Some(now);
        match outcome {
            Ok(value) => {
                let value = Arc::new(value);
                s.value = Some(value.clone());
                s.version += 1;
                s.fetched_at = now;
                s.failures = 0;
                s.last_error = None;
                Ok(value)
            }
            Err(mut err) => {
                s.failures = s.failures.saturating_add(1);
                if err.retry_after.is_some() {
                    err.retry_after = Some(backoff(s.failures));
                }
                s.last_error = Some(err.clone());
                Err(err)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::error::ErrorCode;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn backoff_doubles_from_one_second_up_to_thirty() {
        let secs: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert_eq!(backoff(u32::MAX), MAX_RETRY);
    }

    #[tokio::test]
    async fn concurrent_refreshes_share_one_fetch() {
        let remote = Arc::new(Remote::<u32>::default());
        let clock = Arc::new(ManualClock::new(0.0));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (remote, clock, calls) = (remote.clone(), clock.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                let seen = remote.snapshot().generation;
                remote
                    .refresh(clock.as_ref(), seen, || async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(7)
                    })
                    .await
            }));
        }
        for t in tasks {
            assert_eq!(t.await.ok().and_then(Result::ok).map(|v| *v), Some(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn failures_back_off_before_the_next_fetch() {
        let remote = Remote::<u32>::default();
        let clock = ManualClock::new(0.0);
        let calls = AtomicUsize::new(0);
        let fail = || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Err::<u32, _>(AuthError::unavailable("down", FIRST_RETRY))
        };
        let first = remote.refresh(&clock, remote.snapshot().generation, fail).await;
        assert_eq!(first.err().and_then(|e| e.retry_after), Some(Duration::from_secs(1)));
        clock.advance(Duration::from_millis(400));
        let during = remote.refresh(&clock, remote.snapshot().generation, fail).await;
        assert_eq!(during.err().and_then(|e| e.retry_after), Some(Duration::from_millis(600)));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        clock.advance(Duration::from_millis(600));
        let second = remote.refresh(&clock, remote.snapshot().generation, fail).await;
        assert_eq!(second.err().and_then(|e| e.retry_after), Some(Duration::from_secs(2)));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        clock.advance(Duration::from_secs(2));
        let ok = remote.refresh(&clock, remote.snapshot().generation, || async { Ok(3) }).await;
        assert_eq!(ok.ok().map(|v| *v), Some(3));
        assert_eq!(remote.snapshot().value.map(|v| *v), Some(3));
    }

    #[tokio::test]
    async fn configuration_errors_keep_no_retry_after() {
        let remote = Remote::<u32>::default();
        let clock = ManualClock::new(0.0);
        let got =
            remote.refresh(&clock, 0, || async { Err::<u32, _>(AuthError::new(ErrorCode::MissingJwksUri)) }).await;
        assert_eq!(got.err().map(|e| (e.code, e.retry_after)), Some((ErrorCode::MissingJwksUri, None)));
    }
}
