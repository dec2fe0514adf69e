//! Introspection answers per token: one call in flight per token, answers kept until their own
//! expiry, memory bounded by evicting the least recently used.
//!
//! Keys are SHA-256 digests of the tokens; the cache holds no token. A digest collision would
//! need a second preimage of SHA-256, so an answer is never handed to another token.

use aws_lc_rs::digest;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};

/// The most answers kept by [`TokenCache::default`]. 10 000.
pub const MAX_ENTRIES: usize = 10_000;
/// The most answer bytes (as the endpoint sent them) kept by [`TokenCache::default`]. 32 MiB.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;

/// A token's SHA-256 digest.
pub type Key = [u8; 32];

/// The cache key of `token`.
pub fn key(token: &str) -> Key {
    let mut key = [0u8; 32];
    key.copy_from_slice(digest::digest(&digest::SHA256, token.as_bytes()).as_ref());
    key
}

/// An answer and how long it holds.
#[derive(Debug)]
pub struct Held<V> {
    /// The answer.
    pub value: V,
    /// Seconds since the epoch until which it may be reused; not after now means "only for the
    /// callers that waited for this call".
    pub until: f64,
    /// What keeping it costs, in bytes, for the [`MAX_BYTES`] bound.
    pub weight: usize,
}

/// One token's answer, or the call that will produce it.
struct Slot<V> {
    cell: tokio::sync::OnceCell<Held<V>>,
}

struct Node<V> {
    slot: Arc<Slot<V>>,
    tick: u64,
    weight: usize,
}

struct Lru<V> {
    nodes: HashMap<Key, Node<V>>,
    order: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
}

/// Answers per token, bounded by entries and bytes.
pub struct TokenCache<V> {
    lru: Mutex<Lru<V>>,
    max_entries: usize,
    max_bytes: usize,
}

impl<V> Default for TokenCache<V> {
    fn default() -> Self {
        Self::new(MAX_ENTRIES, MAX_BYTES)
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// This caller made the call.
    Called,
    /// Another caller's call, waited for or kept.
    Shared,
}

impl<V> Lru<V> {
    fn touch(&mut self, key: &Key) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(node) = self.nodes.get_mut(key) {
            self.order.remove(&node.tick);
            node.tick = tick;
            self.order.insert(tick, *key);
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some(node) = self.nodes.remove(key) {
            self.order.remove(&node.tick);
            self.bytes = self.bytes.saturating_sub(node.weight);
        }
    }

    fn evict(&mut self, max_entries: usize, max_bytes: usize) {
        while self.nodes.len() > max_entries || self.bytes > max_bytes {
            let Some((_, key)) = self.order.pop_first() else { break };
            if let Some(node) = self.nodes.remove(&key) {
                self.bytes = self.bytes.saturating_sub(node.weight);
            }
        }
    }
}

impl<V> TokenCache<V> {
    /// An empty cache keeping at most `max_entries` answers and `max_bytes` of answer weight.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        let lru = Lru { nodes: HashMap::new(), order: BTreeMap::new(), tick: 0, bytes: 0 };
        Self { lru: Mutex::new(lru), max_entries, max_bytes }
    }

    fn lru(&self) -> MutexGuard<'_, Lru<V>> {
        // A poisoned lock only means a panic elsewhere; the map itself is always consistent.
        self.lru.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How many answers (or calls in flight) are kept.
    pub fn len(&self) -> usize {
        self.lru().nodes.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The slot for `key`: the kept one while it holds at `now` or its call is in flight, else
    /// a new one.
    fn slot(&self, key: &Key, now: f64) -> Arc<Slot<V>> {
        let mut lru = self.lru();
        let live = lru.nodes.get(key).map(|n| n.slot.clone()).filter(|s| s.cell.get().is_none_or(|h| h.until > now));
        if let Some(slot) = live {
            lru.touch(key);
            return slot;
        }
        lru.remove(key);
        let slot = Arc::new(Slot { cell: tokio::sync::OnceCell::new() });
        lru.tick += 1;
        let tick = lru.tick;
        lru.nodes.insert(*key, Node { slot: slot.clone(), tick, weight: 0 });
        lru.order.insert(tick, *key);
        let (max_entries, max_bytes) = (self.max_entries, self.max_bytes);
        lru.evict(max_entries, max_bytes);
        slot
    }

    /// The answer for `key` at `now` (seconds since the epoch), with until when it holds: a kept one that still holds, the
    /// one of a call in flight, or the result of `call`, which runs only when neither exists
    /// (if the caller running it goes away, a waiting caller runs its own). `clock_now` is read
    /// again when the call ends, to drop an answer that holds no longer.
    pub async fn get_or_call<F, Fut>(
        &self,
        key: Key,
        now: f64,
        clock_now: impl Fn() -> f64,
        call: F,
    ) -> (V, f64, Source)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Held<V>>,
        V: Clone,
    {
        let slot = self.slot(&key, now);
        let mut source = Source::Shared;
        let held = slot
            .cell
            .get_or_init(|| {
                source = Source::Called;
                call()
            })
            .await;
        if source == Source::Called {
            let mut lru = self.lru();
            let ours = lru.nodes.get(&key).is_some_and(|n| Arc::ptr_eq(&n.slot, &slot));
            if ours {
                if held.until > clock_now() {
                    let weight = held.weight;
                    if let Some(node) = lru.nodes.get_mut(&key) {
                        node.weight = weight;
                    }
                    lru.bytes = lru.bytes.saturating_add(weight);
                    let (max_entries, max_bytes) = (self.max_entries, self.max_bytes);
                    lru.evict(max_entries, max_bytes);
                } else {
                    lru.remove(&key);
                }
            }
        }
        (held.value.clone(), held.until, source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    fn held(value: u32, until: f64) -> Held<u32> {
        Held { value, until, weight: 10 }
    }

    #[test]
    fn keys_are_sha256_digests_not_tokens() {
        let k = key("abc");
        assert_eq!(k[..4], [0xba, 0x78, 0x16, 0xbf], "SHA-256(\"abc\") = ba7816bf…");
        assert_ne!(key("abc"), key("abd"));
    }

    #[tokio::test]
    async fn concurrent_callers_for_one_token_share_one_call() {
        let cache = Arc::new(TokenCache::<u32>::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, calls) = (cache.clone(), calls.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_call(
                        key("t"),
                        0.0,
                        || 0.0,
                        || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            held(7, 10.0)
                        },
                    )
                    .await
            }));
        }
        let mut called = 0;
        for t in tasks {
            let (v, _, source) = t.await.unwrap_or((0, 0.0, Source::Shared));
            assert_eq!(v, 7);
            called += usize::from(source == Source::Called);
        }
        assert_eq!((calls.load(Ordering::SeqCst), called), (1, 1));
    }

    #[tokio::test]
    async fn an_answer_is_kept_until_it_no_longer_holds() {
        let cache = TokenCache::<u32>::default();
        let (v, _, s) = cache.get_or_call(key("t"), 0.0, || 0.0, || async { held(1, 10.0) }).await;
        assert_eq!((v, s), (1, Source::Called));
        let (v, _, s) = cache.get_or_call(key("t"), 9.9, || 9.9, || async { held(2, 20.0) }).await;
        assert_eq!((v, s), (1, Source::Shared));
        let (v, _, s) = cache.get_or_call(key("t"), 10.0, || 10.0, || async { held(3, 20.0) }).await;
        assert_eq!((v, s), (3, Source::Called));
    }

    #[tokio::test]
    async fn answers_that_do_not_hold_are_not_kept() {
        let cache = TokenCache::<u32>::default();
        cache.get_or_call(key("t"), 0.0, || 0.0, || async { held(1, 0.0) }).await;
        assert!(cache.is_empty());
        let (v, _, s) = cache.get_or_call(key("t"), 0.0, || 0.0, || async { held(2, 0.0) }).await;
        assert_eq!((v, s), (2, Source::Called));
    }

    #[tokio::test]
    async fn a_cancelled_call_is_taken_over_by_the_next_caller() {
        let cache = TokenCache::<u32>::default();
        let never = cache.get_or_call(key("t"), 0.0, || 0.0, std::future::pending::<Held<u32>>);
        assert!(tokio::time::timeout(Duration::from_millis(20), never).await.is_err());
        let (v, _, s) = cache.get_or_call(key("t"), 0.0, || 0.0, || async { held(5, 10.0) }).await;
        assert_eq!((v, s), (5, Source::Called));
    }

    #[tokio::test]
    async fn the_least_recently_used_answer_is_evicted_first() {
        let cache = TokenCache::<u32>::new(2, usize::MAX);
        for (i, t) in ["a", "b"].into_iter().enumerate() {
            cache.get_or_call(key(t), 0.0, || 0.0, || async move { held(i as u32, 10.0) }).await;
        }
        cache.get_or_call(key("a"), 0.0, || 0.0, || async { held(9, 10.0) }).await; // "a" is now the newest
        cache.get_or_call(key("c"), 0.0, || 0.0, || async { held(2, 10.0) }).await;
        assert_eq!(cache.len(), 2);
        let (_, _, a) = cache.get_or_call(key("a"), 0.0, || 0.0, || async { held(9, 10.0) }).await;
        let (_, _, b) = cache.get_or_call(key("b"), 0.0, || 0.0, || async { held(9, 10.0) }).await;
        assert_eq!((a, b), (Source::Shared, Source::Called));
    }

    #[tokio::test]
    async fn the_byte_bound_evicts_too() {
        let cache = TokenCache::<u32>::new(100, 25);
        for t in ["a", "b", "c"] {
            cache.get_or_call(key(t), 0.0, || 0.0, || async { held(1, 10.0) }).await;
        }
        assert_eq!(cache.len(), 2, "three answers of 10 bytes exceed 25");
    }
}
