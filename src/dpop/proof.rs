//! One DPoP proof (RFC 9449 §4): decoding it and every check of §4.3 that needs no state.
//!
//! The checks that need state, the server nonce and the `jti` replay store, are made by
//! [`crate::dpop::DpopVerifier`] on what [`check`] returns. Every refusal is
//! `invalid_dpop_proof` with a fixed reason that names the failed check and never the proof's
//! or the token's contents.

use crate::algorithm::Alg;
use crate::dpop::thumbprint::jwk_thumbprint;
use crate::error::{AuthError, ErrorCode};
use crate::jwk::PublicKey;
use crate::jwt::UniqueObject;
use aws_lc_rs::digest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use url::Url;

/// The longest proof looked at, in bytes; longer ones are refused before decoding. 8 KiB holds a
/// proof with an 8192-bit RSA key.
pub const MAX_PROOF_LEN: usize = 8 * 1024;

/// The longest `jti` accepted, in bytes (RFC 9449 asks for 96 bits of randomness; 256 bytes is
/// room for any encoding of it).
pub const MAX_JTI_LEN: usize = 256;

/// The longest `nonce` accepted, in bytes.
pub const MAX_NONCE_LEN: usize = 512;

/// JWK members that only a private or symmetric key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What the request says a proof must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request method, e.g. `POST`.
    pub method: &'a str,
    /// The request URL as the server knows it, without query and fragment (see [`htu_of`]).
    pub htu: &'a Url,
    /// The access token the proof must be bound to through `ath`.
    pub access_token: &'a str,
    /// The algorithms a proof may be signed with.
    pub algorithms: &'a [Alg],
    /// Now, in seconds since the epoch.
    pub now: f64,
    /// How far `iat` may be from now, in seconds, either way.
    pub iat_window: f64,
}

/// A proof that passed every stateless check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedProof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's `jwk`, base64url.
    pub jkt: String,
    /// The proof's unique identifier, for the replay check.
    pub jti: String,
    /// When the proof says it was made, in seconds since the epoch.
    pub iat: f64,
    /// The server nonce the proof carries, if any.
    pub nonce: Option<String>,
}

fn refused(reason: &'static str) -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidDpopProof, reason)
}

/// The URL a proof's `htu` must match: the origin of `base` (the configured resource) followed by
/// the request path of `original_url`, without query and fragment.
///
/// Only the path of `original_url` is used, even in the absolute form a client may send
/// (`GET http://other/x HTTP/1.1`), so neither `Host` nor the request line can choose the origin.
pub fn htu_of(base: &Url, original_url: &str) -> Option<Url> {
    let path = if original_url.starts_with('/') {
        original_url
    } else {
        // The absolute form: keep its path only, as Express routes on it.
        let after_scheme = original_url.split_once("://").map(|(_, rest)| rest)?;
        after_scheme.find('/').and_then(|i| after_scheme.get(i..)).unwrap_or("/")
    };
    let path = path.split(['?', '#']).next().unwrap_or("/");
    let origin = base.origin();
    if !origin.is_tuple() {
        return None;
    }
    // Concatenated, not joined: a path like `//other.example/x` must stay a path.
    let mut url = Url::parse(&format!("{}{}", origin.ascii_serialization(), path)).ok()?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

/// Whether a proof's `htu` names `expected`: both parsed and normalised (RFC 3986 §6), the
/// proof's query and fragment ignored (RFC 9449 §4.3 item 9).
fn htu_matches(htu: &str, expected: &Url) -> bool {
    let Ok(mut url) = Url::parse(htu) else { return false };
    url.set_query(None);
    url.set_fragment(None);
    url.as_str() == expected.as_str()
}

/// `base64url(SHA-256(token))`, the `ath` of a proof for `token` (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, token.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `typ` compares case-insensitively, an `application/` prefix allowed (RFC 7515 §4.1.9).
fn is_dpop_typ(typ: &str) -> bool {
    let lower = typ.to_ascii_lowercase();
    lower.strip_prefix("application/").unwrap_or(&lower) == "dpop+jwt"
}

/// A proof's `alg`: a JOSE name, or `Ed25519`, the fully-specified name of EdDSA on Ed25519
/// (RFC 9864) that some clients (oauth4webapi) sign proofs with; it counts as `EdDSA`.
fn proof_alg(name: &str) -> Option<Alg> {
    if name == "Ed25519" {
        return Some(Alg::EdDSA);
    }
    Alg::parse(name)
}

fn decode_part(part: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(part).ok()
}

fn object(bytes: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<UniqueObject>(bytes).ok().map(|o| o.0)
}

/// Decodes `proof` and makes every check of RFC 9449 §4.3 but the nonce and the replay check.
pub fn check(proof: &str, expected: &Expected<'_>) -> Result<CheckedProof, AuthError> {
    if proof.len() > MAX_PROOF_LEN {
        return Err(refused("The DPoP proof is longer than 8 KiB."));
    }
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(refused("The DPoP proof is not a JWS of three dot-separated parts."));
    };
    let (Some(header), Some(payload), Some(signature)) = (decode_part(h), decode_part(p), decode_part(s)) else {
        return Err(refused("The DPoP proof is not canonical base64url."));
    };
    let header = object(&header)
        .ok_or_else(|| refused("The DPoP proof header is not a JSON object with unique member names."))?;
    let claims = object(&payload)
        .ok_or_else(|| refused("The DPoP proof payload is not a JSON object with unique member names."))?;

    // The header: typ, alg, jwk (RFC 9449 §4.2, §4.3 items 4 to 7).
    match header.get("typ") {
        Some(Value::String(typ)) if is_dpop_typ(typ) => {}
        _ => return Err(refused("The DPoP proof header `typ` is not `dpop+jwt`.")),
    }
    let alg = match header.get("alg") {
        Some(Value::String(name)) => proof_alg(name)
            .filter(|a| expected.algorithms.contains(a))
            .ok_or_else(|| refused("The DPoP proof `alg` is not one of the allowed asymmetric algorithms."))?,
        _ => return Err(refused("The DPoP proof header has no `alg` string.")),
    };
    if header.contains_key("crit") {
        return Err(refused("The DPoP proof header lists critical extensions that are not supported."));
    }
    if header.get("b64").is_some_and(|v| v != &Value::Bool(true)) {
        return Err(refused("The DPoP proof uses an unencoded payload (`b64`)."));
    }
    let jwk = match header.get("jwk") {
        Some(Value::Object(jwk)) => jwk,
        Some(_) => return Err(refused("The DPoP proof header `jwk` is not a JSON object.")),
        None => return Err(refused("The DPoP proof header has no `jwk`.")),
    };
    if jwk.get("kty").is_some_and(|k| k == "oct") || PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
        return Err(refused("The DPoP proof `jwk` is not a public key: it has private or symmetric key members."));
    }
    let key =
        PublicKey::from_jwk_for(jwk, alg).ok_or_else(|| refused("The DPoP proof `jwk` is not a usable public key."))?;
    if !key.allows(alg) {
        return Err(refused("The DPoP proof `jwk` does not fit the proof's `alg`."));
    }
    let jkt = jwk_thumbprint(jwk).ok_or_else(|| refused("The DPoP proof `jwk` is not a usable public key."))?;
    let signing_input = proof.get(..h.len() + 1 + p.len()).unwrap_or(proof);
    if !key.verify(alg, signing_input.as_bytes(), &signature) {
        return Err(refused("The DPoP proof signature does not verify with its `jwk`."));
    }

    let (jti, iat, nonce) = check_claims(&claims, expected)?;
    Ok(CheckedProof { jkt, jti, iat, nonce })
}

/// The checks of a proof's claims (RFC 9449 §4.3 items 8 to 12: `htm`, `htu`, `iat`, `ath`,
/// `jti`, and the form of `nonce`); [`check`] makes them once the signature verified.
/// Returns `jti`, `iat` and `nonce`.
pub fn check_claims(
    claims: &Map<String, Value>,
    expected: &Expected<'_>,
) -> Result<(String, f64, Option<String>), AuthError> {
    match claims.get("htm") {
        Some(Value::String(htm)) if htm == expected.method => {}
        Some(Value::String(_)) => return Err(refused("The DPoP proof `htm` is not the request method.")),
        _ => return Err(refused("The DPoP proof has no `htm` string.")),
    }
    match claims.get("htu") {
        Some(Value::String(htu)) if htu_matches(htu, expected.htu) => {}
        Some(Value::String(_)) => return Err(refused("The DPoP proof `htu` is not the request URL.")),
        _ => return Err(refused("The DPoP proof has no `htu` string.")),
    }
    let iat = match claims.get("iat").and_then(Value::as_f64) {
        Some(iat) if iat.is_finite() => iat,
        _ => return Err(refused("The DPoP proof has no numeric `iat`.")),
    };
    if iat < expected.now - expected.iat_window {
        return Err(refused("The DPoP proof `iat` is too far in the past."));
    }
    if iat > expected.now + expected.iat_window {
        return Err(refused("The DPoP proof `iat` is too far in the future."));
    }
    match claims.get("ath") {
        Some(Value::String(ath))
            if constant_time_eq(ath.as_bytes(), access_token_hash(expected.access_token).as_bytes()) => {}
        Some(Value::String(_)) => return Err(refused("The DPoP proof `ath` is not the hash of the access token.")),
        _ => return Err(refused("The DPoP proof has no `ath` string.")),
    }
    let jti = match claims.get("jti") {
        Some(Value::String(jti)) if !jti.is_empty() && jti.len() <= MAX_JTI_LEN => jti.clone(),
        Some(Value::String(_)) => return Err(refused("The DPoP proof `jti` is empty or longer than 256 bytes.")),
        _ => return Err(refused("The DPoP proof has no `jti` string.")),
    };
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(n)) if n.len() <= MAX_NONCE_LEN => Some(n.clone()),
        Some(_) => return Err(refused("The DPoP proof `nonce` is not a string of at most 512 bytes.")),
    };
    Ok((jti, iat, nonce))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{Algorithm as A, EncodingKey};
    use serde_json::json;

    pub(crate) const NOW: f64 = 1_700_000_000.0;
    pub(crate) const TOKEN: &str = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln";
    pub(crate) const URL: &str = "https://api.example.com/mcp";

    /// A fixture key: its PEM, its public JWK and its algorithm.
    #[derive(Clone, Copy)]
    pub(crate) struct Key {
        pub pem: &'static str,
        pub kid: &'static str,
        pub alg: A,
    }

    pub(crate) const EC: Key = Key { pem: "ec256.pem", kid: "ec-256", alg: A::ES256 };
    pub(crate) const EC384: Key = Key { pem: "ec384.pem", kid: "ec-384", alg: A::ES384 };
    pub(crate) const ED: Key = Key { pem: "ed25519.pem", kid: "ed-1", alg: A::EdDSA };
    pub(crate) const RSA: Key = Key { pem: "rsa.pem", kid: "rsa-1", alg: A::RS256 };
    pub(crate) const RSA2: Key = Key { pem: "rsa2.pem", kid: "rsa-2", alg: A::RS256 };

    impl Key {
        pub(crate) fn public_jwk(self) -> Value {
            let mut jwk = crate::jwk::tests::jwk(self.kid);
            if let Some(o) = jwk.as_object_mut() {
                o.remove("kid");
                o.remove("alg");
                o.remove("use");
            }
            jwk
        }

        pub(crate) fn encoding_key(self) -> EncodingKey {
            let pem = crate::jwk::tests::fixture(self.pem);
            match self.alg {
                A::ES256 | A::ES384 => EncodingKey::from_ec_pem(&pem),
                A::EdDSA => EncodingKey::from_ed_pem(&pem),
                _ => EncodingKey::from_rsa_pem(&pem),
            }
            .unwrap_or_else(|e| panic!("{e}"))
        }

        pub(crate) fn jkt(self) -> String {
            jwk_thumbprint(self.public_jwk().as_object().unwrap_or(&Map::new())).unwrap_or_default()
        }
    }

    /// Signs `header` and `claims` with `key`.
    pub(crate) fn sign(key: Key, header: &Value, claims: &Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding_key(), key.alg)
            .unwrap_or_else(|e| panic!("{e}"));
        format!("{input}.{sig}")
    }

    pub(crate) fn header(key: Key) -> Value {
        json!({ "typ": "dpop+jwt", "alg": format!("{:?}", key.alg), "jwk": key.public_jwk() })
    }

    pub(crate) fn claims(jti: &str) -> Value {
        json!({ "htm": "POST", "htu": URL, "iat": NOW, "jti": jti, "ath": access_token_hash(TOKEN) })
    }

    /// A valid proof by `key` for `POST URL` with `TOKEN`, `claims` changed by `edit`.
    pub(crate) fn proof_with(key: Key, edit: impl FnOnce(&mut Map<String, Value>)) -> String {
        let mut c = claims("jti-1");
        if let Some(o) = c.as_object_mut() {
            edit(o);
        }
        sign(key, &header(key), &c)
    }

    fn run(proof: &str) -> Result<CheckedProof, AuthError> {
        let htu = Url::parse(URL).unwrap_or_else(|e| panic!("{e}"));
        let expected = Expected {
            method: "POST",
            htu: &htu,
            access_token: TOKEN,
            algorithms: &Alg::ALL,
            now: NOW,
            iat_window: 300.0,
        };
        check(proof, &expected)
    }

    fn reason(proof: &str) -> String {
        match run(proof) {
            Ok(p) => panic!("accepted: {p:?}"),
            Err(e) => {
                assert_eq!(e.code, ErrorCode::InvalidDpopProof);
                e.reason().unwrap_or_default().to_owned()
            }
        }
    }

    #[test]
    fn a_valid_proof_of_each_key_type_passes_and_gives_its_key_thumbprint() {
        for key in [EC, EC384, ED, RSA] {
            let checked = run(&proof_with(key, |_| {})).unwrap_or_else(|e| panic!("{:?}: {e}", key.kid));
            assert_eq!(checked.jkt, key.jkt());
            assert_eq!((checked.jti.as_str(), checked.iat, checked.nonce), ("jti-1", NOW, None));
        }
        assert_ne!(EC.jkt(), ED.jkt());
    }

    #[test]
    fn the_typ_must_be_dpop_jwt() {
        for typ in [json!("JWT"), json!("at+jwt"), json!(1), Value::Null] {
            let mut h = header(EC);
            h["typ"] = typ;
            assert!(reason(&sign(EC, &h, &claims("j"))).contains("`typ`"));
        }
        let mut h = header(EC);
        h.as_object_mut().map(|o| o.remove("typ"));
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("`typ`"));
        let mut h = header(EC);
        h["typ"] = json!("application/DPoP+JWT");
        assert!(run(&sign(EC, &h, &claims("j"))).is_ok());
    }

    #[test]
    fn alg_none_and_hmac_are_refused() {
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let mut h = header(EC);
        h["alg"] = json!("none");
        let none = format!("{}.{}.", b64(&h), b64(&claims("j")));
        assert!(reason(&none).contains("`alg`"));
        h["alg"] = json!("HS256");
        let input = format!("{}.{}", b64(&h), b64(&claims("j")));
        let key = EncodingKey::from_secret(b"secret");
        let sig = jsonwebtoken::crypto::sign(input.as_bytes(), &key, A::HS256).unwrap_or_default();
        assert!(reason(&format!("{input}.{sig}")).contains("`alg`"));
    }

    #[test]
    fn the_fully_specified_ed25519_name_counts_as_eddsa() {
        let mut h = header(ED);
        h["alg"] = json!("Ed25519");
        assert!(run(&sign(ED, &h, &claims("j"))).is_ok());
        // Not for another key type.
        let mut h = header(EC);
        h["alg"] = json!("Ed25519");
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("does not fit"));
        for other in ["Ed448", "ed25519", "ES512", "ESP256"] {
            let mut h = header(ED);
            h["alg"] = json!(other);
            assert!(reason(&sign(ED, &h, &claims("j"))).contains("`alg`"), "{other}");
        }
    }

    #[test]
    fn an_algorithm_outside_the_allow_list_is_refused() {
        let htu = Url::parse(URL).unwrap_or_else(|e| panic!("{e}"));
        let only_ec = [Alg::ES256];
        let expected = Expected {
            method: "POST",
            htu: &htu,
            access_token: TOKEN,
            algorithms: &only_ec,
            now: NOW,
            iat_window: 300.0,
        };
        assert!(check(&proof_with(EC, |_| {}), &expected).is_ok());
        let err = check(&proof_with(ED, |_| {}), &expected).err().map(|e| e.reason().unwrap_or_default().to_owned());
        assert!(err.unwrap_or_default().contains("`alg`"));
    }

    #[test]
    fn a_jwk_with_private_members_or_a_symmetric_key_is_refused() {
        for (name, value) in
            [("d", "AAAA"), ("p", "AA"), ("q", "AA"), ("dp", "AA"), ("dq", "AA"), ("qi", "AA"), ("k", "AA")]
        {
            let mut h = header(EC);
            h["jwk"][name] = json!(value);
            assert!(reason(&sign(EC, &h, &claims("j"))).contains("private"), "{name}");
        }
        let mut h = header(RSA);
        h["jwk"]["oth"] = json!([]);
        assert!(reason(&sign(RSA, &h, &claims("j"))).contains("private"));
        let mut h = header(EC);
        h["jwk"] = json!({ "kty": "oct", "kk": "c2VjcmV0" });
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("private"));
    }

    #[test]
    fn a_missing_or_unusable_jwk_is_refused() {
        let mut h = header(EC);
        h.as_object_mut().map(|o| o.remove("jwk"));
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("no `jwk`"));
        h["jwk"] = json!("key");
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("not a JSON object"));
        h["jwk"] = json!({ "kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA" });
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("usable"));
        // An ES256 header with an Ed25519 key.
        let mut h = header(EC);
        h["jwk"] = ED.public_jwk();
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("does not fit"));
    }

    #[test]
    fn a_proof_signed_by_another_key_than_its_jwk_is_refused() {
        let forged = sign(RSA2, &header(RSA), &claims("j"));
        assert!(reason(&forged).contains("signature"));
        let mut tampered = proof_with(EC, |_| {});
        tampered.push('A');
        assert!(run(&tampered).is_err());
    }

    #[test]
    fn htm_must_be_the_request_method() {
        assert!(reason(&proof_with(EC, |c| drop(c.insert("htm".into(), json!("GET"))))).contains("`htm`"));
        assert!(reason(&proof_with(EC, |c| drop(c.insert("htm".into(), json!("post"))))).contains("`htm`"));
        assert!(reason(&proof_with(EC, |c| drop(c.remove("htm")))).contains("no `htm`"));
    }

    #[test]
    fn htu_must_be_the_request_url_ignoring_query_and_fragment() {
        for other in [
            "https://api.example.com/other",
            "https://evil.example/mcp",
            "http://api.example.com/mcp",
            "https://api.example.com:8443/mcp",
            "mcp",
            "",
        ] {
            assert!(
                reason(&proof_with(EC, |c| drop(c.insert("htu".into(), json!(other))))).contains("`htu`"),
                "{other}"
            );
        }
        assert!(reason(&proof_with(EC, |c| drop(c.remove("htu")))).contains("no `htu`"));
        for same in [
            "https://API.example.com/mcp",
            "https://api.example.com:443/mcp",
            "https://api.example.com/mcp?x=1#f",
            "https://api.example.com/a/../mcp",
        ] {
            assert!(run(&proof_with(EC, |c| drop(c.insert("htu".into(), json!(same))))).is_ok(), "{same}");
        }
    }

    #[test]
    fn iat_must_be_a_number_within_the_window() {
        assert!(reason(&proof_with(EC, |c| drop(c.insert("iat".into(), json!(NOW - 301.0))))).contains("past"));
        assert!(reason(&proof_with(EC, |c| drop(c.insert("iat".into(), json!(NOW + 301.0))))).contains("future"));
        assert!(reason(&proof_with(EC, |c| drop(c.insert("iat".into(), json!("1700000000"))))).contains("`iat`"));
        assert!(reason(&proof_with(EC, |c| drop(c.remove("iat")))).contains("`iat`"));
        for ok in [NOW - 300.0, NOW + 300.0, NOW + 0.5] {
            assert!(run(&proof_with(EC, |c| drop(c.insert("iat".into(), json!(ok))))).is_ok(), "{ok}");
        }
    }

    #[test]
    fn ath_must_be_the_hash_of_the_access_token() {
        assert!(reason(&proof_with(EC, |c| drop(c.remove("ath")))).contains("no `ath`"));
        let other = access_token_hash("another.token.here");
        assert!(reason(&proof_with(EC, |c| drop(c.insert("ath".into(), json!(other))))).contains("`ath`"));
        assert!(reason(&proof_with(EC, |c| drop(c.insert("ath".into(), json!(TOKEN))))).contains("`ath`"));
    }

    #[test]
    fn jti_must_be_a_bounded_non_empty_string() {
        assert!(reason(&proof_with(EC, |c| drop(c.remove("jti")))).contains("no `jti`"));
        assert!(reason(&proof_with(EC, |c| drop(c.insert("jti".into(), json!(7))))).contains("no `jti`"));
        assert!(reason(&proof_with(EC, |c| drop(c.insert("jti".into(), json!(""))))).contains("empty"));
        let long = "j".repeat(MAX_JTI_LEN + 1);
        assert!(reason(&proof_with(EC, |c| drop(c.insert("jti".into(), json!(long))))).contains("256"));
    }

    #[test]
    fn a_nonce_is_returned_when_present_and_must_be_a_string() {
        let p = proof_with(EC, |c| drop(c.insert("nonce".into(), json!("n-1"))));
        assert_eq!(run(&p).ok().and_then(|c| c.nonce).as_deref(), Some("n-1"));
        assert!(reason(&proof_with(EC, |c| drop(c.insert("nonce".into(), json!(1))))).contains("`nonce`"));
    }

    #[test]
    fn malformed_proofs_are_refused_without_reflecting_them() {
        let big = "a".repeat(MAX_PROOF_LEN + 1);
        for (bad, needle) in [
            ("", "three"),
            ("a.b", "three"),
            ("a.b.c.d", "three"),
            ("%%%.e30.e30", "base64url"),
            ("e30=.e30.e30", "base64url"),
            ("W10.e30.", "header"),
            ("e30.W10.", "payload"),
            (big.as_str(), "8 KiB"),
        ] {
            let r = reason(bad);
            assert!(r.contains(needle), "{bad:?}: {r}");
            if bad.len() > 3 {
                assert!(!r.contains(bad), "reflected {bad:?}");
            }
        }
        let b64 = |s: &str| URL_SAFE_NO_PAD.encode(s);
        let dup = format!("{}.{}.", b64(r#"{"typ":"dpop+jwt","typ":"x"}"#), b64("{}"));
        assert!(reason(&dup).contains("unique"));
        let mut h = header(EC);
        h["crit"] = json!(["exp"]);
        assert!(reason(&sign(EC, &h, &claims("j"))).contains("critical"));
    }

    #[test]
    fn htu_of_takes_the_origin_from_the_resource_and_only_the_path_from_the_request() {
        let base = Url::parse("https://api.example.com/mcp").unwrap_or_else(|e| panic!("{e}"));
        let htu = |u: &str| htu_of(&base, u).map(|u| u.to_string());
        assert_eq!(htu("/mcp?x=1#y").as_deref(), Some("https://api.example.com/mcp"));
        assert_eq!(htu("/").as_deref(), Some("https://api.example.com/"));
        assert_eq!(htu("//evil.example/mcp").as_deref(), Some("https://api.example.com//evil.example/mcp"));
        assert_eq!(htu("http://evil.example/mcp?q").as_deref(), Some("https://api.example.com/mcp"));
        assert_eq!(htu("http://evil.example").as_deref(), Some("https://api.example.com/"));
        assert_eq!(htu("*"), None);
        let with_port = Url::parse("http://127.0.0.1:8080/x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(htu_of(&with_port, "/mcp").map(|u| u.to_string()).as_deref(), Some("http://127.0.0.1:8080/mcp"));
    }

    #[test]
    fn constant_time_eq_compares_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
