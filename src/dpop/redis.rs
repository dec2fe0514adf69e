//! The `jti` replay check shared by every instance through Redis (`SET key 1 NX PX ttl`).
//!
//! One multiplexed connection per store (the `redis` crate's `ConnectionManager`), made on first
//! use on the tokio runtime, reconnects by itself after Redis restarts. Every command has a
//! timeout; an error or a timeout is `dpop_replay_store_unavailable` (503 with `Retry-After`):
//! the store fails closed, a proof is never let through unchecked.
//!
//! The key is `mcp-auth-native:dpop:jti:` + base64url(SHA-256(jkt ‖ 0 ‖ jti)): the same on every
//! instance, bound to the proof key, and of fixed length whatever the client sends.

use crate::dpop::replay::{Seen, RETRY_AFTER};
use crate::error::{AuthError, ConfigError, ErrorCode};
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;
use tokio::sync::OnceCell;

/// How long one Redis command may take before the request is answered 503.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// The prefix of every key this library writes.
pub const KEY_PREFIX: &str = "mcp-auth-native:dpop:";

/// A replay store in Redis.
pub struct RedisReplayStore {
    client: redis::Client,
    connection: OnceCell<ConnectionManager>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisReplayStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold a password.
        f.debug_struct("RedisReplayStore").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

fn unavailable(reason: &'static str) -> AuthError {
    AuthError {
        retry_after: Some(RETRY_AFTER),
        ..AuthError::with_reason(ErrorCode::DpopReplayStoreUnavailable, reason)
    }
}

/// The Redis key of the proof `jti` of the key `jkt`.
pub fn jti_key(jkt: &str, jti: &str) -> String {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(jkt.as_bytes());
    ctx.update(&[0]);
    ctx.update(jti.as_bytes());
    format!("{KEY_PREFIX}jti:{}", URL_SAFE_NO_PAD.encode(ctx.finish()))
}

impl RedisReplayStore {
    /// A store on the Redis at `url` (`redis://` or `rediss://`), checked now; nothing connects
    /// until the first proof. Errors never quote the URL, which may hold a password.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, ConfigError> {
        let bad = || {
            ConfigError::Invalid("`dpop.replayStore.redis` must be a `redis://` or `rediss://` URL with a host.".into())
        };
        let parsed = url::Url::parse(url).map_err(|_| bad())?;
        if !matches!(parsed.scheme(), "redis" | "rediss") || parsed.host_str().is_none_or(str::is_empty) {
            return Err(bad());
        }
        let client = redis::Client::open(url).map_err(|_| bad())?;
        Ok(RedisReplayStore { client, connection: OnceCell::new(), timeout: timeout.max(Duration::from_millis(10)) })
    }

    async fn connection(&self) -> Result<ConnectionManager, AuthError> {
        let timeout = self.timeout;
        let make = || async {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout))
                .set_number_of_retries(2)
                .set_min_delay(Duration::from_millis(50))
                .set_max_delay(Duration::from_millis(500));
            // Lazy: made at once, connected by the first command, reconnected after failures.
            ConnectionManager::new_lazy_with_config(self.client.clone(), config)
                .map_err(|_| unavailable("The DPoP replay store could not be set up."))
        };
        self.connection.get_or_try_init(make).await.cloned()
    }

    async fn run<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, AuthError> {
        let mut conn = self.connection().await?;
        match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err(unavailable("The DPoP replay store (Redis) failed to answer.")),
            Err(_) => Err(unavailable("The DPoP replay store (Redis) did not answer in time.")),
        }
    }

    /// Records the proof `jti` of the key `jkt` for `ttl` and says whether it was there already.
    pub async fn check_and_remember(&self, jkt: &str, jti: &str, ttl: Duration) -> Result<Seen, AuthError> {
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let mut cmd = redis::cmd("SET");
        cmd.arg(jti_key(jkt, jti)).arg(1).arg("NX").arg("PX").arg(ms);
        let set: Option<String> = self.run(&cmd).await?;
        Ok(if set.is_some() { Seen::New } else { Seen::Replayed })
    }

    /// The nonce secret shared by every instance on this Redis: the first instance writes a
    /// random one (`SET NX`), every instance then reads the one that won.
    pub async fn shared_secret(&self, candidate: &[u8]) -> Result<Vec<u8>, AuthError> {
        let key = format!("{KEY_PREFIX}nonce-secret");
        let mut set = redis::cmd("SET");
        set.arg(&key).arg(URL_SAFE_NO_PAD.encode(candidate)).arg("NX");
        let _: Option<String> = self.run(&set).await?;
        let mut get = redis::cmd("GET");
        get.arg(&key);
        let stored: Option<String> = self.run(&get).await?;
        let secret = stored
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| unavailable("The DPoP nonce secret in Redis is missing or malformed."))?;
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fixed_length_and_bound_to_the_key_and_the_jti() {
        let a = jti_key("jkt-a", "j");
        assert!(a.starts_with("mcp-auth-native:dpop:jti:"));
        assert_eq!(a.len(), KEY_PREFIX.len() + 4 + 43);
        assert_eq!(jti_key(&"x".repeat(100), &"y".repeat(256)).len(), a.len());
        assert_ne!(a, jti_key("jkt-b", "j"));
        assert_ne!(jti_key("ab", "c"), jti_key("a", "bc"));
        assert_eq!(a, jti_key("jkt-a", "j"));
    }

    #[test]
    fn only_redis_urls_with_a_host_are_accepted_and_errors_hide_the_url() {
        for ok in ["redis://127.0.0.1:6379", "redis://:secret@localhost/2", "rediss://cache.example:6380"] {
            assert!(RedisReplayStore::new(ok, DEFAULT_COMMAND_TIMEOUT).is_ok(), "{ok}");
        }
        for bad in
            ["http://127.0.0.1:6379", "redis://", "localhost:6379", "", "unix:///tmp/redis.sock", "redis://:hunter2@/x"]
        {
            match RedisReplayStore::new(bad, DEFAULT_COMMAND_TIMEOUT) {
                Ok(_) => panic!("accepted {bad}"),
                Err(e) => assert!(!e.message().contains("hunter2") && e.message().contains("redis://")),
            }
        }
    }
}
