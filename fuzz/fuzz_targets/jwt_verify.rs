//! JWT decoding and full verification against a fixed JWKS: decode, algorithm allow-list, key
//! selection, signature, claim rules and the `AuthInfo` built from the claims.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth_native::algorithm::Alg;
use mcp_auth_native::auth_info::AuthInfo;
use mcp_auth_native::claims::ClaimRules;
use mcp_auth_native::jwk::{KeySet, Selection};
use mcp_auth_native::{jwt, verifier};
use std::sync::OnceLock;

const NOW: f64 = 1_700_000_000.0;

fn keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| KeySet::parse(include_bytes!("../../fixtures/keys/jwks.json")).unwrap_or_default())
}

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let Ok(jwt) = jwt::decode(token) else { return };
    assert!(token.starts_with(jwt.signing_input));
    let Some(alg) = Alg::parse(&jwt.header.alg) else { return };
    let key = match keys().select(jwt.header.kid.as_deref(), alg) {
        Selection::Found(key) => key,
        Selection::Unknown | Selection::Unusable(_) => return,
    };
    assert!(key.allows(alg));
    let _ = key.verify(alg, jwt.signing_input.as_bytes(), &jwt.signature);
    // Claim checks run on forged claims too (the fuzzer cannot sign), to reach them at all.
    let rules = ClaimRules { max_token_age: Some(300.0), ..ClaimRules::default() };
    let _ = rules.check(&jwt.claims, NOW);
    let _ = rules.valid_until(&jwt.claims);
    if let Ok(info) = AuthInfo::from_claims(token, jwt.claims.clone()) {
        assert!(!info.issuer.is_empty());
    }
    // The custom-verifier result validation sees the same shapes from JS.
    let _ = verifier::auth_info(serde_json::Value::Object(jwt.claims));
});
