//! Server-issued DPoP nonces (RFC 9449 §8, §9) without per-client state.
//!
//! A nonce is `base64url(HMAC-SHA256(secret, time slot))`, truncated to 192 bits: time is cut
//! into slots of `rotate_every`, the current slot's nonce is handed out, and a proof may carry
//! the current or the previous slot's nonce. A nonce is thus good for one to two rotation
//! periods, then stale. Any instance that knows the secret issues and accepts the same nonces.

use crate::dpop::proof::constant_time_eq;
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::time::Duration;

/// How often nonces rotate by default: a nonce is accepted for 60 to 120 seconds.
pub const DEFAULT_ROTATION: Duration = Duration::from_secs(60);

/// The length of a nonce secret, in bytes.
pub const SECRET_LEN: usize = 32;

/// Bytes of the HMAC kept in a nonce.
const NONCE_BYTES: usize = 24;

/// Issues and checks nonces from one secret.
pub struct Nonces {
    key: hmac::Key,
    slot_seconds: u64,
    /// A tag of the secret, to tell whether a secret read again is the same one.
    fingerprint: hmac::Tag,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces").field("slot_seconds", &self.slot_seconds).finish_non_exhaustive()
    }
}

/// A fresh random secret.
pub fn random_secret() -> Option<[u8; SECRET_LEN]> {
    let mut secret = [0u8; SECRET_LEN];
    SystemRandom::new().fill(&mut secret).ok()?;
    Some(secret)
}

impl Nonces {
    /// Nonces from `secret`, rotating every `rotate_every` (at least one second).
    pub fn new(secret: &[u8], rotate_every: Duration) -> Self {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let fingerprint = hmac::sign(&key, b"mcp-auth-native nonce secret fingerprint");
        Nonces { key, slot_seconds: rotate_every.as_secs().max(1), fingerprint }
    }

    /// Whether these nonces come from `secret`.
    pub fn has_secret(&self, secret: &[u8]) -> bool {
        let other = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, secret), b"mcp-auth-native nonce secret fingerprint");
        constant_time_eq(self.fingerprint.as_ref(), other.as_ref())
    }

    fn slot(&self, now: f64) -> u64 {
        (now.max(0.0) as u64) / self.slot_seconds
    }

    fn for_slot(&self, slot: u64) -> String {
        let tag = hmac::sign(&self.key, &slot.to_be_bytes());
        URL_SAFE_NO_PAD.encode(tag.as_ref().get(..NONCE_BYTES).unwrap_or(tag.as_ref()))
    }

    /// The nonce to hand out now (`DPoP-Nonce`).
    pub fn current(&self, now: f64) -> String {
        self.for_slot(self.slot(now))
    }

    /// Whether `nonce` is the current or the previous slot's nonce.
    pub fn accepts(&self, nonce: &str, now: f64) -> bool {
        let slot = self.slot(now);
        let current = constant_time_eq(nonce.as_bytes(), self.for_slot(slot).as_bytes());
        let previous =
            slot.checked_sub(1).is_some_and(|p| constant_time_eq(nonce.as_bytes(), self.for_slot(p).as_bytes()));
        current | previous
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: f64 = 1_700_000_000.0;

    fn nonces() -> Nonces {
        Nonces::new(b"0123456789abcdef0123456789abcdef", DEFAULT_ROTATION)
    }

    #[test]
    fn the_current_nonce_is_accepted_and_stable_within_its_slot() {
        let n = nonces();
        let slot_start = (NOW as u64 / 60 * 60) as f64;
        let a = n.current(slot_start);
        assert_eq!(n.current(slot_start + 59.0), a);
        assert!(n.accepts(&a, slot_start + 1.0));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn a_nonce_rotates_and_is_accepted_one_slot_more_then_stale() {
        let n = nonces();
        let slot_start = (NOW as u64 / 60 * 60) as f64;
        let a = n.current(slot_start);
        let b = n.current(slot_start + 60.0);
        assert_ne!(a, b);
        assert!(n.accepts(&a, slot_start + 119.0), "the previous slot's nonce");
        assert!(!n.accepts(&a, slot_start + 120.0), "two slots later it is stale");
        assert!(n.accepts(&b, slot_start + 120.0));
    }

    #[test]
    fn other_secrets_and_made_up_nonces_are_refused() {
        let n = nonces();
        let other = Nonces::new(b"another secret", DEFAULT_ROTATION);
        assert!(!n.accepts(&other.current(NOW), NOW));
        for bad in ["", "x", &"A".repeat(32)] {
            assert!(!n.accepts(bad, NOW), "{bad}");
        }
    }

    #[test]
    fn random_secrets_differ() {
        let (a, b) = (random_secret(), random_secret());
        assert!(a.is_some());
        assert_ne!(a, b);
    }

    #[test]
    fn nonces_know_the_secret_they_come_from() {
        let n = nonces();
        assert!(n.has_secret(b"0123456789abcdef0123456789abcdef"));
        assert!(!n.has_secret(b"0123456789abcdef0123456789abcdeF"));
    }
}
