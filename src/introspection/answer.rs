//! Judging an introspection answer (RFC 7662 §2.2) and turning an active one into `AuthInfo`.

use super::call::RETRY_AFTER;
use crate::auth_info::AuthInfo;
use crate::claims::ClaimRules;
use crate::discovery::parse_object;
use crate::error::{AuthError, ErrorCode};
use serde_json::{Map, Value};

/// `token_type` values of access tokens (RFC 6750, RFC 9449, RFC 8693 §3), compared
/// case-insensitively as RFC 6749 §7.1 says.
pub const ACCESS_TOKEN_TYPES: &[&str] = &["Bearer", "DPoP", "access_token"];

fn refused(reason: &str) -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidToken, reason)
}

/// The answer's members. Not a JSON object (duplicate member names included) is a broken
/// endpoint: 503.
pub fn parse(body: &[u8]) -> Result<Map<String, Value>, AuthError> {
    parse_object(body).ok_or_else(|| {
        AuthError::unavailable("The introspection endpoint did not answer with a JSON object.", RETRY_AFTER)
    })
}

/// `active` is the JSON `true`; anything else (`false`, `"true"`, absent) is 401 `invalid_token`.
pub fn check_active(members: &Map<String, Value>) -> Result<(), AuthError> {
    match members.get("active") {
        Some(Value::Bool(true)) => Ok(()),
        Some(Value::Bool(false)) => Err(refused("The token is not active.")),
        _ => Err(refused("The introspection answer has no boolean `active` member.")),
    }
}

/// `iss`, when present, equals the introspecting `issuer`; else 401 `invalid_issuer`.
pub fn check_issuer(members: &Map<String, Value>, issuer: &str) -> Result<(), AuthError> {
    match members.get("iss") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == issuer => Ok(()),
        Some(other) => {
            Err(AuthError::mismatch(ErrorCode::InvalidIssuer, Value::String(issuer.to_owned()), other.clone()))
        }
    }
}

/// `token_type`, when present, is one of [`ACCESS_TOKEN_TYPES`].
pub fn check_token_type(members: &Map<String, Value>) -> Result<(), AuthError> {
    match members.get("token_type") {
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(t)) if ACCESS_TOKEN_TYPES.iter().any(|a| a.eq_ignore_ascii_case(t)) => Ok(()),
        Some(_) => Err(refused("The introspected token is not an access token (`token_type`).")),
    }
}

/// The identity an active answer describes, with an empty `token`: `issuer` as its issuer,
/// `scope` → `scopes`, `client_id`, `sub`, `aud`, `exp`, every member as `claims` (none made
/// up), typed as in a JWT (401 `invalid_token` otherwise).
pub fn auth_info(members: Map<String, Value>, issuer: &str) -> Result<AuthInfo, AuthError> {
    let mut with_issuer = members.clone();
    with_issuer.insert("iss".into(), Value::String(issuer.to_owned()));
    let mut info = AuthInfo::from_claims("", with_issuer)?;
    let mut claims = members;
    claims.values_mut().for_each(crate::auth_info::as_doubles);
    info.claims = Some(claims);
    Ok(info)
}

/// Checks an answer of `issuer`'s endpoint at `now` (seconds since the epoch) and builds the
/// identity it describes, with an empty `token` (the caller puts the request's token in):
/// [`parse`], [`check_active`], `exp`/`nbf`/`iat` as in a JWT (numbers only, `rules`' clock
/// tolerance, none required), [`check_issuer`], [`check_token_type`], then [`auth_info`].
pub fn judge(body: &[u8], issuer: &str, rules: &ClaimRules, now: f64) -> Result<AuthInfo, AuthError> {
    let members = parse(body)?;
    check_active(&members)?;
    rules.check(&members, now)?;
    check_issuer(&members, issuer)?;
    check_token_type(&members)?;
    auth_info(members, issuer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth_info::Audience;
    use serde_json::json;

    const ISSUER: &str = "https://as.example.com";
    const NOW: f64 = 1_700_000_000.0;

    fn rules() -> ClaimRules {
        ClaimRules { required: Vec::new(), ..ClaimRules::default() }
    }

    fn judged(v: Value) -> Result<AuthInfo, AuthError> {
        judge(v.to_string().as_bytes(), ISSUER, &rules(), NOW)
    }

    fn code(v: Value) -> Option<ErrorCode> {
        judged(v).err().map(|e| e.code)
    }

    #[test]
    fn an_active_answer_becomes_the_identity_with_every_member_as_claims() {
        let answer = json!({
            "active": true, "iss": ISSUER, "client_id": "mcp-client", "sub": "u1", "aud": ["https://r", "x"],
            "scope": "read  write", "exp": NOW + 300.0, "iat": NOW - 10.0, "nbf": NOW - 10.0,
            "token_type": "Bearer", "username": "ann"
        });
        let info = judged(answer.clone()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.token, "");
        assert_eq!(info.issuer, ISSUER);
        assert_eq!(info.client_id, "mcp-client");
        assert_eq!(info.subject.as_deref(), Some("u1"));
        assert_eq!(info.audience, Some(Audience::Many(vec!["https://r".into(), "x".into()])));
        assert_eq!(info.scopes, ["read", "write"]);
        assert_eq!(info.expires_at, Some(NOW + 300.0));
        assert_eq!(info.claims.map(Value::Object), Some(answer));
    }

    #[test]
    fn a_minimal_client_credentials_answer_needs_neither_exp_nor_sub_nor_iss() {
        let info = judged(json!({ "active": true, "client_id": "c" })).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((info.issuer.as_str(), info.subject, info.expires_at), (ISSUER, None, None));
        assert!(info.scopes.is_empty());
        assert_eq!(info.claims.map(|c| c.contains_key("iss")), Some(false), "no member is made up");
    }

    #[test]
    fn active_must_be_the_json_boolean_true() {
        for bad in [json!({ "active": false }), json!({ "active": "true" }), json!({ "active": 1 }), json!({})] {
            assert_eq!(code(bad.clone()), Some(ErrorCode::InvalidToken), "{bad}");
        }
        let e = judged(json!({ "active": "true" })).err();
        assert_eq!(
            e.and_then(|e| e.reason().map(str::to_owned)).as_deref(),
            Some("The introspection answer has no boolean `active` member.")
        );
    }

    #[test]
    fn time_members_are_checked_like_a_jwts_with_the_tolerance() {
        assert_eq!(code(json!({ "active": true, "exp": NOW - 61.0 })), Some(ErrorCode::InvalidToken));
        assert!(judged(json!({ "active": true, "exp": NOW - 30.0 })).is_ok(), "within the 60 s tolerance");
        assert_eq!(code(json!({ "active": true, "nbf": NOW + 120.0 })), Some(ErrorCode::InvalidToken));
        assert_eq!(code(json!({ "active": true, "iat": NOW + 120.0 })), Some(ErrorCode::InvalidToken));
        for name in ["exp", "nbf", "iat"] {
            let bad = json!({ "active": true, name: (NOW + 300.0).to_string() });
            assert_eq!(code(bad), Some(ErrorCode::InvalidToken), "{name} as a string");
        }
    }

    #[test]
    fn a_foreign_issuer_is_refused() {
        let e = judged(json!({ "active": true, "iss": "https://evil.example.com" })).err();
        assert_eq!(e.as_ref().map(|e| e.code), Some(ErrorCode::InvalidIssuer));
        assert_eq!(e.and_then(|e| e.cause), Some(json!({ "expected": ISSUER, "actual": "https://evil.example.com" })));
        assert_eq!(code(json!({ "active": true, "iss": [ISSUER] })), Some(ErrorCode::InvalidIssuer));
    }

    #[test]
    fn only_access_token_types_pass() {
        for ok in ["Bearer", "bearer", "DPoP", "access_token"] {
            assert!(judged(json!({ "active": true, "token_type": ok })).is_ok(), "{ok}");
        }
        for bad in [json!("refresh_token"), json!("id_token"), json!(["Bearer"])] {
            assert_eq!(code(json!({ "active": true, "token_type": bad })), Some(ErrorCode::InvalidToken), "{bad}");
        }
    }

    #[test]
    fn wrongly_typed_members_are_invalid_token() {
        for bad in [
            json!({ "active": true, "scope": 5 }),
            json!({ "active": true, "sub": 5 }),
            json!({ "active": true, "aud": [1] }),
        ] {
            assert_eq!(code(bad.clone()), Some(ErrorCode::InvalidToken), "{bad}");
        }
    }

    #[test]
    fn garbage_is_temporarily_unavailable() {
        for body in [&b"<html>oops</html>"[..], b"[true]", b"\"active\"", b"", br#"{"active":true,"active":false}"#] {
            let e = judge(body, ISSUER, &rules(), NOW).err();
            assert_eq!(
                e.map(|e| (e.code, e.retry_after)),
                Some((ErrorCode::TemporarilyUnavailable, Some(RETRY_AFTER)))
            );
        }
    }
}
