//! The DPoP core (issue 15) against the attacks of the issue that the core decides, with proofs
//! signed in the test by the fixture keys, and the Redis replay store against a real
//! `redis-server` that the tests start, kill and restart on a free port.
//!
//! Each attack ends in the exact answer of the contract (status, `WWW-Authenticate`, body), and
//! neither the proof nor the token is reflected, even with `showErrorDetails`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm as A, EncodingKey};
use mcp_auth_native::clock::{Clock, ManualClock};
use mcp_auth_native::dpop::proof::access_token_hash;
use mcp_auth_native::dpop::redis::jti_key;
use mcp_auth_native::dpop::thumbprint::jwk_thumbprint;
use mcp_auth_native::dpop::{
    bound_jkt, check_binding, DpopOptions, DpopRequest, DpopVerifier, ReplayStoreOption, VerifiedProof,
};
use mcp_auth_native::error::{AuthError, ErrorCode};
use mcp_auth_native::response::{ChallengeContext, DpopChallenge, Presented, Rejection};
use serde_json::{json, Map, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";
const NOW: f64 = 1_700_000_000.0;
const TOKEN: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl";
const INVALID_PROOF: &str = "The DPoP proof is missing, malformed or invalid.";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// A client key: the fixture private key and its public JWK.
#[derive(Clone, Copy)]
struct Key {
    pem: &'static str,
    kid: &'static str,
    alg: A,
}

const KEY_A: Key = Key { pem: "ec256.pem", kid: "ec-256", alg: A::ES256 };
const KEY_B: Key = Key { pem: "ed25519.pem", kid: "ed-1", alg: A::EdDSA };
const KEY_RSA: Key = Key { pem: "rsa.pem", kid: "rsa-1", alg: A::RS256 };
const KEY_RSA2: Key = Key { pem: "rsa2.pem", kid: "rsa-2", alg: A::RS256 };

impl Key {
    fn jwk(self) -> Value {
        let set: Value = serde_json::from_slice(&fixture("jwks.json")).unwrap();
        let mut jwk = set["keys"].as_array().unwrap().iter().find(|k| k["kid"] == self.kid).unwrap().clone();
        for member in ["kid", "alg", "use"] {
            jwk.as_object_mut().unwrap().remove(member);
        }
        jwk
    }

    fn jkt(self) -> String {
        jwk_thumbprint(self.jwk().as_object().unwrap()).unwrap()
    }

    fn encoding_key(self) -> EncodingKey {
        let pem = fixture(self.pem);
        match self.alg {
            A::ES256 | A::ES384 => EncodingKey::from_ec_pem(&pem),
            A::EdDSA => EncodingKey::from_ed_pem(&pem),
            _ => EncodingKey::from_rsa_pem(&pem),
        }
        .unwrap()
    }
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Signs `header` and `claims` with `key` under `key.alg`.
fn sign(key: Key, header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding_key(), key.alg).unwrap();
    format!("{input}.{sig}")
}

fn alg_name(alg: A) -> &'static str {
    match alg {
        A::ES256 => "ES256",
        A::EdDSA => "EdDSA",
        A::RS256 => "RS256",
        _ => unreachable!(),
    }
}

/// A proof by `key` for `POST /mcp` with `TOKEN`, made at `iat`, with `edit` applied.
fn proof_at(key: Key, iat: f64, edit: impl FnOnce(&mut Map<String, Value>, &mut Map<String, Value>)) -> String {
    let mut header = json!({ "typ": "dpop+jwt", "alg": alg_name(key.alg), "jwk": key.jwk() });
    let mut claims = json!({
        "htm": "POST", "htu": RESOURCE, "iat": iat, "jti": unique_jti(), "ath": access_token_hash(TOKEN)
    });
    edit(header.as_object_mut().unwrap(), claims.as_object_mut().unwrap());
    sign(key, &header, &claims)
}

fn proof(key: Key) -> String {
    proof_at(key, NOW, |_, _| {})
}

fn unique_jti() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!("jti-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

fn verifier_with(options: DpopOptions, clock: Arc<dyn Clock>) -> DpopVerifier {
    DpopVerifier::new(options, RESOURCE, clock).unwrap()
}

fn memory_verifier() -> (DpopVerifier, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(NOW));
    (verifier_with(DpopOptions::default(), clock.clone()), clock)
}

async fn check(v: &DpopVerifier, method: &str, url: &str, proofs: &[&str]) -> Result<VerifiedProof, AuthError> {
    v.verify(&DpopRequest { method, original_url: url, access_token: TOKEN, proofs }).await
}

fn ctx() -> ChallengeContext {
    ChallengeContext { resource_metadata: Some(METADATA.into()), scope: None }
}

/// The answer a refused DPoP request gets, checked for reflection of `secrets` with and
/// without `showErrorDetails`; returns the answer without details.
fn answer(err: &AuthError, nonce: Option<&str>, secrets: &[&str]) -> Rejection {
    let dpop =
        DpopChallenge { algs: "ES256 ES384 EdDSA RS256 PS256", required: false, presented: Presented::Dpop, nonce };
    for details in [true, false] {
        let r = Rejection::render_dpop(err, &ctx(), details, &dpop);
        for secret in secrets.iter().chain([&TOKEN]) {
            let text = format!("{} {:?}", r.body, r.www_authenticate);
            // Any 12-byte window of the secret would be a leak.
            for w in secret.as_bytes().windows(12).step_by(6) {
                assert!(!text.contains(std::str::from_utf8(w).unwrap()), "reflected part of {secret:?} in {text}");
            }
        }
    }
    Rejection::render_dpop(err, &ctx(), false, &dpop)
}

fn body(r: &Rejection) -> Value {
    serde_json::from_str(&r.body).unwrap()
}

/// Asserts `result` is the 401 `invalid_dpop_proof` answer, its cause naming `check`.
fn assert_invalid_proof(result: Result<VerifiedProof, AuthError>, check: &str, proof: &str) {
    let err = result.expect_err("the proof was accepted");
    assert_eq!(err.code, ErrorCode::InvalidDpopProof, "{err}");
    assert!(err.reason().unwrap_or_default().contains(check), "{:?} does not name {check}", err.reason());
    let r = answer(&err, None, &[proof]);
    assert_eq!(r.status, 401);
    assert_eq!(
        r.www_authenticate.as_deref(),
        Some(
            format!(
                "DPoP error=\"invalid_dpop_proof\", error_description=\"{INVALID_PROOF}\", \
                 algs=\"ES256 ES384 EdDSA RS256 PS256\", resource_metadata=\"{METADATA}\""
            )
            .as_str()
        )
    );
    assert_eq!(body(&r), json!({ "error": "invalid_dpop_proof", "error_description": INVALID_PROOF }));
}

#[tokio::test]
async fn a_fresh_proof_of_each_key_type_passes_and_names_its_key_thumbprint() {
    let (v, _) = memory_verifier();
    for key in [KEY_A, KEY_B, KEY_RSA] {
        let p = proof(key);
        assert_eq!(check(&v, "POST", "/mcp", &[&p]).await.unwrap().jkt, key.jkt());
    }
}

#[tokio::test]
async fn a_replayed_proof_is_refused_on_the_same_instance() {
    let (v, _) = memory_verifier();
    let p = proof(KEY_A);
    assert!(check(&v, "POST", "/mcp", &[&p]).await.is_ok());
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&p]).await, "replayed", &p);
}

#[tokio::test]
async fn a_proof_for_another_method_or_url_is_refused() {
    let (v, _) = memory_verifier();
    let p = proof(KEY_A);
    assert_invalid_proof(check(&v, "GET", "/mcp", &[&p]).await, "`htm`", &p);
    assert_invalid_proof(check(&v, "POST", "/other", &[&p]).await, "`htu`", &p);
    // The query and fragment do not count.
    assert!(check(&v, "POST", "/mcp?session=1", &[&p]).await.is_ok());
}

#[tokio::test]
async fn a_proof_for_a_forged_host_is_refused_because_the_origin_comes_from_the_resource() {
    let (v, _) = memory_verifier();
    // The attacker made the proof for its own host and sends the request line in absolute form
    // naming that host (as a forged `Host` would): the server still expects its resource's origin.
    let p = proof_at(KEY_A, NOW, |_, c| drop(c.insert("htu".into(), json!("https://evil.example/mcp"))));
    assert_invalid_proof(check(&v, "POST", "https://evil.example/mcp", &[&p]).await, "`htu`", &p);
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&p]).await, "`htu`", &p);
    assert_eq!(v.htu("https://evil.example/mcp?x").unwrap().as_str(), RESOURCE);
}

#[tokio::test]
async fn a_proof_with_iat_too_old_or_too_far_in_the_future_is_refused() {
    let (v, _) = memory_verifier();
    let old = proof_at(KEY_A, NOW - 301.0, |_, _| {});
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&old]).await, "past", &old);
    let future = proof_at(KEY_A, NOW + 301.0, |_, _| {});
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&future]).await, "future", &future);
}

#[tokio::test]
async fn a_proof_with_a_missing_or_wrong_ath_is_refused() {
    let (v, _) = memory_verifier();
    let missing = proof_at(KEY_A, NOW, |_, c| drop(c.remove("ath")));
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&missing]).await, "no `ath`", &missing);
    let wrong = proof_at(KEY_A, NOW, |_, c| drop(c.insert("ath".into(), json!(access_token_hash("stolen")))));
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&wrong]).await, "`ath`", &wrong);
}

#[tokio::test]
async fn a_proof_signed_by_another_key_than_its_jwk_is_refused() {
    let (v, _) = memory_verifier();
    let header = json!({ "typ": "dpop+jwt", "alg": "RS256", "jwk": KEY_RSA.jwk() });
    let claims = json!({ "htm": "POST", "htu": RESOURCE, "iat": NOW, "jti": "x", "ath": access_token_hash(TOKEN) });
    let forged = sign(KEY_RSA2, &header, &claims);
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&forged]).await, "signature", &forged);
}

#[tokio::test]
async fn a_proof_whose_jwk_has_private_members_is_refused() {
    let (v, _) = memory_verifier();
    for member in ["d", "p", "q", "dp", "dq", "qi", "k"] {
        let p =
            proof_at(KEY_A, NOW, |h, _| drop(h["jwk"].as_object_mut().unwrap().insert(member.into(), json!("AQAB"))));
        assert_invalid_proof(check(&v, "POST", "/mcp", &[&p]).await, "private", &p);
    }
}

#[tokio::test]
async fn alg_none_and_hs256_proofs_are_refused() {
    let (v, _) = memory_verifier();
    let claims = json!({ "htm": "POST", "htu": RESOURCE, "iat": NOW, "jti": "n", "ath": access_token_hash(TOKEN) });
    let none = format!(
        "{}.{}.",
        b64(json!({ "typ": "dpop+jwt", "alg": "none", "jwk": KEY_A.jwk() }).to_string()),
        b64(claims.to_string())
    );
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&none]).await, "`alg`", &none);
    let secret = EncodingKey::from_secret(b"shared secret");
    for jwk in [KEY_A.jwk(), json!({ "kty": "oct", "k": b64("shared secret") })] {
        let input = format!(
            "{}.{}",
            b64(json!({ "typ": "dpop+jwt", "alg": "HS256", "jwk": jwk }).to_string()),
            b64(claims.to_string())
        );
        let hs = format!("{input}.{}", jsonwebtoken::crypto::sign(input.as_bytes(), &secret, A::HS256).unwrap());
        assert_invalid_proof(check(&v, "POST", "/mcp", &[&hs]).await, "`alg`", &hs);
    }
}

#[tokio::test]
async fn two_dpop_headers_are_refused_even_when_both_are_valid() {
    let (v, _) = memory_verifier();
    let (a, b) = (proof(KEY_A), proof(KEY_A));
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&a, &b]).await, "more than one", &a);
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&format!("{a}, {b}")]).await, "more than one", &a);
    assert_invalid_proof(check(&v, "POST", "/mcp", &[]).await, "no `DPoP` header", &a);
    assert!(check(&v, "POST", "/mcp", &[&a]).await.is_ok(), "a refused request remembers no proof");
}

#[tokio::test]
async fn a_token_bound_to_key_a_with_a_proof_from_key_b_is_refused() {
    let (v, _) = memory_verifier();
    let claims = json!({ "sub": "u", "cnf": { "jkt": KEY_A.jkt() } });
    let claims = claims.as_object().unwrap();
    let from_b = check(&v, "POST", "/mcp", &[&proof(KEY_B)]).await.unwrap();
    let err = check_binding(bound_jkt(claims).unwrap(), &from_b).unwrap_err();
    let r = answer(&err, None, &[&KEY_A.jkt(), &KEY_B.jkt()]);
    assert_eq!(r.status, 401);
    assert!(r.www_authenticate.as_deref().unwrap().starts_with("DPoP error=\"invalid_token\", error_description=\"The access token is not bound to the key of the DPoP proof.\", algs="));
    assert_eq!(body(&r)["error"], "dpop_binding_mismatch");
    let from_a = check(&v, "POST", "/mcp", &[&proof(KEY_A)]).await.unwrap();
    assert!(check_binding(bound_jkt(claims).unwrap(), &from_a).is_ok());
}

#[tokio::test]
async fn a_missing_or_stale_nonce_gets_use_dpop_nonce_with_a_fresh_nonce() {
    let clock = Arc::new(ManualClock::new(NOW));
    let v = verifier_with(DpopOptions { nonce: true, ..Default::default() }, clock.clone());
    let without = proof(KEY_A);
    let err = check(&v, "POST", "/mcp", &[&without]).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::UseDpopNonce);
    let nonce = v.current_nonce().await.unwrap().unwrap();
    let r = answer(&err, Some(&nonce), &[&without]);
    assert_eq!(r.status, 401);
    assert_eq!(r.dpop_nonce.as_deref(), Some(nonce.as_str()));
    assert!(r.www_authenticate.as_deref().unwrap().starts_with("DPoP error=\"use_dpop_nonce\""));
    assert_eq!(body(&r)["error"], "use_dpop_nonce");

    let with_nonce = |n: &str| {
        let n = n.to_owned();
        let iat = clock.unix_seconds();
        proof_at(KEY_A, iat, move |_, c| drop(c.insert("nonce".into(), json!(n))))
    };
    assert!(check(&v, "POST", "/mcp", &[&with_nonce(&nonce)]).await.is_ok());
    clock.advance(Duration::from_secs(121));
    let stale = with_nonce(&nonce);
    let err = check(&v, "POST", "/mcp", &[&stale]).await.unwrap_err();
    assert_eq!(
        (err.code, err.reason()),
        (ErrorCode::UseDpopNonce, Some("The DPoP proof `nonce` is stale or not one this server issued."))
    );
    let fresh = v.current_nonce().await.unwrap().unwrap();
    assert_ne!(fresh, nonce);
    assert!(check(&v, "POST", "/mcp", &[&with_nonce(&fresh)]).await.is_ok());
}

#[test]
fn the_fuzz_seed_proofs_are_real_proofs() {
    // scripts/fuzz-seed.js signs them for the time and token of the dpop_proof target, so that
    // the fuzzer starts from proofs that reach every check.
    let htu = url::Url::parse(RESOURCE).unwrap();
    let expected = mcp_auth_native::dpop::proof::Expected {
        method: "POST",
        htu: &htu,
        access_token: "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln",
        algorithms: &mcp_auth_native::algorithm::Alg::ALL,
        now: NOW,
        iat_window: 300.0,
    };
    let dir = format!("{}/fuzz/corpus/dpop_proof", env!("CARGO_MANIFEST_DIR"));
    for (name, passes) in [
        ("es256", true),
        ("es384", true),
        ("eddsa", true),
        ("rs256", true),
        ("ps256", true),
        ("other_key", false),
        ("private_jwk", false),
        ("old", false),
        ("none", false),
        ("hs256", false),
    ] {
        let p = std::fs::read_to_string(format!("{dir}/{name}")).unwrap();
        assert_eq!(mcp_auth_native::dpop::proof::check(&p, &expected).is_ok(), passes, "{name}");
    }
}

// ---- Redis ----

/// A `redis-server` of this test on a free loopback port; killed when dropped.
struct Redis {
    port: u16,
    child: Option<Child>,
    dir: std::path::PathBuf,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("mcp-auth-native-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut r = Redis { port, child: None, dir };
        r.restart();
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts redis-server on this port again (empty), stopping the running one first.
    fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "redis-server could not be started ({e}). The Redis replay store tests need a real Redis: \
                     install it with `apt-get install -y redis-server` (.ci/run does)."
                )
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.answers_ping() {
            assert!(Instant::now() < deadline, "redis-server did not answer PING on port {} in 10 s", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A command sent directly, to look at what the store wrote.
    fn query(&self, args: &[&str]) -> redis::Value {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_connection().unwrap();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        cmd.query(&mut conn).unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn redis_verifier(redis: &Redis, nonce: bool, clock: Arc<dyn Clock>) -> DpopVerifier {
    let options = DpopOptions {
        replay_store: ReplayStoreOption::Redis(redis.url()),
        nonce,
        redis_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    verifier_with(options, clock)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_replayed_on_another_instance_sharing_redis_is_refused() {
    let redis = Redis::start();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
    let (one, two) = (redis_verifier(&redis, false, clock.clone()), redis_verifier(&redis, false, clock.clone()));
    let p = proof(KEY_A);
    assert_eq!(check(&one, "POST", "/mcp", &[&p]).await.unwrap().jkt, KEY_A.jkt());
    assert_invalid_proof(check(&two, "POST", "/mcp", &[&p]).await, "replayed", &p);
    assert_invalid_proof(check(&one, "POST", "/mcp", &[&p]).await, "replayed", &p);
    // Another key's proof with the same jti is its own.
    let jti = |p: &str| -> String {
        let claims = p.split('.').nth(1).unwrap();
        serde_json::from_slice::<Value>(&URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap()["jti"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let same_jti = jti(&p);
    let b = proof_at(KEY_B, NOW, |_, c| drop(c.insert("jti".into(), json!(same_jti))));
    assert!(check(&two, "POST", "/mcp", &[&b]).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_keeps_the_jti_with_set_nx_px_until_the_proof_leaves_the_window() {
    let redis = Redis::start();
    let clock = Arc::new(ManualClock::new(NOW));
    let v = redis_verifier(&redis, false, clock.clone());
    clock.advance(Duration::from_secs(100));
    let p = proof_at(KEY_A, NOW + 50.0, |_, _| {});
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert!(check(&v, "POST", "/mcp", &[&p]).await.is_ok());
    let key = jti_key(&KEY_A.jkt(), claims["jti"].as_str().unwrap());
    assert_eq!(redis.query(&["GET", &key]), redis::Value::BulkString(b"1".to_vec()));
    // iat + window - now = 50 + 300 - 100 = 250 s.
    let redis::Value::Int(ttl) = redis.query(&["PTTL", &key]) else { panic!("no TTL") };
    assert!((249_000..=250_000).contains(&ttl), "PTTL {ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nonces_are_shared_by_the_instances_of_one_redis() {
    let redis = Redis::start();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
    let (one, two) = (redis_verifier(&redis, true, clock.clone()), redis_verifier(&redis, true, clock.clone()));
    let nonce = one.current_nonce().await.unwrap().unwrap();
    assert_eq!(two.current_nonce().await.unwrap().as_deref(), Some(nonce.as_str()));
    let n = nonce.clone();
    let p = proof_at(KEY_A, NOW, move |_, c| drop(c.insert("nonce".into(), json!(n))));
    assert!(check(&two, "POST", "/mcp", &[&p]).await.is_ok());
    // A third instance on another Redis has another secret.
    let other = Redis::start();
    let three = redis_verifier(&other, true, clock.clone());
    assert_ne!(three.current_nonce().await.unwrap(), Some(nonce));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_redis_restarts_empty_the_instances_converge_on_the_new_shared_nonce_secret() {
    let mut redis = Redis::start();
    let clock = Arc::new(ManualClock::new(NOW));
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let (one, two) = (redis_verifier(&redis, true, dyn_clock.clone()), redis_verifier(&redis, true, dyn_clock.clone()));
    let before = one.current_nonce().await.unwrap().unwrap();
    assert_eq!(two.current_nonce().await.unwrap().as_deref(), Some(before.as_str()));

    // Redis comes back empty; an instance started now writes a secret of its own.
    redis.restart();
    let three = redis_verifier(&redis, true, dyn_clock.clone());
    let after = three.current_nonce().await.unwrap().unwrap();
    assert_ne!(after, before, "the new secret is the new instance's");

    // A proof with the new nonce is accepted by an instance that still held the old secret: the
    // mismatch makes it read the secret again (at most once a second; the first commands after
    // the restart may fail while its connection to Redis is made again).
    let with_nonce = |n: &str, iat: f64| {
        let n = n.to_owned();
        proof_at(KEY_A, iat, move |_, c| drop(c.insert("nonce".into(), json!(n))))
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        clock.advance(Duration::from_secs(2));
        match check(&one, "POST", "/mcp", &[&with_nonce(&after, clock.unix_seconds())]).await {
            Ok(_) => break,
            Err(e) => {
                assert!(matches!(e.code, ErrorCode::UseDpopNonce | ErrorCode::DpopReplayStoreUnavailable), "{e:?}");
                assert!(Instant::now() < deadline, "the instance never adopted the new secret");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // The old secret's nonce is refused with use_dpop_nonce, and the fresh nonce handed out is
    // the shared one.
    let stale = check(&one, "POST", "/mcp", &[&with_nonce(&before, clock.unix_seconds())]).await.unwrap_err();
    assert_eq!(stale.code, ErrorCode::UseDpopNonce);
    assert_eq!(one.current_nonce().await.unwrap().as_deref(), Some(after.as_str()));
    // After a rotation every instance issues the same nonces again, without any mismatch (an
    // instance whose first read after the restart failed reads again a second later).
    clock.advance(Duration::from_secs(61));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let shared = three.current_nonce().await.unwrap();
        assert_ne!(shared.as_deref(), Some(after.as_str()), "rotated");
        if one.current_nonce().await.unwrap() == shared && two.current_nonce().await.unwrap() == shared {
            break;
        }
        assert!(Instant::now() < deadline, "the instances did not converge on one secret");
        clock.advance(Duration::from_secs(2));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_the_store_fails_closed_with_503_and_recovers_when_redis_is_back() {
    let mut redis = Redis::start();
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(NOW));
    let v = redis_verifier(&redis, false, clock.clone());
    assert!(check(&v, "POST", "/mcp", &[&proof(KEY_A)]).await.is_ok());

    redis.kill();
    let p = proof(KEY_A);
    let started = Instant::now();
    let err = check(&v, "POST", "/mcp", &[&p]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(err.code, ErrorCode::DpopReplayStoreUnavailable);
    let r = answer(&err, None, &[&p, &redis.url()]);
    assert_eq!((r.status, r.retry_after, r.www_authenticate.as_deref()), (503, Some(1), None));
    assert_eq!(
        body(&r),
        json!({ "error": "temporarily_unavailable", "error_description": ErrorCode::TemporarilyUnavailable.description() })
    );
    // Still down: still refused, never passed.
    assert_eq!(check(&v, "POST", "/mcp", &[&p]).await.unwrap_err().code, ErrorCode::DpopReplayStoreUnavailable);

    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match check(&v, "POST", "/mcp", &[&proof(KEY_A)]).await {
            Ok(_) => break,
            Err(e) => {
                assert_eq!(e.code, ErrorCode::DpopReplayStoreUnavailable);
                assert!(Instant::now() < deadline, "no recovery 15 s after Redis came back");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // After the restart (an empty Redis), replays are caught again.
    let q = proof(KEY_A);
    assert!(check(&v, "POST", "/mcp", &[&q]).await.is_ok());
    assert_invalid_proof(check(&v, "POST", "/mcp", &[&q]).await, "replayed", &q);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_on_a_redis_that_never_ran_is_503_from_the_first_request() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let options = DpopOptions {
        replay_store: ReplayStoreOption::Redis(format!("redis://:hunter2@127.0.0.1:{port}")),
        redis_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let v = verifier_with(options, Arc::new(ManualClock::new(NOW)));
    let err = check(&v, "POST", "/mcp", &[&proof(KEY_A)]).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::DpopReplayStoreUnavailable);
    assert!(!format!("{err:?}").contains("hunter2"));
}
