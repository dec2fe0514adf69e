//! The verified identity handed to the application as `req.auth`.

use crate::error::{AuthError, ErrorCode};
use serde_json::{Map, Value};

/// The `aud` of a token: one string or several.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// `"aud": "x"`.
    One(String),
    /// `"aud": ["x", "y"]`.
    Many(Vec<String>),
}

impl Audience {
    /// Each audience value.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        let slice = match self {
            Audience::One(s) => std::slice::from_ref(s),
            Audience::Many(v) => v.as_slice(),
        };
        slice.iter().map(String::as_str)
    }

    /// As JSON, the way the token had it.
    pub fn to_json(&self) -> Value {
        match self {
            Audience::One(s) => Value::String(s.clone()),
            Audience::Many(v) => Value::Array(v.iter().cloned().map(Value::String).collect()),
        }
    }
}

/// Who the token speaks for and what it grants; compatible with the MCP SDK's `AuthInfo`.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthInfo {
    /// The raw access token.
    pub token: String,
    /// `iss`.
    pub issuer: String,
    /// `client_id`, else `azp`, else empty.
    pub client_id: String,
    /// Granted scopes, from `scope`, else `scp`, else `scopes`.
    pub scopes: Vec<String>,
    /// `sub`.
    pub subject: Option<String>,
    /// `aud`.
    pub audience: Option<Audience>,
    /// `exp`, in seconds since the epoch.
    pub expires_at: Option<f64>,
    /// Every claim of the token.
    pub claims: Option<Map<String, Value>>,
}

fn malformed(claim: &str, wanted: &str) -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidToken, format!("The `{claim}` claim is not {wanted}."))
}

impl AuthInfo {
    /// Builds the identity from a verified claims set; claims of the wrong type are rejected.
    pub fn from_claims(token: &str, mut claims: Map<String, Value>) -> Result<Self, AuthError> {
        claims.values_mut().for_each(as_doubles);
        let issuer = match claims.get("iss") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            None => return Err(AuthError::with_reason(ErrorCode::InvalidToken, "The token has no `iss` claim.")),
            Some(_) => return Err(malformed("iss", "a non-empty string")),
        };
        let subject = match claims.get("sub") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(malformed("sub", "a string")),
        };
        let audience = match claims.get("aud") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Audience::One(s.clone())),
            Some(Value::Array(items)) => Some(Audience::Many(
                string_list(items).ok_or_else(|| malformed("aud", "a string or an array of strings"))?,
            )),
            Some(_) => return Err(malformed("aud", "a string or an array of strings")),
        };
        let expires_at = match claims.get("exp") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_f64(),
            Some(_) => return Err(malformed("exp", "a number")),
        };
        let client_id = ["client_id", "azp"]
            .iter()
            .find_map(|name| claims.get(*name).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let scopes = scopes_from(&claims)?;
        Ok(AuthInfo {
            token: token.to_owned(),
            issuer,
            client_id,
            scopes,
            subject,
            audience,
            expires_at,
            claims: Some(claims),
        })
    }
}

/// Granted scopes: the first of `scope`, `scp`, `scopes` that is present, as a space-separated
/// string (RFC 8693 §4.2) or an array of strings.
pub fn scopes_from(claims: &Map<String, Value>) -> Result<Vec<String>, AuthError> {
    for name in ["scope", "scp", "scopes"] {
        match claims.get(name) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => return Ok(s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect()),
            Some(Value::Array(items)) => {
                return string_list(items).ok_or_else(|| malformed(name, "a string or an array of strings"))
            }
            Some(_) => return Err(malformed(name, "a string or an array of strings")),
        }
    }
    Ok(Vec::new())
}

/// The largest integer a JS number holds exactly: `Number.MAX_SAFE_INTEGER`, 2^53 - 1.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

/// Turns integers beyond ±(2^53 - 1) into doubles, as `JSON.parse` reads them (RFC 7493 §2.2),
/// everywhere in `value`. Left as integers they would reach JS as `BigInt`, which
/// `JSON.stringify(req.auth)` cannot serialize: a signed token with `"n": 9007199254740993`
/// would make every app that logs or echoes its `AuthInfo` fail.
pub fn as_doubles(value: &mut Value) {
    match value {
        Value::Number(n)
            if n.as_u64().is_some_and(|v| v > MAX_SAFE_INTEGER)
                || n.as_i64().is_some_and(|v| v.unsigned_abs() > MAX_SAFE_INTEGER) =>
        {
            if let Some(d) = n.as_f64().and_then(serde_json::Number::from_f64) {
                *n = d;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(as_doubles),
        Value::Object(members) => members.values_mut().for_each(as_doubles),
        _ => {}
    }
}

fn string_list(items: &[Value]) -> Option<Vec<String>> {
    items.iter().map(|v| v.as_str().map(str::to_owned)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn maps_standard_claims() {
        let c = claims(json!({
            "iss": "https://i", "sub": "u1", "aud": ["a", "b"], "exp": 1700000000,
            "client_id": "c1", "azp": "other", "scope": "read  write"
        }));
        let info = AuthInfo::from_claims("t", c.clone()).expect("valid");
        assert_eq!(info.issuer, "https://i");
        assert_eq!(info.subject.as_deref(), Some("u1"));
        assert_eq!(info.audience, Some(Audience::Many(vec!["a".into(), "b".into()])));
        assert_eq!(info.expires_at, Some(1_700_000_000.0));
        assert_eq!(info.client_id, "c1");
        assert_eq!(info.scopes, vec!["read", "write"]);
        assert_eq!(info.token, "t");
        assert_eq!(info.claims, Some(c));
    }

    #[test]
    fn client_id_falls_back_to_azp_then_empty() {
        let info = AuthInfo::from_claims("t", claims(json!({"iss": "i", "azp": "z"}))).expect("ok");
        assert_eq!(info.client_id, "z");
        let info = AuthInfo::from_claims("t", claims(json!({"iss": "i"}))).expect("ok");
        assert_eq!(info.client_id, "");
    }

    #[test]
    fn scopes_come_from_scope_then_scp_then_scopes() {
        let s = |v| scopes_from(&claims(v)).expect("ok");
        assert_eq!(s(json!({"scp": ["a", "b"], "scopes": "c"})), vec!["a", "b"]);
        assert_eq!(s(json!({"scopes": "c d"})), vec!["c", "d"]);
        assert_eq!(s(json!({"scope": "x", "scp": "y"})), vec!["x"]);
        assert!(s(json!({})).is_empty());
    }

    #[test]
    fn integers_beyond_2_pow_53_become_doubles_as_in_json_parse() {
        // Regression (issue 6): such claims reached JS as BigInt and `res.json(req.auth)` threw.
        let text = r#"{"iss":"i","exp":9007199254740993,"n":[18446744073709551615,{"m":-9223372036854775808}],
            "safe":9007199254740991,"neg":-9007199254740991,"f":1.5}"#;
        let c: Map<String, Value> = serde_json::from_str(text).unwrap_or_default();
        let info = AuthInfo::from_claims("t", c).expect("valid");
        let claims = info.claims.unwrap_or_default();
        assert!(claims["exp"].is_f64() && claims["exp"].as_f64() == Some(9_007_199_254_740_992.0));
        assert!(claims["n"][0].is_f64() && claims["n"][0].as_f64() == Some(18_446_744_073_709_551_615.0));
        assert!(claims["n"][1]["m"].is_f64());
        assert_eq!(claims["safe"].as_u64(), Some(9_007_199_254_740_991));
        assert_eq!(claims["neg"].as_i64(), Some(-9_007_199_254_740_991));
        assert_eq!(claims["f"].as_f64(), Some(1.5));
        assert_eq!(info.expires_at, Some(9_007_199_254_740_992.0));
    }

    #[test]
    fn wrongly_typed_claims_are_invalid_token() {
        for bad in [
            json!({"iss": ["https://i"]}),
            json!({"iss": ""}),
            json!({}),
            json!({"iss": "i", "aud": {"x": 1}}),
            json!({"iss": "i", "aud": [1]}),
            json!({"iss": "i", "sub": 5}),
            json!({"iss": "i", "exp": "1700000000"}),
            json!({"iss": "i", "scope": 42}),
            json!({"iss": "i", "scp": ["a", 1]}),
        ] {
            let e = AuthInfo::from_claims("t", claims(bad.clone())).expect_err("rejected");
            assert_eq!(e.code, ErrorCode::InvalidToken, "{bad}");
        }
    }
}
