//! JWKS parsing, and key selection in whatever set parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth_native::algorithm::Alg;
use mcp_auth_native::jwk::{KeySet, Selection};

fuzz_target!(|data: &[u8]| {
    let Ok(set) = KeySet::parse(data) else { return };
    let kids: Vec<Option<String>> = set.keys.iter().map(|k| k.kid.clone()).chain([None]).collect();
    for alg in Alg::ALL {
        for kid in &kids {
            if let Selection::Found(key) = set.select(kid.as_deref(), alg) {
                assert!(key.allows(alg));
                assert!(!key.verify(alg, b"e30.e30", &[0u8; 64]));
            }
        }
    }
});
