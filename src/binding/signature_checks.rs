//! The signature check alone, for the benchmark: `bench/check-cost.js` times it to subtract the
//! check's own cost from what a server adds over bare Express (issue 13's overhead figure).
//! It uses the keys (`crate::jwk`) and the verification call the guard uses, and nothing around
//! them: no decoding, claims, scopes or crossings in the timed part. Not part of the package's API
//! (`index.js` does not export it).

use crate::algorithm::Alg;
use crate::jwk::{KeySet, PublicKey, Selection};
use crate::jwt;
use napi_derive::napi;
use std::sync::Arc;

struct Check {
    key: Arc<PublicKey>,
    alg: Alg,
    signing_input: String,
    signature: Vec<u8>,
}

/// Tokens decoded and paired with their keys once, so that `run()` does only the checks.
#[napi]
pub struct SignatureChecks {
    checks: Vec<Check>,
}

#[napi]
impl SignatureChecks {
    /// Parses `jwks` (a JWK Set document) and decodes each token, picking its key as the guard
    /// does. Throws when a token is not a JWT or has no usable key.
    #[napi(constructor)]
    pub fn new(jwks: String, tokens: Vec<String>) -> napi::Result<Self> {
        let set = KeySet::parse(jwks.as_bytes()).map_err(napi::Error::from_reason)?;
        let mut checks = Vec::with_capacity(tokens.len());
        for token in &tokens {
            let decoded = jwt::decode(token).map_err(|e| napi::Error::from_reason(e.to_string()))?;
            let alg = Alg::parse(&decoded.header.alg)
                .ok_or_else(|| napi::Error::from_reason("a token's algorithm is not supported"))?;
            let Selection::Found(key) = set.select(decoded.header.kid.as_deref(), alg) else {
                return Err(napi::Error::from_reason("no key of the set fits a token"));
            };
            checks.push(Check {
                key: Arc::clone(key),
                alg,
                signing_input: decoded.signing_input.to_owned(),
                signature: decoded.signature,
            });
        }
        Ok(SignatureChecks { checks })
    }

    /// Verifies every token's signature once; returns how many were checked. Throws when one
    /// fails, so a broken bench cannot report a cheap check.
    #[napi]
    pub fn run(&self) -> napi::Result<u32> {
        for c in &self.checks {
            if !c.key.verify(c.alg, c.signing_input.as_bytes(), &c.signature) {
                return Err(napi::Error::from_reason("a bench token failed its signature check"));
            }
        }
        Ok(u32::try_from(self.checks.len()).unwrap_or(u32::MAX))
    }
}
