//! The `jti` replay check of DPoP proofs (RFC 9449 §11.1) in this process's memory.
//!
//! A proof is remembered until its `iat` leaves the window (`iat + iatWindow`), the last moment
//! it could pass the `iat` check again; after that it is refused by that check, so it is
//! forgotten. Entries live in time buckets (an eighth of the window each), and whole buckets are
//! dropped as time passes: memory follows the request rate over one window and stays flat under
//! steady load.
//!
//! Keys are 64-bit keyed digests (SipHash with a per-process random key) of the proof key's
//! thumbprint and the `jti`, so one client cannot occupy another's `jti`, and an attacker cannot
//! aim at collisions. A collision could only refuse a fresh proof, never pass a replayed one.

use crate::error::{AuthError, ErrorCode};
use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;
use std::time::Duration;

/// The most proofs remembered at once by default: 4 Mi, about 100 MiB at worst. At the
/// default window of 300 s (a proof is kept up to 600 s), that is 7,000 DPoP requests a second.
pub const DEFAULT_CAPACITY: usize = 4 * 1024 * 1024;

/// When a client may retry after the store was full or unavailable.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Whether a proof was seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// First use: now remembered.
    New,
    /// Its `jti` was used before by the same key within the window.
    Replayed,
}

struct Buckets {
    /// Bucket index (`ceil(expiry / bucket_seconds)`) → digests expiring in it.
    by_expiry: BTreeMap<u64, HashSet<u64>>,
    len: usize,
}

/// A bounded in-memory set of recently used proofs.
pub struct MemoryReplayStore {
    buckets: Mutex<Buckets>,
    hasher: RandomState,
    bucket_seconds: f64,
    capacity: usize,
}

impl std::fmt::Debug for MemoryReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryReplayStore").field("len", &self.len()).field("capacity", &self.capacity).finish()
    }
}

impl MemoryReplayStore {
    /// A store for proofs accepted within `iat_window`, holding at most `capacity` of them.
    pub fn new(iat_window: Duration, capacity: usize) -> Self {
        MemoryReplayStore {
            buckets: Mutex::new(Buckets { by_expiry: BTreeMap::new(), len: 0 }),
            hasher: RandomState::new(),
            bucket_seconds: (iat_window.as_secs_f64() / 8.0).max(1.0),
            capacity: capacity.max(1),
        }
    }

    /// How many proofs are remembered now (expired ones included until their bucket is dropped).
    pub fn len(&self) -> usize {
        self.buckets.lock().map_or(0, |b| b.len)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Records the proof `jti` of the key `jkt`, remembered until `expires_at` (seconds since the
    /// epoch), and says whether it was seen before. `now` drops what expired.
    ///
    /// A full store refuses to decide: `dpop_replay_store_unavailable` (503), never a pass.
    pub fn check_and_remember(&self, jkt: &str, jti: &str, expires_at: f64, now: f64) -> Result<Seen, AuthError> {
        let digest = self.hasher.hash_one((jkt, jti));
        let Ok(mut b) = self.buckets.lock() else {
            return Err(unavailable("The DPoP replay store is broken."));
        };
        // Drop every bucket whose whole span ended: its entries' proofs fail the `iat` check now.
        let bucket_of = |t: f64| (t / self.bucket_seconds).ceil().max(0.0) as u64;
        let expired = bucket_of(now);
        while let Some(entry) = b.by_expiry.first_entry() {
            if *entry.key() >= expired {
                break;
            }
            let dropped = entry.remove().len();
            b.len -= dropped;
        }
        if b.by_expiry.values().any(|set| set.contains(&digest)) {
            return Ok(Seen::Replayed);
        }
        if b.len >= self.capacity {
            return Err(unavailable("The DPoP replay store is full."));
        }
        b.by_expiry.entry(bucket_of(expires_at.max(now))).or_default().insert(digest);
        b.len += 1;
        Ok(Seen::New)
    }
}

fn unavailable(reason: &'static str) -> AuthError {
    AuthError {
        retry_after: Some(RETRY_AFTER),
        ..AuthError::with_reason(ErrorCode::DpopReplayStoreUnavailable, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000.0;

    fn store() -> MemoryReplayStore {
        MemoryReplayStore::new(Duration::from_secs(300), DEFAULT_CAPACITY)
    }

    #[test]
    fn a_jti_is_new_once_then_replayed() {
        let s = store();
        assert_eq!(s.check_and_remember("k", "j1", NOW + 300.0, NOW).ok(), Some(Seen::New));
        assert_eq!(s.check_and_remember("k", "j1", NOW + 300.0, NOW + 10.0).ok(), Some(Seen::Replayed));
        assert_eq!(s.check_and_remember("k", "j2", NOW + 300.0, NOW + 10.0).ok(), Some(Seen::New));
    }

    #[test]
    fn one_key_cannot_occupy_the_jti_of_another() {
        let s = store();
        assert_eq!(s.check_and_remember("attacker", "shared", NOW + 300.0, NOW).ok(), Some(Seen::New));
        assert_eq!(s.check_and_remember("victim", "shared", NOW + 300.0, NOW).ok(), Some(Seen::New));
        // The pair is hashed as a pair: ("ab", "c") is not ("a", "bc").
        assert_eq!(s.check_and_remember("ab", "c", NOW + 300.0, NOW).ok(), Some(Seen::New));
        assert_eq!(s.check_and_remember("a", "bc", NOW + 300.0, NOW).ok(), Some(Seen::New));
    }

    #[test]
    fn a_proof_is_remembered_until_it_expires_and_then_forgotten() {
        let s = store();
        let expiry = NOW + 300.0;
        assert_eq!(s.check_and_remember("k", "j", expiry, NOW).ok(), Some(Seen::New));
        assert_eq!(s.check_and_remember("k", "j", expiry, expiry - 1.0).ok(), Some(Seen::Replayed));
        // One bucket (37.5 s) after its expiry its bucket is gone.
        assert_eq!(s.check_and_remember("k", "other", NOW + 900.0, expiry + 40.0).ok(), Some(Seen::New));
        assert_eq!(s.len(), 1, "the old entry was dropped");
        assert_eq!(s.check_and_remember("k", "j", expiry + 600.0, expiry + 40.0).ok(), Some(Seen::New));
    }

    #[test]
    fn memory_stays_flat_under_steady_load() {
        let s = store();
        // 100 proofs a second for an hour of clock time: at most about 2 windows' worth are kept.
        let mut peak = 0;
        for second in 0..3600u32 {
            let now = NOW + f64::from(second);
            for i in 0..100u32 {
                let jti = format!("{second}-{i}");
                assert_eq!(s.check_and_remember("k", &jti, now + 300.0, now).ok(), Some(Seen::New));
            }
            peak = peak.max(s.len());
        }
        assert!(peak <= 100 * (300 + 38), "peak {peak}");
        assert!(peak >= 100 * 300, "peak {peak}");
    }

    #[test]
    fn a_full_store_fails_closed_with_503() {
        let s = MemoryReplayStore::new(Duration::from_secs(300), 2);
        assert!(s.check_and_remember("k", "1", NOW + 300.0, NOW).is_ok());
        assert!(s.check_and_remember("k", "2", NOW + 300.0, NOW).is_ok());
        let err = s.check_and_remember("k", "3", NOW + 300.0, NOW).err();
        assert_eq!(err.as_ref().map(|e| e.code), Some(ErrorCode::DpopReplayStoreUnavailable));
        assert_eq!(err.and_then(|e| e.retry_after), Some(RETRY_AFTER));
        // A replay is still recognised when full.
        assert_eq!(s.check_and_remember("k", "1", NOW + 300.0, NOW).ok(), Some(Seen::Replayed));
    }
}
