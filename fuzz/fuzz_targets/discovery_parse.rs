//! Authorization server metadata parsing: the request path (`ServerMetadata::parse`) and the
//! `fetchServerConfig` path (`server_config::resolve`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth_native::audience::canonical;
use mcp_auth_native::discovery::{http_url, ServerMetadata};
use mcp_auth_native::server_config::resolve;

fuzz_target!(|data: &[u8]| {
    for expected in [None, Some("https://issuer.example")] {
        if let Ok(m) = ServerMetadata::parse(data, expected) {
            if let Some(uri) = &m.jwks_uri {
                assert!(http_url(uri).is_some());
            }
            if let Some(e) = expected {
                assert_eq!(m.issuer, e);
            }
            let _ = canonical(&m.issuer);
        }
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = resolve(&value, None);
        let _ = resolve(&value, Some("https://issuer.example"));
    }
});
