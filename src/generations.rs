//! A bounded map of 64-bit digests in two generations: new entries go to the current one, and
//! when it is full it becomes the previous one, dropping the one before. An entry found in the
//! previous generation moves back to the current one, so what keeps coming back stays.
//! [`crate::recent::Recent`] and [`crate::verified_tokens::VerifiedTokens`] are built on it.

use std::collections::HashMap;

/// At most `2 × capacity` values, by digest.
pub struct Generations<V> {
    current: HashMap<u64, V>,
    previous: HashMap<u64, V>,
    capacity: usize,
}

impl<V> Generations<V> {
    /// Empty, holding at most `capacity` values per generation (at least one).
    pub fn new(capacity: usize) -> Self {
        Generations { current: HashMap::new(), previous: HashMap::new(), capacity: capacity.max(1) }
    }

    /// The value kept for `digest`, moved into the current generation if it was in the previous one.
    pub fn get(&mut self, digest: u64) -> Option<&V> {
        if !self.current.contains_key(&digest) {
            let value = self.previous.remove(&digest)?;
            self.insert(digest, value);
        }
        self.current.get(&digest)
    }

    /// Keeps `value` for `digest` in the current generation, which first becomes the previous
    /// one if it is full.
    pub fn insert(&mut self, digest: u64, value: V) {
        if self.current.len() >= self.capacity && !self.current.contains_key(&digest) {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(digest, value);
    }

    /// Forgets `digest` (it is in the current generation after a [`Generations::get`]).
    pub fn remove(&mut self, digest: u64) {
        self.current.remove(&digest);
        self.previous.remove(&digest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_stays_while_it_comes_back_and_goes_two_generations_after_its_last_use() {
        let mut g = Generations::new(2);
        g.insert(1, "keep");
        g.insert(2, "a");
        g.insert(3, "b"); // 1 and 2 are now the previous generation
        assert_eq!(g.get(1), Some(&"keep"), "found in the previous generation, and moved back");
        for d in 4..8 {
            g.insert(d, "x");
        }
        assert_eq!(g.get(2), None, "two generations later it is gone");
        assert_eq!(g.get(7), Some(&"x"));
    }

    #[test]
    fn a_removed_value_is_gone_from_both_generations() {
        let mut g = Generations::new(1);
        g.insert(1, ());
        g.insert(2, ()); // 1 is in the previous generation
        g.remove(1);
        g.remove(2);
        assert_eq!(g.get(1), None);
        assert_eq!(g.get(2), None);
    }
}
