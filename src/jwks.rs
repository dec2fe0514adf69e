//! The remote JWK Set of one issuer: fetched on first need, kept for `cacheMaxAge`, refetched
//! for an unknown `kid` at most once per `cooldownDuration`, and used past its age while a
//! refetch fails (stale-if-error).

use crate::algorithm::Alg;
use crate::clock::Clock;
use crate::error::{AuthError, ErrorCode};
use crate::fetch::Fetcher;
use crate::jwk::{KeySet, PublicKey, Selection};
use crate::remote::{Remote, FIRST_RETRY};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Timing of the remote key set (the `remoteJwkSet` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JwksOptions {
    /// How long a fetch of the JWKS or metadata may take. Defaults to `5000` ms.
    pub timeout: Duration,
    /// After a fetch, how long an unknown `kid` does not trigger another. Defaults to `30000` ms.
    pub cooldown: Duration,
    /// How long a fetched key set is used before it is fetched again. Defaults to `600000` ms.
    pub max_age: Duration,
}

impl Default for JwksOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(5_000),
            cooldown: Duration::from_millis(30_000),
            max_age: Duration::from_millis(600_000),
        }
    }
}

/// One issuer's remote key set.
pub struct Jwks {
    uri: String,
    options: JwksOptions,
    remote: Remote<KeySet>,
    fetcher: Arc<dyn Fetcher>,
    clock: Arc<dyn Clock>,
}

fn unknown_key() -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidToken, "No key in the issuer's JWKS matches the token's `kid`.")
}

fn select(set: Arc<KeySet>, kid: Option<&str>, alg: Alg) -> Result<Option<Arc<PublicKey>>, AuthError> {
    match set.select(kid, alg) {
        Selection::Found(key) => Ok(Some(key.clone())),
        Selection::Unknown => Ok(None),
        Selection::Unusable(why) => Err(AuthError::with_reason(ErrorCode::InvalidToken, why)),
    }
}

impl Jwks {
    /// A key set at `uri`, not fetched yet.
    pub fn new(uri: String, options: JwksOptions, fetcher: Arc<dyn Fetcher>, clock: Arc<dyn Clock>) -> Self {
        Self { uri, options, remote: Remote::default(), fetcher, clock }
    }

    async fn load(&self) -> Result<KeySet, AuthError> {
        let body = self.fetcher.get(&self.uri, self.options.timeout).await.map_err(|e| {
            AuthError::unavailable(format!("The JWKS could not be fetched: {}", e.describe(&self.uri)), FIRST_RETRY)
        })?;
        KeySet::parse(&body).map_err(|why| AuthError::unavailable(why, FIRST_RETRY))
    }

    /// Changes whenever a newly fetched key set replaces the one in use.
    pub fn version(&self) -> u64 {
        self.remote.version()
    }

    /// Finds the key for a token's `kid` and `alg`, fetching the set when needed.
    ///
    /// Errors: `invalid_token` when no usable key matches while a key set is at hand;
    /// `temporarily_unavailable` when no key set could be fetched at all.
    pub async fn key_for(&self, kid: Option<&str>, alg: Alg) -> Result<Arc<PublicKey>, AuthError> {
        let now = self.clock.elapsed();
        let snap = self.remote.snapshot();
        let clock = self.clock.as_ref();
        match snap.value {
            Some(set) if now.saturating_sub(snap.fetched_at) < self.options.max_age => {
                if let Some(found) = select(set, kid, alg)? {
                    return Ok(found);
                }
                let cooled = snap.last_attempt.is_none_or(|t| now.saturating_sub(t) >= self.options.cooldown);
                if !cooled {
                    return Err(unknown_key());
                }
                match self.remote.refresh(clock, snap.generation, || self.load()).await {
                    Ok(fresh) => select(fresh, kid, alg)?.ok_or_else(unknown_key),
                    Err(_) => Err(unknown_key()),
                }
            }
            Some(stale) => {
                let set = self.remote.refresh(clock, snap.generation, || self.load()).await.unwrap_or(stale);
                select(set, kid, alg)?.ok_or_else(unknown_key)
            }
            None => {
                let set = self.remote.refresh(clock, snap.generation, || self.load()).await?;
                select(set, kid, alg)?.ok_or_else(unknown_key)
            }
        }
    }
}

/// The key sets of one issuer, shared by every middleware of one `MCPAuth`: one per JWKS URL and
/// timing, so that N middlewares mean one fetch.
#[derive(Default)]
pub struct KeySets {
    sets: Mutex<Vec<Arc<Jwks>>>,
}

impl KeySets {
    /// The key set at `uri` with `options`, made on first need.
    pub fn get_or_make(
        &self,
        uri: String,
        options: JwksOptions,
        fetcher: &Arc<dyn Fetcher>,
        clock: &Arc<dyn Clock>,
    ) -> Arc<Jwks> {
        let mut sets = self.sets.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = sets.iter().find(|j| j.uri == uri && j.options == options) {
            return found.clone();
        }
        let made = Arc::new(Jwks::new(uri, options, fetcher.clone(), clock.clone()));
        sets.push(made.clone());
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::fetch::fake::FakeHttp;
    use crate::fetch::FetchError;
    use crate::jwk::tests::jwk;
    use serde_json::json;

    const URI: &str = "https://i/jwks";

    trait Serve {
        fn serve(&self, kids: &[&str]);
        fn fail(&self, e: FetchError);
    }

    impl Serve for FakeHttp {
        fn serve(&self, kids: &[&str]) {
            let keys: Vec<_> = kids.iter().map(|k| jwk(k)).collect();
            self.answer(URI, Ok(json!({ "keys": keys }).to_string().into_bytes()));
        }
        fn fail(&self, e: FetchError) {
            self.answer(URI, Err(e));
        }
    }

    fn setup() -> (Jwks, Arc<FakeHttp>, Arc<ManualClock>) {
        let fetcher = Arc::new(FakeHttp::default());
        let clock = Arc::new(ManualClock::new(1_700_000_000.0));
        let jwks = Jwks::new(URI.into(), JwksOptions::default(), fetcher.clone(), clock.clone());
        (jwks, fetcher, clock)
    }

    async fn kid_of(jwks: &Jwks, kid: &str) -> Result<String, ErrorCode> {
        jwks.key_for(Some(kid), Alg::RS256).await.map(|k| k.kid.clone().unwrap_or_default()).map_err(|e| e.code)
    }

    #[tokio::test]
    async fn fetches_once_and_serves_from_cache() {
        let (jwks, http, _) = setup();
        http.serve(&["rsa-1"]);
        assert_eq!(kid_of(&jwks, "rsa-1").await, Ok("rsa-1".into()));
        assert_eq!(kid_of(&jwks, "rsa-1").await, Ok("rsa-1".into()));
        assert_eq!(http.calls(URI), 1);
    }

    #[tokio::test]
    async fn unknown_kid_refetches_only_after_the_cooldown() {
        let (jwks, http, clock) = setup();
        http.serve(&["rsa-1"]);
        assert!(kid_of(&jwks, "rsa-1").await.is_ok());
        http.serve(&["rsa-1", "rsa-2"]);
        assert_eq!(kid_of(&jwks, "rsa-2").await, Err(ErrorCode::InvalidToken));
        assert_eq!(http.calls(URI), 1, "within the cooldown nothing is fetched");
        clock.advance(Duration::from_secs(30));
        assert_eq!(kid_of(&jwks, "rsa-2").await, Ok("rsa-2".into()));
        assert_eq!(http.calls(URI), 2);
    }

    #[tokio::test]
    async fn a_storm_of_unknown_kids_fetches_once_per_cooldown() {
        let (jwks, http, clock) = setup();
        http.serve(&["rsa-1"]);
        assert!(kid_of(&jwks, "rsa-1").await.is_ok());
        clock.advance(Duration::from_secs(31));
        for i in 0..1000 {
            assert_eq!(kid_of(&jwks, &format!("forged-{i}")).await, Err(ErrorCode::InvalidToken));
        }
        assert_eq!(http.calls(URI), 2);
    }

    #[tokio::test]
    async fn the_set_is_refetched_after_max_age() {
        let (jwks, http, clock) = setup();
        http.serve(&["rsa-1"]);
        assert!(kid_of(&jwks, "rsa-1").await.is_ok());
        clock.advance(Duration::from_secs(599));
        assert!(kid_of(&jwks, "rsa-1").await.is_ok());
        assert_eq!(http.calls(URI), 1);
        clock.advance(Duration::from_secs(1));
        assert!(kid_of(&jwks, "rsa-1").await.is_ok());
        assert_eq!(http.calls(URI), 2);
    }

    #[tokio::test]
    async fn a_stale_set_is_used_while_refetching_fails() {
        let (jwks, http, clock) = setup();
        http.serve(&["rsa-1"]);
        assert!(kid_of(&jwks, "rsa-1").await.is_ok());
        http.fail(FetchError::TimedOut);
        clock.advance(Duration::from_secs(700));
        assert_eq!(kid_of(&jwks, "rsa-1").await, Ok("rsa-1".into()));
        assert_eq!(kid_of(&jwks, "rsa-1").await, Ok("rsa-1".into()));
        assert_eq!(http.calls(URI), 2, "the second request is inside the backoff");
    }

    #[tokio::test]
    async fn no_keys_at_all_is_temporarily_unavailable_with_backoff() {
        let (jwks, http, clock) = setup();
        http.fail(FetchError::Unreachable("refused".into()));
        let err = jwks.key_for(Some("rsa-1"), Alg::RS256).await.err();
        assert_eq!(err.as_ref().map(|e| e.code), Some(ErrorCode::TemporarilyUnavailable));
        assert_eq!(err.and_then(|e| e.retry_after), Some(Duration::from_secs(1)));
        assert_eq!(kid_of(&jwks, "rsa-1").await, Err(ErrorCode::TemporarilyUnavailable));
        assert_eq!(http.calls(URI), 1);
        http.serve(&["rsa-1"]);
        clock.advance(Duration::from_secs(1));
        assert_eq!(kid_of(&jwks, "rsa-1").await, Ok("rsa-1".into()));
        assert_eq!(http.calls(URI), 2);
    }

    #[tokio::test]
    async fn an_unknown_kid_with_a_cached_set_is_invalid_even_if_the_refetch_fails() {
        let (jwks, http, clock) = setup();
        http.serve(&["rsa-1"]);
        assert!(kid_of(&jwks, "rsa-1").await.is_ok());
        http.fail(FetchError::Status(503));
        clock.advance(Duration::from_secs(31));
        assert_eq!(kid_of(&jwks, "other").await, Err(ErrorCode::InvalidToken));
    }

    #[tokio::test]
    async fn html_instead_of_a_key_set_is_temporarily_unavailable() {
        let (jwks, http, _) = setup();
        http.answer(URI, Ok(b"<html>oops</html>".to_vec()));
        assert_eq!(kid_of(&jwks, "rsa-1").await, Err(ErrorCode::TemporarilyUnavailable));
    }
}
