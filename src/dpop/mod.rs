//! DPoP: sender-constrained access tokens (RFC 9449).
//!
//! A [`DpopVerifier`] is made once per middleware from the `dpop` options and the configured
//! resource, then checks each request that uses the `DPoP` scheme: exactly one `DPoP` header, a
//! proof that passes every check of RFC 9449 §4.3 ([`proof`]), the server nonce when required
//! ([`nonce`]), and a `jti` not seen before within the window ([`replay`] in memory, [`redis`]
//! shared). [`check_binding`] then ties the token to the proof key: its `cnf.jkt` must be the
//! RFC 7638 thumbprint ([`thumbprint`]) of the proof's `jwk`.
//!
//! The URL a proof must name (`htu`) is built from the configured resource's origin and the
//! request path, never from `Host` or `X-Forwarded-*` headers.

pub mod nonce;
pub mod proof;
pub mod redis;
pub mod replay;
pub mod thumbprint;

use crate::algorithm::Alg;
use crate::clock::Clock;
use crate::error::{AuthError, ConfigError, ErrorCode};
use nonce::Nonces;
use redis::RedisReplayStore;
use replay::{MemoryReplayStore, Seen};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The proof algorithms accepted by default (the contract's `dpop.algorithms` default).
pub const DEFAULT_ALGORITHMS: [Alg; 5] = [Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::RS256, Alg::PS256];

/// The default `iatWindow`.
pub const DEFAULT_IAT_WINDOW: Duration = Duration::from_secs(300);

/// `dpop.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DpopMode {
    /// Bearer and DPoP both accepted; a DPoP-bound token must come with its proof.
    #[default]
    Allowed,
    /// Only DPoP-bound tokens with the `DPoP` scheme.
    Required,
    /// As without the option.
    Disabled,
}

/// `dpop.replayStore`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReplayStoreOption {
    /// This process's memory.
    #[default]
    Memory,
    /// The Redis at this `redis://` or `rediss://` URL, shared by every instance using it.
    Redis(String),
}

/// The `dpop` options, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct DpopOptions {
    /// `mode`.
    pub mode: DpopMode,
    /// `algorithms`: the proof algorithms accepted, in the order they are advertised.
    pub algorithms: Vec<Alg>,
    /// `iatWindow`: how far a proof's `iat` may be from now, either way.
    pub iat_window: Duration,
    /// `nonce`: whether proofs must carry a server nonce.
    pub nonce: bool,
    /// `replayStore`.
    pub replay_store: ReplayStoreOption,
    /// How often server nonces rotate (not a JS option).
    pub nonce_rotation: Duration,
    /// The most proofs the memory store remembers at once (not a JS option).
    pub memory_capacity: usize,
    /// How long one Redis command may take (not a JS option).
    pub redis_timeout: Duration,
}

impl Default for DpopOptions {
    fn default() -> Self {
        DpopOptions {
            mode: DpopMode::Allowed,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            iat_window: DEFAULT_IAT_WINDOW,
            nonce: false,
            replay_store: ReplayStoreOption::Memory,
            nonce_rotation: nonce::DEFAULT_ROTATION,
            memory_capacity: replay::DEFAULT_CAPACITY,
            redis_timeout: redis::DEFAULT_COMMAND_TIMEOUT,
        }
    }
}

/// One request's DPoP inputs.
#[derive(Debug, Clone, Copy)]
pub struct DpopRequest<'a, S: AsRef<str>> {
    /// The request method, as received (`req.method`).
    pub method: &'a str,
    /// The request target (`req.originalUrl`); only its path is used.
    pub original_url: &'a str,
    /// The access token that followed the `DPoP` scheme.
    pub access_token: &'a str,
    /// Every `DPoP` header value, one per header line (Node: `req.headersDistinct.dpop`).
    pub proofs: &'a [S],
}

/// A proof that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The RFC 7638 thumbprint of the proof key: `req.auth.dpop.jkt`, and what `cnf.jkt` must be.
    pub jkt: String,
}

enum Store {
    Memory(MemoryReplayStore),
    Redis(Arc<RedisReplayStore>),
}

enum NonceSource {
    Off,
    /// A random secret of this process.
    Local(Arc<Nonces>),
    /// A secret shared through Redis.
    Shared(SharedNonces),
}

/// How soon a proof whose nonce does not verify may make the verifier read the shared secret
/// again (it may have changed in Redis since it was read), and how soon a failed read is tried
/// again.
const SECRET_REREAD: Duration = Duration::from_secs(1);

/// The nonces of a secret shared through Redis. The secret is read again once per rotation, and
/// when a proof's nonce does not verify (at most once a second), so that every instance follows
/// what Redis holds now: after Redis restarts empty, the first instance to read writes a fresh
/// secret (`SET NX`) and the others adopt it, instead of each keeping the secret it read before.
struct SharedNonces {
    redis: Arc<RedisReplayStore>,
    /// What this instance offers when Redis holds no secret.
    candidate: [u8; nonce::SECRET_LEN],
    rotation: Duration,
    state: std::sync::Mutex<SecretState>,
    /// One read at a time.
    reading: tokio::sync::Mutex<()>,
}

/// What a [`SharedNonces`] last read (times are `Clock::elapsed`).
#[derive(Default)]
struct SecretState {
    nonces: Option<Arc<Nonces>>,
    read_at: Duration,
    failed_at: Option<Duration>,
}

impl SharedNonces {
    /// The nonces in hand, unless they are older than `max_age` and no read failed within the
    /// last second.
    fn in_hand(&self, now: Duration, max_age: Duration) -> Option<Arc<Nonces>> {
        let state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = now.saturating_sub(state.read_at) < max_age;
        let backing_off = state.failed_at.is_some_and(|f| now.saturating_sub(f) < SECRET_REREAD);
        state.nonces.clone().filter(|_| fresh || backing_off)
    }

    /// The nonces of the shared secret, read from Redis when the ones in hand are older than
    /// `max_age`. While Redis cannot be read, the secret in hand stays in use (the replay store
    /// refuses those requests anyway); with none in hand, the error (503).
    async fn get(&self, now: Duration, max_age: Duration) -> Result<Arc<Nonces>, AuthError> {
        if let Some(n) = self.in_hand(now, max_age) {
            return Ok(n);
        }
        let _reading = self.reading.lock().await;
        if let Some(n) = self.in_hand(now, max_age) {
            return Ok(n);
        }
        let read = self.redis.shared_secret(&self.candidate).await;
        let mut state = self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match read {
            Ok(secret) => {
                let same = state.nonces.as_ref().is_some_and(|n| n.has_secret(&secret));
                if !same {
                    state.nonces = Some(Arc::new(Nonces::new(&secret, self.rotation)));
                }
                state.read_at = now;
                state.failed_at = None;
            }
            Err(e) => {
                state.failed_at = Some(now);
                if state.nonces.is_none() {
                    return Err(e);
                }
            }
        }
        state.nonces.clone().ok_or_else(|| AuthError::new(ErrorCode::DpopReplayStoreUnavailable))
    }
}

/// Checks DPoP proofs for one middleware.
pub struct DpopVerifier {
    options: DpopOptions,
    resource: Url,
    algs: String,
    store: Store,
    nonces: NonceSource,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("mode", &self.options.mode)
            .field("algs", &self.algs)
            .finish_non_exhaustive()
    }
}

fn refused(reason: &'static str) -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidDpopProof, reason)
}

impl DpopVerifier {
    /// A verifier for `options` protecting `resource` (an `http(s)` URL whose origin every
    /// proof's `htu` must have). Nothing connects to Redis before the first proof.
    pub fn new(options: DpopOptions, resource: &str, clock: Arc<dyn Clock>) -> Result<DpopVerifier, ConfigError> {
        let resource = Url::parse(resource)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                ConfigError::Invalid("DPoP needs the `resource` to be an http(s) URL: proofs name its origin.".into())
            })?;
        if options.algorithms.is_empty() {
            return Err(ConfigError::Invalid("`dpop.algorithms` must name at least one algorithm.".into()));
        }
        if options.iat_window.is_zero() {
            return Err(ConfigError::Invalid("`dpop.iatWindow` must be a positive number of seconds.".into()));
        }
        let secret = nonce::random_secret()
            .ok_or_else(|| ConfigError::Invalid("No random bytes for the DPoP nonce secret.".into()))?;
        let store = match &options.replay_store {
            ReplayStoreOption::Memory => {
                Store::Memory(MemoryReplayStore::new(options.iat_window, options.memory_capacity))
            }
            ReplayStoreOption::Redis(url) => Store::Redis(Arc::new(RedisReplayStore::new(url, options.redis_timeout)?)),
        };
        let nonces = match (&store, options.nonce) {
            (_, false) => NonceSource::Off,
            (Store::Memory(_), true) => NonceSource::Local(Arc::new(Nonces::new(&secret, options.nonce_rotation))),
            (Store::Redis(redis), true) => NonceSource::Shared(SharedNonces {
                redis: redis.clone(),
                candidate: secret,
                rotation: options.nonce_rotation,
                state: std::sync::Mutex::new(SecretState::default()),
                reading: tokio::sync::Mutex::new(()),
            }),
        };
        let algs = options.algorithms.iter().map(|a| a.as_str()).collect::<Vec<_>>().join(" ");
        Ok(DpopVerifier { options, resource, algs, store, nonces, clock })
    }

    /// The options it was made from.
    pub fn options(&self) -> &DpopOptions {
        &self.options
    }

    /// `dpop.mode`.
    pub fn mode(&self) -> DpopMode {
        self.options.mode
    }

    /// The accepted algorithms, space-separated, for the challenge's `algs` (RFC 9449 §7.1).
    pub fn algs(&self) -> &str {
        &self.algs
    }

    /// Whether proofs must carry a server nonce.
    pub fn nonce_required(&self) -> bool {
        self.options.nonce
    }

    /// The URL a proof for `original_url` must name: the resource's origin and the request path.
    pub fn htu(&self, original_url: &str) -> Option<Url> {
        proof::htu_of(&self.resource, original_url)
    }

    /// The nonces in force, when nonces are on; a shared secret in hand for longer than
    /// `max_age` is read from Redis again first.
    async fn nonces(&self, max_age: Duration) -> Result<Option<Arc<Nonces>>, AuthError> {
        match &self.nonces {
            NonceSource::Off => Ok(None),
            NonceSource::Local(n) => Ok(Some(n.clone())),
            NonceSource::Shared(shared) => shared.get(self.clock.elapsed(), max_age).await.map(Some),
        }
    }

    /// The nonce to send in `DPoP-Nonce` now, when nonces are on: on every answer, and with
    /// `use_dpop_nonce`. Fails (503) only when the shared secret cannot be read from Redis.
    pub async fn current_nonce(&self) -> Result<Option<String>, AuthError> {
        let now = self.clock.unix_seconds();
        Ok(self.nonces(self.options.nonce_rotation).await?.map(|n| n.current(now)))
    }

    /// Checks the proof of a request that used the `DPoP` scheme: one `DPoP` header, every
    /// check of RFC 9449 §4.3, the nonce when required, then the replay store.
    ///
    /// Errors: `invalid_dpop_proof` (the reason names the check), `use_dpop_nonce`, and
    /// `dpop_replay_store_unavailable` (503) when the store cannot say whether the proof is new.
    pub async fn verify<S: AsRef<str>>(&self, request: &DpopRequest<'_, S>) -> Result<VerifiedProof, AuthError> {
        let proof = match request.proofs {
            [] => return Err(refused("The request has no `DPoP` header.")),
            [one] => one.as_ref(),
            _ => return Err(refused("The request has more than one `DPoP` header.")),
        };
        if proof.contains(',') {
            // Several header lines joined into one value.
            return Err(refused("The request has more than one `DPoP` header."));
        }
        let htu = self
            .htu(request.original_url)
            .ok_or_else(|| refused("The request URL has no path to check `htu` against."))?;
        let now = self.clock.unix_seconds();
        let window = self.options.iat_window.as_secs_f64();
        let expected = proof::Expected {
            method: request.method,
            htu: &htu,
            access_token: request.access_token,
            algorithms: &self.options.algorithms,
            now,
            iat_window: window,
        };
        let checked = proof::check(proof, &expected)?;
        if let Some(nonces) = self.nonces(self.options.nonce_rotation).await? {
            let mut fresh = checked.nonce.as_deref().is_some_and(|n| nonces.accepts(n, now));
            if !fresh && checked.nonce.is_some() && matches!(self.nonces, NonceSource::Shared(_)) {
                // Another instance may have put a new secret in Redis (after a Redis restart).
                if let Some(again) = self.nonces(SECRET_REREAD).await? {
                    fresh = checked.nonce.as_deref().is_some_and(|n| again.accepts(n, now));
                }
            }
            if !fresh {
                let reason = if checked.nonce.is_some() {
                    "The DPoP proof `nonce` is stale or not one this server issued."
                } else {
                    "The DPoP proof has no `nonce`."
                };
                return Err(AuthError::with_reason(ErrorCode::UseDpopNonce, reason));
            }
        }
        // Remembered until the proof's `iat` leaves the window: it could pass again until then.
        let expires_at = checked.iat + window;
        let seen = match &self.store {
            Store::Memory(m) => m.check_and_remember(&checked.jkt, &checked.jti, expires_at, now)?,
            Store::Redis(r) => {
                let ttl = Duration::from_secs_f64((expires_at - now).clamp(0.001, 2.0 * window));
                r.check_and_remember(&checked.jkt, &checked.jti, ttl).await?
            }
        };
        if seen == Seen::Replayed {
            return Err(refused("The DPoP proof was used before (`jti` replayed)."));
        }
        Ok(VerifiedProof { jkt: checked.jkt })
    }
}

/// The `cnf.jkt` a token (its JWT claims, or its introspection answer) is bound to, if any
/// (RFC 9449 §6). A `cnf.jkt` that is not a string makes the token invalid.
pub fn bound_jkt(claims: &Map<String, Value>) -> Result<Option<&str>, AuthError> {
    match claims.get("cnf") {
        None => Ok(None),
        Some(Value::Object(cnf)) => match cnf.get("jkt") {
            None => Ok(None),
            Some(Value::String(jkt)) => Ok(Some(jkt)),
            Some(_) => Err(AuthError::with_reason(ErrorCode::InvalidToken, "The token's `cnf.jkt` is not a string.")),
        },
        Some(_) => Err(AuthError::with_reason(ErrorCode::InvalidToken, "The token's `cnf` is not an object.")),
    }
}

/// Checks that a token bound to `bound` (see [`bound_jkt`]) may be used with `proof`: its
/// `cnf.jkt` must be the proof key's thumbprint (RFC 9449 §7.1). An unbound token fails too:
/// a proof cannot vouch for a token that names no key.
pub fn check_binding(bound: Option<&str>, proof: &VerifiedProof) -> Result<(), AuthError> {
    match bound {
        Some(jkt) if proof::constant_time_eq(jkt.as_bytes(), proof.jkt.as_bytes()) => Ok(()),
        Some(_) => Err(AuthError::with_reason(
            ErrorCode::DpopBindingMismatch,
            "The token's `cnf.jkt` is not the thumbprint of the DPoP proof's key.",
        )),
        None => Err(AuthError::with_reason(
            ErrorCode::DpopBindingMismatch,
            "The token is not DPoP-bound: it has no `cnf.jkt`.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::proof::tests::{claims, header, proof_with, sign, EC, ED, NOW, TOKEN, URL};
    use super::*;
    use crate::clock::ManualClock;
    use serde_json::json;

    fn verifier(options: DpopOptions) -> (DpopVerifier, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::new(NOW));
        let v = DpopVerifier::new(options, URL, clock.clone()).unwrap_or_else(|e| panic!("{e}"));
        (v, clock)
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| rt.block_on(f))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn verify(v: &DpopVerifier, method: &str, url: &str, proofs: &[&str]) -> Result<VerifiedProof, AuthError> {
        run(v.verify(&DpopRequest { method, original_url: url, access_token: TOKEN, proofs }))
    }

    fn code(r: Result<VerifiedProof, AuthError>) -> (ErrorCode, String) {
        match r {
            Ok(p) => panic!("accepted {p:?}"),
            Err(e) => (e.code, e.reason().unwrap_or_default().to_owned()),
        }
    }

    #[test]
    fn a_fresh_proof_passes_once_and_its_replay_is_refused() {
        let (v, _) = verifier(DpopOptions::default());
        let p = proof_with(EC, |_| {});
        assert_eq!(verify(&v, "POST", "/mcp?session=1", &[&p]).ok().map(|x| x.jkt), Some(EC.jkt()));
        let (c, reason) = code(verify(&v, "POST", "/mcp", &[&p]));
        assert_eq!(c, ErrorCode::InvalidDpopProof);
        assert!(reason.contains("replayed"));
    }

    #[test]
    fn no_proof_or_two_proofs_are_refused() {
        let (v, _) = verifier(DpopOptions::default());
        let a = proof_with(EC, |_| {});
        let b = proof_with(EC, |c| drop(c.insert("jti".into(), json!("other"))));
        assert!(code(verify(&v, "POST", "/mcp", &[])).1.contains("no `DPoP` header"));
        assert!(code(verify(&v, "POST", "/mcp", &[&a, &b])).1.contains("more than one"));
        assert!(code(verify(&v, "POST", "/mcp", &[&format!("{a}, {b}")])).1.contains("more than one"));
        // Neither was remembered: the first is still fresh.
        assert!(verify(&v, "POST", "/mcp", &[&a]).is_ok());
    }

    #[test]
    fn the_url_comes_from_the_resource_origin_and_the_request_path() {
        let (v, _) = verifier(DpopOptions::default());
        let p = proof_with(EC, |_| {});
        assert!(code(verify(&v, "POST", "/other", &[&p])).1.contains("`htu`"));
        assert!(code(verify(&v, "GET", "/mcp", &[&p])).1.contains("`htm`"));
        // A proof for another host is refused whatever host the request claims.
        let evil = proof_with(EC, |c| drop(c.insert("htu".into(), json!("https://evil.example/mcp"))));
        assert!(code(verify(&v, "POST", "https://evil.example/mcp", &[&evil])).1.contains("`htu`"));
    }

    #[test]
    fn a_stale_proof_is_refused_after_the_window() {
        let (v, clock) = verifier(DpopOptions { iat_window: Duration::from_secs(60), ..Default::default() });
        let p = proof_with(EC, |_| {});
        clock.advance(Duration::from_secs(61));
        assert!(code(verify(&v, "POST", "/mcp", &[&p])).1.contains("past"));
    }

    #[test]
    fn nonces_are_required_when_on_and_a_stale_one_gets_use_dpop_nonce() {
        let (v, clock) = verifier(DpopOptions { nonce: true, ..Default::default() });
        let (c, reason) = code(verify(&v, "POST", "/mcp", &[&proof_with(EC, |_| {})]));
        assert_eq!(c, ErrorCode::UseDpopNonce);
        assert!(reason.contains("no `nonce`"));
        let nonce = run(v.current_nonce()).ok().flatten().unwrap_or_default();
        assert!(!nonce.is_empty());
        let with = |jti: &str, n: &str| {
            let mut c = claims(jti);
            c["nonce"] = json!(n);
            c["iat"] = json!(clock.unix_seconds());
            sign(EC, &header(EC), &c)
        };
        assert!(verify(&v, "POST", "/mcp", &[&with("a", &nonce)]).is_ok());
        assert_eq!(code(verify(&v, "POST", "/mcp", &[&with("b", "made-up")])).0, ErrorCode::UseDpopNonce);
        clock.advance(Duration::from_secs(130));
        let (c, reason) = code(verify(&v, "POST", "/mcp", &[&with("c", &nonce)]));
        assert_eq!(c, ErrorCode::UseDpopNonce);
        assert!(reason.contains("stale"));
        let next = run(v.current_nonce()).ok().flatten().unwrap_or_default();
        assert_ne!(next, nonce);
        assert!(verify(&v, "POST", "/mcp", &[&with("d", &next)]).is_ok());
    }

    #[test]
    fn the_verifier_is_shareable_and_its_checks_can_run_on_any_runtime_thread() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        fn send<T: Send>(_: &T) {}
        let redis = DpopOptions {
            replay_store: ReplayStoreOption::Redis("redis://127.0.0.1:1".into()),
            nonce: true,
            ..Default::default()
        };
        for options in [DpopOptions::default(), redis] {
            let (v, _) = verifier(options);
            send_sync(&v);
            let proofs = [String::new()];
            send(&v.verify(&DpopRequest { method: "GET", original_url: "/", access_token: "t", proofs: &proofs }));
            send(&v.current_nonce());
        }
    }

    #[test]
    fn nonces_are_off_by_default() {
        let (v, _) = verifier(DpopOptions::default());
        assert_eq!(run(v.current_nonce()).ok(), Some(None));
        assert!(!v.nonce_required());
    }

    #[test]
    fn algs_lists_the_allowed_algorithms_in_order() {
        let (v, _) = verifier(DpopOptions::default());
        assert_eq!(v.algs(), "ES256 ES384 EdDSA RS256 PS256");
        let (v, _) = verifier(DpopOptions { algorithms: vec![Alg::EdDSA], ..Default::default() });
        assert_eq!(v.algs(), "EdDSA");
        assert_eq!(code(verify(&v, "POST", "/mcp", &[&proof_with(EC, |_| {})])).0, ErrorCode::InvalidDpopProof);
        assert!(verify(&v, "POST", "/mcp", &[&proof_with(ED, |_| {})]).is_ok());
    }

    #[test]
    fn bad_configurations_are_refused_without_quoting_secrets() {
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
        let new =
            |o: DpopOptions, r: &str| DpopVerifier::new(o, r, clock.clone()).err().map(|e| e.message().to_owned());
        assert!(new(DpopOptions::default(), "not a url").unwrap_or_default().contains("resource"));
        assert!(new(DpopOptions::default(), "urn:x:y").unwrap_or_default().contains("resource"));
        assert!(new(DpopOptions { algorithms: vec![], ..Default::default() }, URL)
            .unwrap_or_default()
            .contains("algorithms"));
        assert!(new(DpopOptions { iat_window: Duration::ZERO, ..Default::default() }, URL)
            .unwrap_or_default()
            .contains("iatWindow"));
        let redis =
            DpopOptions { replay_store: ReplayStoreOption::Redis("http://:pw@host".into()), ..Default::default() };
        let msg = new(redis, URL).unwrap_or_default();
        assert!(msg.contains("redis://") && !msg.contains("pw"), "{msg}");
    }

    #[test]
    fn the_binding_needs_cnf_jkt_equal_to_the_proof_thumbprint() {
        let proof = VerifiedProof { jkt: EC.jkt() };
        let claims = |v: Value| v.as_object().cloned().unwrap_or_default();
        let bound = claims(json!({ "cnf": { "jkt": EC.jkt() } }));
        assert_eq!(bound_jkt(&bound).ok().flatten().map(str::to_owned), Some(EC.jkt()));
        assert!(check_binding(bound_jkt(&bound).ok().flatten(), &proof).is_ok());
        let other = claims(json!({ "cnf": { "jkt": ED.jkt() } }));
        let err = check_binding(bound_jkt(&other).ok().flatten(), &proof).err();
        assert_eq!(err.map(|e| e.code), Some(ErrorCode::DpopBindingMismatch));
        let unbound = claims(json!({ "sub": "u" }));
        assert_eq!(bound_jkt(&unbound).ok(), Some(None));
        assert_eq!(check_binding(None, &proof).err().map(|e| e.code), Some(ErrorCode::DpopBindingMismatch));
        assert_eq!(bound_jkt(&claims(json!({ "cnf": { "x5t#S256": "x" } }))).ok(), Some(None));
        for bad in [json!({ "cnf": "jkt" }), json!({ "cnf": { "jkt": 1 } })] {
            assert_eq!(bound_jkt(&claims(bad)).err().map(|e| e.code), Some(ErrorCode::InvalidToken));
        }
    }
}
