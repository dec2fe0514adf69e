//! `Authorization` header parsing, and the challenge rendered for whatever it rejects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth_native::authorization::{bearer_token, MAX_TOKEN_LEN};
use mcp_auth_native::response::{ChallengeContext, Rejection};

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    let ctx = ChallengeContext {
        resource_metadata: Some("https://r.example/.well-known/oauth-protected-resource".into()),
        scope: Some("read write".into()),
    };
    match bearer_token(Some(&header)) {
        Ok(token) => {
            // An accepted token is a bounded RFC 6750 b64token taken from the header.
            assert!(!token.is_empty() && token.len() <= MAX_TOKEN_LEN);
            assert!(header.ends_with(token));
            assert!(token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')));
        }
        Err(err) => {
            for details in [false, true] {
                let r = Rejection::render(&err, &ctx, details);
                if let Some(h) = &r.www_authenticate {
                    // Header values are printable ASCII and never echo the input.
                    assert!(h.bytes().all(|b| (0x20..0x7f).contains(&b)), "{h:?}");
                    assert!(header.len() < 8 || !h.contains(header.as_ref()));
                }
                assert!(header.len() < 8 || !r.body.contains(header.as_ref()));
                assert!(serde_json::from_str::<serde_json::Value>(&r.body).is_ok());
            }
        }
    }
});
