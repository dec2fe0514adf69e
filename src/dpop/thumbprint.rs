//! JWK thumbprints (RFC 7638): the `jkt` a DPoP-bound token names in `cnf.jkt` (RFC 9449 §6.1).

use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

/// The required members of each key type, in lexicographic order (RFC 7638 §3.2, RFC 8037 §2).
fn required_members(kty: &str) -> Option<&'static [&'static str]> {
    Some(match kty {
        "RSA" => &["e", "kty", "n"],
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    })
}

/// The RFC 7638 SHA-256 thumbprint of `jwk`, base64url without padding.
///
/// Only the required members of its `kty` count, as strings, in lexicographic order with no
/// whitespace. `None` for another key type or when a required member is missing or not a string.
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let kty = jwk.get("kty")?.as_str()?;
    let mut canonical = String::from("{");
    for (i, name) in required_members(kty)?.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            canonical.push(',');
        }
        canonical.push('"');
        canonical.push_str(name);
        canonical.push_str("\":");
        // A JSON string, escaped as RFC 8259 wants (base64url and curve names need none).
        canonical.push_str(&Value::String(value.to_owned()).to_string());
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    /// RFC 7638 §3.1: the RSA key and its thumbprint.
    #[test]
    fn the_rfc_7638_example_key_has_the_published_thumbprint() {
        let jwk = object(json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }));
        assert_eq!(jwk_thumbprint(&jwk).as_deref(), Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"));
    }

    /// RFC 8037 Appendix A.3: the Ed25519 key and its thumbprint.
    #[test]
    fn the_rfc_8037_ed25519_key_has_the_published_thumbprint() {
        let jwk = object(json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}));
        assert_eq!(jwk_thumbprint(&jwk).as_deref(), Some("kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"));
    }

    #[test]
    fn ec_thumbprints_use_crv_kty_x_y_only_and_ignore_order_and_extras() {
        let a = object(json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "BBBB", "kid": "1", "use": "sig"}));
        let b = object(json!({"y": "BBBB", "x": "AAAA", "crv": "P-256", "kty": "EC"}));
        let canonical = r#"{"crv":"P-256","kty":"EC","x":"AAAA","y":"BBBB"}"#;
        let expected = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()));
        assert_eq!(jwk_thumbprint(&a), Some(expected.clone()));
        assert_eq!(jwk_thumbprint(&b), Some(expected));
    }

    #[test]
    fn different_keys_have_different_thumbprints() {
        let a = object(json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}));
        let b = object(json!({"kty": "OKP", "crv": "Ed25519", "x": "AAAB"}));
        assert_ne!(jwk_thumbprint(&a), jwk_thumbprint(&b));
    }

    #[test]
    fn unknown_types_and_missing_or_non_string_members_have_none() {
        for jwk in [
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            json!({"kty": "RSA", "n": "AQAB"}),
            json!({"kty": "EC", "crv": "P-256", "x": "AAAA", "y": 7}),
            json!({"crv": "Ed25519", "x": "AAAA"}),
            json!({"kty": ["RSA"], "n": "a", "e": "b"}),
        ] {
            assert_eq!(jwk_thumbprint(&object(jwk.clone())), None, "{jwk}");
        }
    }
}
