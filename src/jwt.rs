//! Decoding a compact JWS (RFC 7515 §7.1) without trusting it.
//!
//! Decoding is strict: three parts, canonical unpadded base64url, JSON objects without duplicate
//! member names, and a protected header that names its algorithm and offers no key of its own.

use crate::error::{AuthError, ErrorCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// The protected header fields the verifier uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoseHeader {
    /// `alg`: the signature algorithm, as the token states it (not yet allowed).
    pub alg: String,
    /// `kid`: which key signed the token.
    pub kid: Option<String>,
    /// `typ`: the media type of the token, e.g. `at+jwt` (RFC 9068).
    pub typ: Option<String>,
}

/// A decoded, unverified JWT.
#[derive(Debug, Clone)]
pub struct Jwt<'a> {
    /// The protected header.
    pub header: JoseHeader,
    /// The claims set.
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) || '.' || BASE64URL(payload)`: what the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// Header parameters that carry or point at a key; keys come only from the issuer's JWKS
/// (RFC 8725 §3.10).
const KEY_BEARING_HEADERS: [&str; 4] = ["jku", "x5u", "jwk", "x5c"];

fn invalid(reason: &str) -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidToken, reason)
}

/// Decodes `token` into header, claims and signature without verifying anything but its form.
pub fn decode(token: &str) -> Result<Jwt<'_>, AuthError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(invalid("The token is not a JWT of three dot-separated parts."));
    };
    let header = parse_object(&b64(h, "header")?, "header")?;
    let claims = parse_object(&b64(p, "payload")?, "payload")?;
    let signature = b64(s, "signature")?;
    let header = parse_header(&header)?;
    let signing_input = token.get(..h.len() + 1 + p.len()).unwrap_or(token);
    Ok(Jwt { header, claims, signing_input, signature })
}

/// Decodes canonical unpadded base64url (RFC 7515 §2): no padding, no `+` or `/`, no
/// whitespace, no non-zero trailing bits.
fn b64(part: &str, what: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD.decode(part).map_err(|_| {
        AuthError::with_reason(ErrorCode::InvalidToken, format!("The token {what} is not canonical base64url."))
    })
}

fn parse_object(bytes: &[u8], what: &str) -> Result<Map<String, Value>, AuthError> {
    serde_json::from_slice::<UniqueObject>(bytes).map(|o| o.0).map_err(|_| {
        AuthError::with_reason(
            ErrorCode::InvalidToken,
            format!("The token {what} is not a JSON object with unique member names."),
        )
    })
}

fn parse_header(header: &Map<String, Value>) -> Result<JoseHeader, AuthError> {
    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.clone(),
        _ => return Err(invalid("The token header has no `alg` string.")),
    };
    let kid = optional_string(header, "kid")?;
    let typ = optional_string(header, "typ")?;
    if header.contains_key("crit") {
        // No extension is understood, so every `crit` list names one we don't (RFC 7515 §4.1.11).
        return Err(invalid("The token header lists critical extensions that are not supported."));
    }
    if header.get("b64").is_some_and(|v| v != &Value::Bool(true)) {
        return Err(invalid("Unencoded payloads (`b64`) are not supported."));
    }
    if let Some(name) = KEY_BEARING_HEADERS.iter().find(|n| header.contains_key(**n)) {
        return Err(AuthError::with_reason(
            ErrorCode::InvalidToken,
            format!("The token header offers a key (`{name}`); keys come only from the issuer's JWKS."),
        ));
    }
    Ok(JoseHeader { alg, kid, typ })
}

fn optional_string(map: &Map<String, Value>, name: &str) -> Result<Option<String>, AuthError> {
    match map.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => {
            Err(AuthError::with_reason(ErrorCode::InvalidToken, format!("The token header `{name}` is not a string.")))
        }
    }
}

/// A JSON object whose member names are unique (RFC 7515 §5.2, RFC 7519 §4).
pub struct UniqueObject(pub Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some(key) = access.next_key::<String>()? {
                    let value: Value = access.next_value()?;
                    if map.insert(key, value).is_some() {
                        return Err(de::Error::custom("duplicate member name"));
                    }
                }
                Ok(UniqueObject(map))
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str) -> String {
        format!("{}.{}.{}", enc(header), enc(payload), enc("sig"))
    }

    fn reason(token: &str) -> String {
        match decode(token) {
            Ok(_) => panic!("accepted {token}"),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::InvalidToken);
                e.reason().unwrap_or_default().to_owned()
            }
        }
    }

    #[test]
    fn decodes_header_claims_and_signing_input() {
        let t = token(r#"{"alg":"RS256","kid":"k1","typ":"at+jwt"}"#, r#"{"iss":"https://i"}"#);
        let jwt = decode(&t).expect("decodes");
        assert_eq!(jwt.header.alg, "RS256");
        assert_eq!(jwt.header.kid.as_deref(), Some("k1"));
        assert_eq!(jwt.header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(jwt.claims["iss"], "https://i");
        assert_eq!(jwt.signature, b"sig");
        assert_eq!(jwt.signing_input, &t[..t.rfind('.').unwrap_or(0)]);
    }

    #[test]
    fn wrong_number_of_parts_is_rejected() {
        assert!(reason("a.b").contains("three"));
        assert!(reason("a.b.c.d").contains("three"));
        assert!(reason("").contains("three"));
    }

    #[test]
    fn non_canonical_base64url_is_rejected() {
        let h = enc(r#"{"alg":"RS256"}"#);
        let p = enc(r#"{"iss":"x"}"#);
        for sig in ["c2lnZQ==", "c2l+", "c2l/", "c2 l", "c2lnZR"] {
            assert!(reason(&format!("{h}.{p}.{sig}")).contains("base64url"), "{sig}");
        }
        assert!(reason(&format!("{h}=.{p}.c2ln")).contains("base64url"));
    }

    #[test]
    fn duplicate_member_names_are_rejected() {
        assert!(reason(&token(r#"{"alg":"RS256","alg":"none"}"#, "{}")).contains("unique"));
        assert!(reason(&token(r#"{"alg":"RS256"}"#, r#"{"sub":"a","sub":"b"}"#)).contains("unique"));
    }

    #[test]
    fn non_object_json_is_rejected() {
        assert!(reason(&token("[]", "{}")).contains("JSON object"));
        assert!(reason(&token(r#"{"alg":"RS256"}"#, "42")).contains("JSON object"));
        assert!(reason(&token(r#"{"alg":"RS256"}"#, "{")).contains("JSON object"));
    }

    #[test]
    fn header_must_name_its_algorithm_as_a_string() {
        assert!(reason(&token("{}", "{}")).contains("alg"));
        assert!(reason(&token(r#"{"alg":1}"#, "{}")).contains("alg"));
        assert!(reason(&token(r#"{"alg":"RS256","kid":7}"#, "{}")).contains("kid"));
    }

    #[test]
    fn any_crit_list_is_rejected() {
        for crit in [r#"["exp"]"#, "[]", r#"["x","x"]"#, r#"["b64"]"#] {
            let t = token(&format!(r#"{{"alg":"RS256","crit":{crit}}}"#), "{}");
            assert!(reason(&t).contains("critical"), "{crit}");
        }
    }

    #[test]
    fn unencoded_payload_is_rejected() {
        assert!(reason(&token(r#"{"alg":"RS256","b64":false}"#, "{}")).contains("b64"));
    }

    #[test]
    fn key_bearing_headers_are_rejected() {
        for name in KEY_BEARING_HEADERS {
            let t = token(&format!(r#"{{"alg":"RS256","{name}":"x"}}"#), "{}");
            assert!(reason(&t).contains(name), "{name}");
        }
    }
}
