//! Tokens seen recently, remembered by a 64-bit digest: which tokens come back.
//!
//! Only a token that comes back is worth remembering an answer for; traffic of tokens that are
//! each used once then costs a 64-bit digest a token here, and nothing elsewhere. The set is bounded: two
//! generations of at most `capacity` digests each, the older dropped when the newer fills up.

use crate::generations::Generations;
use std::hash::{BuildHasher, RandomState};
use std::sync::Mutex;

/// Digests per generation used by [`crate::guard::Guard`]: at most 2 × 64 Ki tokens (about 2.5 MiB).
pub const DEFAULT_CAPACITY: usize = 64 * 1024;

/// A bounded set of recently seen tokens.
pub struct Recent {
    generations: Mutex<Generations<()>>,
    hasher: RandomState,
}

impl Recent {
    /// An empty set holding at most `2 × capacity` digests.
    pub fn new(capacity: usize) -> Self {
        Recent { generations: Mutex::new(Generations::new(capacity)), hasher: RandomState::new() }
    }

    /// Records `token` and says whether it was seen before. A digest collision only makes a new
    /// token count as seen: callers use this to decide what to remember, never what to accept.
    pub fn seen_again(&self, token: &str) -> bool {
        let digest = self.hasher.hash_one(token);
        let Ok(mut g) = self.generations.lock() else {
            return false;
        };
        if g.get(digest).is_some() {
            return true;
        }
        g.insert(digest, ());
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_counts_as_seen_from_its_second_use() {
        let r = Recent::new(8);
        assert!(!r.seen_again("a"));
        assert!(r.seen_again("a"));
        assert!(r.seen_again("a"));
        assert!(!r.seen_again("b"));
    }

    #[test]
    fn old_tokens_are_forgotten_after_two_generations() {
        let r = Recent::new(2);
        assert!(!r.seen_again("keep"));
        for t in ["a", "b"] {
            r.seen_again(t); // "keep" and "a" fill a generation, which then becomes the previous one
        }
        assert!(r.seen_again("keep"), "still in the previous generation, and moved back");
        for t in ["c", "d", "e", "f"] {
            r.seen_again(t);
        }
        assert!(!r.seen_again("a"), "two generations later it is forgotten");
    }
}
