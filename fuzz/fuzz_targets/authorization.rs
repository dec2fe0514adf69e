//! `Authorization` header parsing (`bearer_token`, and `credentials` with the `DPoP` scheme), and
//! the challenge rendered for whatever it rejects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mcp_auth_native::authorization::{bearer_token, credentials, Credentials, MAX_TOKEN_LEN};
use mcp_auth_native::response::{ChallengeContext, Rejection};
use std::sync::OnceLock;

fn ctx() -> ChallengeContext {
    ChallengeContext {
        resource_metadata: Some("https://r.example/.well-known/oauth-protected-resource".into()),
        scope: Some("read write".into()),
    }
}

fn render(header: &str, details: bool) -> Option<(String, Option<String>)> {
    let err = bearer_token(Some(header)).err()?;
    let r = Rejection::render(&err, &ctx(), details);
    Some((r.body, r.www_authenticate))
}

/// Every answer a rejected header can get: the input only picks one of these fixed texts.
fn answers() -> &'static Vec<(String, Option<String>)> {
    static ANSWERS: OnceLock<Vec<(String, Option<String>)>> = OnceLock::new();
    ANSWERS.get_or_init(|| {
        let long = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        let refs = ["", "Basic x", "Bearer", "Bearer a b", "Bearer a\"b", long.as_str()];
        refs.iter().flat_map(|h| [render(h, false), render(h, true)]).flatten().collect()
    })
}

/// Where every refusal reason of `credentials` must come from: fixed texts, never the input.
const SOURCE: &str = include_str!("../../src/authorization.rs");

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    match credentials(Some(&header)) {
        Ok(c) => {
            let token = c.token();
            assert!(!token.is_empty() && token.len() <= MAX_TOKEN_LEN && header.ends_with(token));
            let scheme = header.get(..header.len() - token.len() - 1).unwrap_or("");
            assert_eq!(c.is_dpop(), scheme.eq_ignore_ascii_case("dpop"));
            // The Bearer scheme is read the same way by both parsers.
            assert_eq!(matches!(c, Credentials::Bearer(_)), bearer_token(Some(&header)).is_ok());
        }
        Err(err) => {
            assert!(bearer_token(Some(&header)).is_err());
            // The length reason is built from a constant, not from the input.
            let reason = err.reason().unwrap_or("");
            assert!(SOURCE.contains(reason) || reason == format!("The token is longer than {MAX_TOKEN_LEN} bytes."));
        }
    }
    match bearer_token(Some(&header)) {
        Ok(token) => {
            // An accepted token is a bounded RFC 6750 b64token taken from the header.
            assert!(!token.is_empty() && token.len() <= MAX_TOKEN_LEN);
            assert!(header.ends_with(token));
            assert!(token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')));
        }
        Err(_) => {
            for details in [false, true] {
                let answer = render(&header, details);
                let Some((body, www)) = &answer else { panic!("rejected, then accepted") };
                // Nothing of the input is reflected: the answer is one of the fixed ones, whose
                // header values are printable ASCII and whose bodies are JSON.
                assert!(answers().contains(answer.as_ref().unwrap_or(&Default::default())), "{answer:?}");
                assert!(www.as_deref().unwrap_or("").bytes().all(|b| (0x20..0x7f).contains(&b)));
                assert!(serde_json::from_str::<serde_json::Value>(body).is_ok());
            }
        }
    }
});
