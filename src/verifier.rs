//! Custom verification: judging what a user's verifier function produced for a token.
//!
//! The JS glue calls the function and reports a [`Verdict`]; this module turns it into an
//! identity, an error with its code, or the instruction to hand the error to the application.

use crate::auth_info::{Audience, AuthInfo};
use crate::error::{AuthError, ErrorClass, ErrorCode};
use serde_json::{Map, Value};

/// What a custom verifier did with a token, as the JS glue reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It returned (or resolved with) a value, serialized as JSON text.
    Returned(String),
    /// It returned something JSON cannot carry; why.
    Unrepresentable(String),
    /// It threw (or rejected with) an mcp-auth error of a JS class, with its `code`. For
    /// `MCPAuthAuthServerError` and `MCPAuthConfigError` the cause is the error's `toJson()`.
    Threw {
        /// The JS class name, e.g. `MCPAuthJwtVerificationError`.
        class: String,
        /// The error's `code`.
        code: String,
        /// The error's `cause`, as JSON, when it has one.
        cause: Option<Value>,
        /// `cause.missingScopes`, for `missing_required_scopes`.
        missing_scopes: Vec<String>,
    },
    /// It threw anything else; the application's error handler gets that error.
    Failed,
}

/// How a request in custom mode ends, before issuer, audience and scope checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// The verifier vouched for this identity.
    Identity(AuthInfo),
    /// The request is refused with this error.
    Refused(AuthError),
    /// The verifier's own error goes to the application (`next(err)`).
    Forward,
}

/// Judges a verdict: a returned value must be a valid `AuthInfo`, a thrown mcp-auth error keeps
/// its code, and anything else is forwarded.
pub fn judge(verdict: Verdict) -> Judgement {
    match verdict {
        Verdict::Returned(json) => match serde_json::from_str::<Value>(&json) {
            Ok(value) => match auth_info(value) {
                Ok(info) => Judgement::Identity(info),
                Err(reason) => Judgement::Refused(AuthError::with_reason(ErrorCode::InvalidAuthInfo, reason)),
            },
            Err(_) => Judgement::Refused(AuthError::with_reason(ErrorCode::InvalidAuthInfo, "It is not JSON data.")),
        },
        Verdict::Unrepresentable(why) => Judgement::Refused(AuthError::with_reason(ErrorCode::InvalidAuthInfo, why)),
        Verdict::Threw { class, code, cause, missing_scopes } => match ErrorClass::from_js_name(&class) {
            // As `mcp-auth` answers them: 500 `server_error`, the error's `toJson()` as the cause.
            Some(ErrorClass::AuthServer | ErrorClass::Config) => {
                Judgement::Refused(AuthError { cause, ..AuthError::new(ErrorCode::ServerError) })
            }
            _ => match thrown_code(&class, &code) {
                Some(code) => Judgement::Refused(AuthError { cause, missing_scopes, ..AuthError::new(code) }),
                None => Judgement::Forward,
            },
        },
        Verdict::Failed => Judgement::Forward,
    }
}

/// The table code for an error a verifier threw. An unknown code keeps its class's general code;
/// a class that is not about the token is not ours to answer.
fn thrown_code(class: &str, code: &str) -> Option<ErrorCode> {
    let class = ErrorClass::from_js_name(class)?;
    let (first, second, fallback) = match class {
        ErrorClass::JwtVerification => {
            (ErrorClass::JwtVerification, ErrorClass::TokenVerification, ErrorCode::JwtVerificationFailed)
        }
        ErrorClass::TokenVerification => {
            (ErrorClass::TokenVerification, ErrorClass::JwtVerification, ErrorCode::TokenVerificationFailed)
        }
        ErrorClass::BearerAuth => (ErrorClass::BearerAuth, ErrorClass::BearerAuth, ErrorCode::BearerInvalidToken),
        ErrorClass::AuthServer | ErrorClass::Config | ErrorClass::Service => return None,
    };
    Some(ErrorCode::find(first, code).or_else(|| ErrorCode::find(second, code)).unwrap_or(fallback))
}

fn field<'a>(m: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    m.get(name).filter(|v| !v.is_null())
}

fn required_string(m: &Map<String, Value>, name: &str) -> Result<String, String> {
    match field(m, name) {
        Some(Value::String(s)) => Ok(s.clone()),
        None => Err(format!("`{name}` is missing.")),
        Some(_) => Err(format!("`{name}` must be a string.")),
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|s| s.as_str().map(str::to_owned)).collect()
}

/// Checks a verifier's result against the `AuthInfo` shape: `token`, `issuer`, `clientId` and
/// `scopes` are required; `subject`, `audience`, `expiresAt` and `claims` are typed when present;
/// other fields (`resource`, `extra`, ...) are the application's. The error names the field.
pub fn auth_info(value: Value) -> Result<AuthInfo, String> {
    let Value::Object(m) = value else {
        return Err("It is not an object.".into());
    };
    let token = required_string(&m, "token")?;
    let issuer = required_string(&m, "issuer")?;
    if issuer.is_empty() {
        return Err("`issuer` must not be empty.".into());
    }
    let client_id = required_string(&m, "clientId")?;
    let scopes = match field(&m, "scopes") {
        None => return Err("`scopes` is missing.".into()),
        Some(v) => strings(v).ok_or("`scopes` must be an array of strings.")?,
    };
    let subject = match field(&m, "subject") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`subject` must be a string.".into()),
    };
    let audience = match field(&m, "audience") {
        None => None,
        Some(Value::String(s)) => Some(Audience::One(s.clone())),
        Some(v) => Some(Audience::Many(strings(v).ok_or("`audience` must be a string or an array of strings.")?)),
    };
    let expires_at = match field(&m, "expiresAt") {
        None => None,
        Some(Value::Number(n)) => n.as_f64(),
        Some(_) => return Err("`expiresAt` must be a number (seconds since the epoch).".into()),
    };
    let claims = match field(&m, "claims") {
        None => None,
        Some(Value::Object(c)) => Some(c.clone()),
        Some(_) => return Err("`claims` must be an object.".into()),
    };
    Ok(AuthInfo { token, issuer, client_id, scopes, subject, audience, expires_at, claims })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn valid() -> Value {
        json!({ "token": "t", "issuer": "https://i", "clientId": "c", "scopes": ["read"], "subject": "u1" })
    }

    fn with(key: &str, v: Value) -> Value {
        let mut o = valid();
        o[key] = v;
        o
    }

    fn without(key: &str) -> Value {
        let mut o = valid();
        if let Some(m) = o.as_object_mut() {
            m.remove(key);
        }
        o
    }

    fn refusal(v: Verdict) -> (ErrorCode, Option<Value>) {
        match judge(v) {
            Judgement::Refused(e) => (e.code, e.cause),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_valid_result_becomes_the_identity() {
        let v = json!({
            "token": "t", "issuer": "https://i", "clientId": "c", "scopes": ["read"], "subject": "u1",
            "audience": ["a", "b"], "expiresAt": 1.7e9, "claims": { "x": 1 },
            "extra": { "y": 2 }, "resource": "https://r"
        });
        let info = auth_info(v).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((info.token.as_str(), info.issuer.as_str(), info.client_id.as_str()), ("t", "https://i", "c"));
        assert_eq!(info.scopes, ["read"]);
        assert_eq!(info.subject.as_deref(), Some("u1"));
        assert_eq!(info.audience, Some(Audience::Many(vec!["a".into(), "b".into()])));
        assert_eq!(info.expires_at, Some(1.7e9));
        assert_eq!(info.claims.map(|c| c.len()), Some(1));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (json!("a string"), "It is not an object."),
            (json!(null), "It is not an object."),
            (without("issuer"), "`issuer` is missing."),
            (with("issuer", json!(["https://i"])), "`issuer` must be a string."),
            (with("issuer", json!("")), "`issuer` must not be empty."),
            (without("token"), "`token` is missing."),
            (without("clientId"), "`clientId` is missing."),
            (with("clientId", json!(7)), "`clientId` must be a string."),
            (without("scopes"), "`scopes` is missing."),
            (with("scopes", json!("read write")), "`scopes` must be an array of strings."),
            (with("scopes", json!(["read", 1])), "`scopes` must be an array of strings."),
            (with("subject", json!(42)), "`subject` must be a string."),
            (with("audience", json!({ "a": 1 })), "`audience` must be a string or an array of strings."),
            (with("expiresAt", json!("2030-01-01")), "`expiresAt` must be a number (seconds since the epoch)."),
            (with("claims", json!([1])), "`claims` must be an object."),
        ];
        for (value, message) in cases {
            assert_eq!(auth_info(value.clone()).err().as_deref(), Some(message), "{value}");
            let (code, cause) = refusal(Verdict::Returned(value.to_string()));
            assert_eq!((code, cause), (ErrorCode::InvalidAuthInfo, Some(json!(message))));
        }
    }

    #[test]
    fn null_optional_fields_count_as_absent() {
        let info = auth_info(with("subject", json!(null))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.subject, None);
    }

    #[test]
    fn thrown_errors_keep_their_code() {
        let threw = |class: &str, code: &str| Verdict::Threw {
            class: class.into(),
            code: code.into(),
            cause: Some(json!({ "why": "x" })),
            missing_scopes: vec![],
        };
        let cases = [
            ("MCPAuthJwtVerificationError", "jwt_verification_failed", ErrorCode::JwtVerificationFailed),
            ("MCPAuthJwtVerificationError", "invalid_jwt", ErrorCode::InvalidJwt),
            ("MCPAuthJwtVerificationError", "invalid_token", ErrorCode::InvalidToken),
            ("MCPAuthJwtVerificationError", "made_up", ErrorCode::JwtVerificationFailed),
            ("MCPAuthTokenVerificationError", "invalid_token", ErrorCode::InvalidToken),
            ("MCPAuthTokenVerificationError", "token_verification_failed", ErrorCode::TokenVerificationFailed),
            ("MCPAuthTokenVerificationError", "made_up", ErrorCode::TokenVerificationFailed),
            ("MCPAuthBearerAuthError", "missing_required_scopes", ErrorCode::MissingRequiredScopes),
            ("MCPAuthBearerAuthError", "invalid_audience", ErrorCode::InvalidAudience),
            ("MCPAuthBearerAuthError", "made_up", ErrorCode::BearerInvalidToken),
        ];
        for (class, code, expected) in cases {
            assert_eq!(refusal(threw(class, code)), (expected, Some(json!({ "why": "x" }))), "{class} {code}");
        }
    }

    #[test]
    fn missing_scopes_travel_with_the_error() {
        let v = Verdict::Threw {
            class: "MCPAuthBearerAuthError".into(),
            code: "missing_required_scopes".into(),
            cause: None,
            missing_scopes: vec!["write".into()],
        };
        match judge(v) {
            Judgement::Refused(e) => assert_eq!(e.missing_scopes, ["write"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_errors_are_forwarded() {
        assert_eq!(judge(Verdict::Failed), Judgement::Forward);
        for class in ["MCPAuthError", "TypeError"] {
            let v = Verdict::Threw { class: class.into(), code: "x".into(), cause: None, missing_scopes: vec![] };
            assert_eq!(judge(v), Judgement::Forward, "{class}");
        }
    }

    #[test]
    fn auth_server_and_config_errors_are_server_errors_with_their_json_as_cause() {
        for class in ["MCPAuthAuthServerError", "MCPAuthConfigError"] {
            let cause = Some(serde_json::json!({ "error": "x", "error_description": "y" }));
            let v =
                Verdict::Threw { class: class.into(), code: "x".into(), cause: cause.clone(), missing_scopes: vec![] };
            assert_eq!(judge(v), Judgement::Refused(AuthError { cause, ..AuthError::new(ErrorCode::ServerError) }));
        }
    }

    #[test]
    fn unrepresentable_results_are_named() {
        let (code, cause) = refusal(Verdict::Unrepresentable("It returned undefined.".into()));
        assert_eq!((code, cause), (ErrorCode::InvalidAuthInfo, Some(json!("It returned undefined."))));
        assert_eq!(refusal(Verdict::Returned("{".into())).0, ErrorCode::InvalidAuthInfo);
    }
}
