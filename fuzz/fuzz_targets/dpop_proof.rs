//! DPoP proof checks: `dpop::proof::check` (decode, header, `jwk`, signature, claims) on the
//! input as a proof, `check_claims` on its payload even when unsigned (the fuzzer cannot sign),
//! the thumbprint of its `jwk`, the binding and nonce checks, and the DPoP challenge of the refusal.
#![no_main]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use mcp_auth_native::algorithm::Alg;
use mcp_auth_native::dpop::nonce::Nonces;
use mcp_auth_native::dpop::proof::{self, Expected};
use mcp_auth_native::dpop::replay::MemoryReplayStore;
use mcp_auth_native::dpop::{bound_jkt, check_binding, thumbprint, VerifiedProof};
use mcp_auth_native::error::ErrorCode;
use mcp_auth_native::response::{ChallengeContext, DpopChallenge, Presented, Rejection};
use serde_json::{Map, Value};
use std::sync::OnceLock;
use std::time::Duration;

/// The time the seed proofs were made for (`scripts/fuzz-seed.js`).
const NOW: f64 = 1_700_000_000.0;
const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
/// Where every refusal reason must come from: fixed texts in the source, never the input.
const SOURCES: [&str; 2] = [include_str!("../../src/dpop/proof.rs"), include_str!("../../src/dpop/mod.rs")];

fn htu() -> &'static url::Url {
    static HTU: OnceLock<url::Url> = OnceLock::new();
    HTU.get_or_init(|| url::Url::parse("https://api.example.com/mcp").unwrap_or_else(|_| unreachable!()))
}

fn store() -> &'static MemoryReplayStore {
    static STORE: OnceLock<MemoryReplayStore> = OnceLock::new();
    STORE.get_or_init(|| MemoryReplayStore::new(Duration::from_secs(300), 1024))
}

fn nonces() -> &'static Nonces {
    static NONCES: OnceLock<Nonces> = OnceLock::new();
    NONCES.get_or_init(|| Nonces::new(b"fuzz", Duration::from_secs(60)))
}

fn ctx() -> ChallengeContext {
    ChallengeContext {
        resource_metadata: Some("https://api.example.com/.well-known/oauth-protected-resource/mcp".into()),
        scope: Some("read".into()),
    }
}

fn part(s: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?.as_object().cloned()
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let expected = Expected {
        method: "POST",
        htu: htu(),
        access_token: TOKEN,
        algorithms: &Alg::ALL,
        now: NOW,
        iat_window: 300.0,
    };
    match proof::check(input, &expected) {
        Ok(checked) => {
            // Only a genuinely signed proof passes: its key thumbprint is its `jwk`'s.
            let header = input.split('.').next().and_then(part);
            let jwk = header.as_ref().and_then(|h| h.get("jwk")).and_then(Value::as_object);
            assert_eq!(jwk.and_then(thumbprint::jwk_thumbprint).as_deref(), Some(checked.jkt.as_str()));
            assert!(!checked.jti.is_empty() && checked.jti.len() <= proof::MAX_JTI_LEN);
            assert!((checked.iat - NOW).abs() <= 300.0);
            let _ = store().check_and_remember(&checked.jkt, &checked.jti, checked.iat + 300.0, NOW);
            let proof = VerifiedProof { jkt: checked.jkt.clone() };
            assert!(check_binding(Some(&checked.jkt), &proof).is_ok());
            assert!(check_binding(None, &proof).is_err());
        }
        Err(err) => {
            assert_eq!(err.code, ErrorCode::InvalidDpopProof);
            let reason = err.reason().unwrap_or_default();
            assert!(!reason.is_empty() && SOURCES.iter().any(|s| s.contains(reason)), "{reason}");
            for presented in [Presented::Dpop, Presented::Nothing] {
                let dpop = DpopChallenge { algs: "ES256 EdDSA", required: false, presented, nonce: Some("n") };
                let r = Rejection::render_dpop(&err, &ctx(), true, &dpop);
                assert_eq!(r.status, 401);
                let www = r.www_authenticate.unwrap_or_default();
                assert!(www.starts_with("DPoP error=\"invalid_dpop_proof\""));
                assert!(www.bytes().all(|b| (0x20..0x7f).contains(&b)));
                assert!(serde_json::from_str::<Value>(&r.body).is_ok());
            }
        }
    }
    // The claim checks, on claims no one signed.
    let mut parts = input.split('.');
    let (header, claims) = (parts.next().and_then(part), parts.next().and_then(part));
    if let Some(claims) = claims {
        if let Err(err) = proof::check_claims(&claims, &expected) {
            assert!(SOURCES.iter().any(|s| s.contains(err.reason().unwrap_or("?"))));
        }
        if let Some(Value::String(n)) = claims.get("nonce") {
            let _ = nonces().accepts(n, NOW);
        }
        if let Ok(Some(jkt)) = bound_jkt(&claims) {
            assert!(check_binding(Some(jkt), &VerifiedProof { jkt: jkt.to_owned() }).is_ok());
        }
    }
    if let Some(jwk) = header.as_ref().and_then(|h| h.get("jwk")).and_then(Value::as_object) {
        if let Some(t) = thumbprint::jwk_thumbprint(jwk) {
            assert_eq!(t.len(), 43);
        }
    }
});
