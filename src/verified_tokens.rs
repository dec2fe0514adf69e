//! JWTs verified before, kept for the requests that cannot use the JS side's memo.
//!
//! A DPoP request is answered anew every time: its proof is new on each request and is checked
//! every time. Its access token is not new: a client sends the same token, with fresh proofs,
//! until it expires. This keeps the verification of such a token (signature and claims) so
//! that only the proof is checked again. An entry is a token's identity (which holds the token),
//! and holds until the verdict's `until` (the token's `exp`, its maximum age and one JWKS
//! `cacheMaxAge`) and while the key epoch is the one it was verified under.
//!
//! Only tokens that came back are kept ([`crate::recent::Recent`] decides), in two generations
//! of at most `capacity` entries each. Entries are found by a keyed 64-bit digest of the token
//! and answered only when the kept identity's token is the very same string, so the token is
//! stored once and a digest collision can only cost a verification.

use crate::auth_info::AuthInfo;
use crate::generations::Generations;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

/// Tokens per generation used by [`crate::guard::Guard`]: as many as the JS memo keeps.
pub const DEFAULT_CAPACITY: usize = 2048;

/// One verified token's identity and how long it holds.
struct Entry {
    info: Arc<AuthInfo>,
    until: f64,
    key_epoch: u64,
}

/// A bounded map from verified tokens to their identities.
pub struct VerifiedTokens {
    generations: Mutex<Generations<Entry>>,
    hasher: RandomState,
}

impl VerifiedTokens {
    /// An empty map holding at most `2 × capacity` tokens.
    pub fn new(capacity: usize) -> Self {
        VerifiedTokens { generations: Mutex::new(Generations::new(capacity)), hasher: RandomState::new() }
    }

    /// The identity kept for exactly `token`, if its verdict still holds at `now` (seconds since
    /// the epoch) under `key_epoch`. An entry that no longer holds is dropped.
    pub fn get(&self, token: &str, now: f64, key_epoch: u64) -> Option<Arc<AuthInfo>> {
        let digest = self.hasher.hash_one(token);
        let Ok(mut g) = self.generations.lock() else {
            return None;
        };
        let entry = g.get(digest)?;
        if entry.info.token != token {
            return None; // another token with the same digest
        }
        if entry.until > now && entry.key_epoch == key_epoch {
            return Some(entry.info.clone());
        }
        g.remove(digest);
        None
    }

    /// Keeps `info`, verified under `key_epoch`, for its token until `until`.
    pub fn keep(&self, info: Arc<AuthInfo>, until: f64, key_epoch: u64) {
        let digest = self.hasher.hash_one(info.token.as_str());
        let Ok(mut g) = self.generations.lock() else {
            return;
        };
        g.insert(digest, Entry { info, until, key_epoch });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn info(token: &str) -> Arc<AuthInfo> {
        let claims = json!({ "iss": "https://issuer.example.com", "sub": token });
        let Some(claims) = claims.as_object().cloned() else { panic!("an object") };
        Arc::new(AuthInfo::from_claims(token, claims).unwrap())
    }

    #[test]
    fn a_kept_token_is_answered_until_its_verdict_expires() {
        let v = VerifiedTokens::new(8);
        assert!(v.get("a", 100.0, 0).is_none());
        v.keep(info("a"), 200.0, 0);
        assert_eq!(v.get("a", 199.0, 0).map(|i| i.subject.clone()), Some(Some("a".into())));
        assert!(v.get("a", 200.0, 0).is_none(), "expired at `until`");
        assert!(v.get("a", 150.0, 0).is_none(), "and dropped");
    }

    #[test]
    fn a_new_key_epoch_drops_the_verdict() {
        let v = VerifiedTokens::new(8);
        v.keep(info("a"), 200.0, 3);
        assert!(v.get("a", 100.0, 4).is_none());
        assert!(v.get("a", 100.0, 3).is_none(), "dropped once the epoch moved");
    }

    #[test]
    fn only_the_exact_token_is_answered() {
        let v = VerifiedTokens::new(8);
        v.keep(info("token"), 200.0, 0);
        assert!(v.get("token ", 100.0, 0).is_none());
        assert!(v.get("toke", 100.0, 0).is_none());
        assert!(v.get("token", 100.0, 0).is_some());
    }

    #[test]
    fn old_tokens_are_forgotten_after_two_generations() {
        let v = VerifiedTokens::new(2);
        v.keep(info("keep"), 200.0, 0);
        v.keep(info("a"), 200.0, 0);
        v.keep(info("b"), 200.0, 0); // "keep" and "a" become the previous generation
        assert!(v.get("keep", 100.0, 0).is_some(), "still in the previous generation, and moved back");
        for t in ["c", "d", "e", "f"] {
            v.keep(info(t), 200.0, 0);
        }
        assert!(v.get("a", 100.0, 0).is_none(), "two generations later it is forgotten");
    }
}
