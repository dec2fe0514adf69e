//! Public keys from a JWK Set (RFC 7517), bound to the algorithms they may verify.
//!
//! A key set is parsed once when it is fetched. Keys this library cannot or must not use
//! (symmetric, encryption-only, RSA under 2048 bits, unsupported curves, malformed) are skipped,
//! so one odd key does not take the whole set down.

use crate::algorithm::{Alg, KeyKind};
use aws_lc_rs::signature::{self, ParsedPublicKey, RsaPublicKeyComponents, VerificationAlgorithm};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};
use std::sync::Arc;

/// The smallest RSA modulus accepted, in bits (RFC 7518 §3.3).
pub const MIN_RSA_BITS: usize = 2048;
/// The largest RSA modulus accepted, in bits.
pub const MAX_RSA_BITS: usize = 8192;

/// One verification key.
#[derive(Clone)]
pub struct PublicKey {
    /// `kid`.
    pub kid: Option<String>,
    /// `alg`, when the key is restricted to one algorithm.
    pub alg: Option<Alg>,
    /// The kind of key, which fixes the algorithms it can verify.
    pub kind: KeyKind,
    /// The key parsed once, when the set was fetched, into an aws-lc key for each algorithm it
    /// allows (a parsed key is bound to one algorithm).
    parsed: Vec<(Alg, ParsedPublicKey)>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublicKey").field("kid", &self.kid).field("alg", &self.alg).field("kind", &self.kind).finish()
    }
}

impl PublicKey {
    /// Parses one JWK (e.g. the `jwk` header of a DPoP proof) with the rules of a key set: `None`
    /// for a key this library cannot or must not verify with.
    pub fn from_jwk(jwk: &Map<String, Value>) -> Option<PublicKey> {
        parse_key(jwk, None)
    }

    /// As [`PublicKey::from_jwk`], parsed for `alg` only (an RSA key is otherwise parsed once
    /// for each of the six RSA algorithms): for a key used once, as a DPoP proof's `jwk` is.
    pub fn from_jwk_for(jwk: &Map<String, Value>, alg: Alg) -> Option<PublicKey> {
        parse_key(jwk, Some(alg))
    }

    /// Whether this key may verify `alg`: the kind must fit, and a key `alg` must equal it.
    pub fn allows(&self, alg: Alg) -> bool {
        alg.key_kind() == self.kind && self.alg.is_none_or(|a| a == alg)
    }

    /// Verifies `signature` over `message` with `alg`; false for any mismatch or bad encoding.
    pub fn verify(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        if !self.allows(alg) {
            return false;
        }
        self.parsed.iter().find(|(a, _)| *a == alg).is_some_and(|(_, key)| key.verify_sig(message, signature).is_ok())
    }
}

/// The usable keys of a JWK Set.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    /// Keys in document order.
    pub keys: Vec<Arc<PublicKey>>,
    /// How many entries were skipped as unusable.
    pub skipped: usize,
}

/// The outcome of looking a key up for a token.
#[derive(Debug, PartialEq, Eq)]
pub enum Selection<'a> {
    /// The key to verify with.
    Found(&'a Arc<PublicKey>),
    /// No key with the token's `kid` (or, without `kid`, no key for the algorithm): a newer
    /// key set may have it.
    Unknown,
    /// Keys exist but none may verify this token (wrong type, curve or `alg`), or several could
    /// and the token names none.
    Unusable(&'static str),
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}
impl Eq for PublicKey {}

impl KeySet {
    /// Parses a JWK Set document. Fails only when the document is not a JWK Set at all.
    pub fn parse(body: &[u8]) -> Result<KeySet, String> {
        let doc: Value = serde_json::from_slice(body).map_err(|_| "The JWKS is not JSON.".to_owned())?;
        let entries =
            doc.get("keys").and_then(Value::as_array).ok_or_else(|| "The JWKS has no `keys` array.".to_owned())?;
        let mut set = KeySet::default();
        for entry in entries {
            match entry.as_object().and_then(|jwk| parse_key(jwk, None)) {
                Some(key) => set.keys.push(Arc::new(key)),
                None => set.skipped += 1,
            }
        }
        Ok(set)
    }

    /// Picks the key for a token with `kid` signed with `alg` (RFC 7515 §4.1.4).
    pub fn select(&self, kid: Option<&str>, alg: Alg) -> Selection<'_> {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).peekable();
                if named.peek().is_none() {
                    return Selection::Unknown;
                }
                named.find(|k| k.allows(alg)).map_or(
                    Selection::Unusable("The key named by `kid` does not allow the token's algorithm."),
                    Selection::Found,
                )
            }
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.allows(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Selection::Found(key),
                    (None, _) => Selection::Unknown,
                    (Some(_), Some(_)) => {
                        Selection::Unusable("The token has no `kid` and several keys fit its algorithm.")
                    }
                }
            }
        }
    }
}

fn b64_field(jwk: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(jwk.get(name)?.as_str()?).ok()
}

/// Parses one JWK; with `only`, for that algorithm alone.
fn parse_key(jwk: &Map<String, Value>, only: Option<Alg>) -> Option<PublicKey> {
    if jwk.get("use").is_some_and(|u| u != "sig") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops") {
        if !ops.as_array()?.iter().any(|op| op == "verify") {
            return None;
        }
    }
    let kid = match jwk.get("kid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return None,
    };
    let (kind, key): (KeyKind, Material) = match (jwk.get("kty")?.as_str()?, jwk.get("crv").and_then(Value::as_str)) {
        ("RSA", _) => {
            let n = b64_field(jwk, "n")?;
            let e = b64_field(jwk, "e")?;
            let bits = significant_bits(&n);
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) || e.is_empty() || e.len() > 8 {
                return None;
            }
            (KeyKind::Rsa, Material::Rsa { n, e })
        }
        ("EC", Some(crv @ ("P-256" | "P-384"))) => {
            let (kind, len) = if crv == "P-256" { (KeyKind::EcP256, 32) } else { (KeyKind::EcP384, 48) };
            let x = b64_field(jwk, "x")?;
            let y = b64_field(jwk, "y")?;
            if x.len() != len || y.len() != len {
                return None;
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            (kind, Material::Bytes(point))
        }
        ("OKP", Some("Ed25519")) => {
            let x = b64_field(jwk, "x")?;
            if x.len() != 32 {
                return None;
            }
            (KeyKind::Ed25519, Material::Bytes(x))
        }
        _ => return None,
    };
    let alg = match jwk.get("alg") {
        None => None,
        Some(Value::String(name)) => Some(Alg::parse(name).filter(|a| a.key_kind() == kind)?),
        Some(_) => return None,
    };
    let parsed = Alg::ALL
        .iter()
        .copied()
        .filter(|a| a.key_kind() == kind && alg.is_none_or(|k| k == *a) && only.is_none_or(|o| o == *a))
        .map(|a| key.parse(a).map(|parsed| (a, parsed)))
        .collect::<Option<Vec<_>>>()?;
    Some(PublicKey { kid, alg, kind, parsed })
}

/// A JWK's key material, before it is parsed for an algorithm.
enum Material {
    /// RSA modulus and exponent, big-endian.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// An uncompressed EC point, or an Ed25519 public key.
    Bytes(Vec<u8>),
}

impl Material {
    /// The aws-lc key for `alg`; `None` when the material is not a valid key.
    fn parse(&self, alg: Alg) -> Option<ParsedPublicKey> {
        match self {
            Material::Rsa { n, e } => {
                let params = rsa_params(alg)?;
                RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() }.to_parsed_public_key(params).ok()
            }
            Material::Bytes(bytes) => ParsedPublicKey::new(other_params(alg)?, bytes).ok(),
        }
    }
}

/// The aws-lc parameters of an RSA algorithm (keys of 2048 to 8192 bits, as jsonwebtoken uses).
fn rsa_params(alg: Alg) -> Option<&'static signature::RsaParameters> {
    Some(match alg {
        Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Alg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        Alg::ES256 | Alg::ES384 | Alg::EdDSA => return None,
    })
}

/// The aws-lc algorithm of an EC or Ed25519 algorithm (JWS signatures are fixed-size `r || s`).
fn other_params(alg: Alg) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match alg {
        Alg::ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        Alg::ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        Alg::EdDSA => &signature::ED25519,
        _ => return None,
    })
}

fn significant_bits(bytes: &[u8]) -> usize {
    let mut rest = bytes.iter().skip_while(|b| **b == 0);
    match rest.next() {
        Some(first) => (rest.count() + 1) * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header};
    use serde_json::json;

    pub(crate) fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    pub(crate) fn fixture_jwks() -> Value {
        serde_json::from_slice(&fixture("jwks.json")).unwrap_or_default()
    }

    pub(crate) fn jwk(kid: &str) -> Value {
        fixture_jwks()["keys"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["kid"] == kid).cloned())
            .unwrap_or_default()
    }

    fn set(keys: Vec<Value>) -> KeySet {
        KeySet::parse(json!({ "keys": keys }).to_string().as_bytes()).unwrap_or_default()
    }

    pub(crate) fn sign(pem: &str, alg: jsonwebtoken::Algorithm, kid: Option<&str>, claims: &Value) -> String {
        let pem = fixture(pem);
        let key = match alg {
            jsonwebtoken::Algorithm::ES256 | jsonwebtoken::Algorithm::ES384 => EncodingKey::from_ec_pem(&pem),
            jsonwebtoken::Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem),
            _ => EncodingKey::from_rsa_pem(&pem),
        }
        .unwrap_or_else(|e| panic!("{e}"));
        let mut header = Header::new(alg);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).unwrap_or_else(|e| panic!("{e}"))
    }

    fn verifies(set: &KeySet, token: &str, alg: Alg, kid: Option<&str>) -> bool {
        let (input, sig) = token.rsplit_once('.').unwrap_or_default();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap_or_default();
        match set.select(kid, alg) {
            Selection::Found(key) => key.verify(alg, input.as_bytes(), &sig),
            _ => false,
        }
    }

    #[test]
    fn parses_the_fixture_set_and_skips_small_rsa() {
        let s = KeySet::parse(&fixture("jwks.json")).expect("parses");
        let kids: Vec<_> = s.keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, ["rsa-1", "rsa-2", "ec-256", "ec-384", "ed-1"]);
        assert_eq!(s.skipped, 1);
    }

    #[test]
    fn each_algorithm_verifies_with_its_key() {
        let s = KeySet::parse(&fixture("jwks.json")).expect("parses");
        let claims = json!({"iss": "i"});
        use jsonwebtoken::Algorithm as A;
        for (pem, alg, jalg, kid) in [
            ("rsa.pem", Alg::RS256, A::RS256, "rsa-1"),
            ("rsa.pem", Alg::PS512, A::PS512, "rsa-1"),
            ("ec256.pem", Alg::ES256, A::ES256, "ec-256"),
            ("ec384.pem", Alg::ES384, A::ES384, "ec-384"),
            ("ed25519.pem", Alg::EdDSA, A::EdDSA, "ed-1"),
        ] {
            let t = sign(pem, jalg, Some(kid), &claims);
            assert!(verifies(&s, &t, alg, Some(kid)), "{kid} {alg:?}");
            let other = sign("rsa2.pem", A::RS256, Some(kid), &claims);
            assert!(!verifies(&s, &other, alg, Some(kid)), "foreign signature accepted for {kid}");
        }
    }

    #[test]
    fn a_key_never_verifies_another_kind_of_algorithm() {
        let s = KeySet::parse(&fixture("jwks.json")).expect("parses");
        assert_eq!(
            s.select(Some("rsa-1"), Alg::ES256),
            Selection::Unusable("The key named by `kid` does not allow the token's algorithm.")
        );
        assert!(matches!(s.select(Some("ec-256"), Alg::ES384), Selection::Unusable(_)));
        assert!(matches!(s.select(Some("ec-384"), Alg::ES256), Selection::Unusable(_)));
    }

    #[test]
    fn unknown_kid_is_unknown() {
        let s = KeySet::parse(&fixture("jwks.json")).expect("parses");
        assert_eq!(s.select(Some("nope"), Alg::RS256), Selection::Unknown);
        assert_eq!(s.select(Some("../../etc/passwd"), Alg::RS256), Selection::Unknown);
    }

    #[test]
    fn without_kid_only_a_single_fitting_key_is_used() {
        let one = set(vec![jwk("ec-256"), jwk("rsa-1")]);
        assert!(matches!(one.select(None, Alg::ES256), Selection::Found(k) if k.kid.as_deref() == Some("ec-256")));
        let two = set(vec![jwk("rsa-1"), jwk("rsa-2")]);
        assert!(matches!(two.select(None, Alg::RS256), Selection::Unusable(_)));
        assert_eq!(two.select(None, Alg::EdDSA), Selection::Unknown);
    }

    #[test]
    fn key_alg_restricts_the_algorithm() {
        let mut k = jwk("rsa-1");
        k["alg"] = json!("PS256");
        let s = set(vec![k]);
        assert!(matches!(s.select(Some("rsa-1"), Alg::PS256), Selection::Found(_)));
        assert!(matches!(s.select(Some("rsa-1"), Alg::RS256), Selection::Unusable(_)));
    }

    #[test]
    fn keys_that_must_not_verify_are_skipped() {
        let mut enc = jwk("rsa-1");
        enc["use"] = json!("enc");
        let mut ops = jwk("rsa-1");
        ops["key_ops"] = json!(["encrypt"]);
        let mut hs = jwk("rsa-1");
        hs["alg"] = json!("HS256");
        let mut mismatched = jwk("ec-256");
        mismatched["alg"] = json!("RS256");
        let mut wrong_curve = jwk("ec-256");
        wrong_curve["crv"] = json!("P-384");
        let oct = json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"});
        let secp = json!({"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"});
        let s = set(vec![enc, ops, hs, mismatched, wrong_curve, oct, secp, jwk("rsa-small"), json!("x")]);
        assert!(s.keys.is_empty(), "{:?}", s.keys);
        assert_eq!(s.skipped, 9);
    }

    #[test]
    fn key_ops_with_verify_is_usable() {
        let mut k = jwk("ed-1");
        k["key_ops"] = json!(["verify"]);
        assert_eq!(set(vec![k]).keys.len(), 1);
    }

    #[test]
    fn documents_that_are_not_key_sets_fail() {
        assert!(KeySet::parse(b"<html>").is_err());
        assert!(KeySet::parse(b"{}").is_err());
        assert!(KeySet::parse(b"{\"keys\": {}}").is_err());
        assert!(KeySet::parse(b"{\"keys\": []}").is_ok());
    }

    #[test]
    fn der_encoded_ecdsa_signatures_are_rejected() {
        let s = KeySet::parse(&fixture("jwks.json")).expect("parses");
        let t = sign("ec256.pem", jsonwebtoken::Algorithm::ES256, Some("ec-256"), &json!({"iss": "i"}));
        let (input, sig) = t.rsplit_once('.').unwrap_or_default();
        let raw = URL_SAFE_NO_PAD.decode(sig).unwrap_or_default();
        let Selection::Found(key) = s.select(Some("ec-256"), Alg::ES256) else { panic!("no key") };
        assert!(key.verify(Alg::ES256, input.as_bytes(), &raw));
        let der = to_der(&raw[..32], &raw[32..]);
        assert!(!key.verify(Alg::ES256, input.as_bytes(), &der));
        let mut zero_r = raw.clone();
        zero_r[..32].fill(0);
        assert!(!key.verify(Alg::ES256, input.as_bytes(), &zero_r));
        let mut big_s = raw.clone();
        big_s[32..].fill(0xff);
        assert!(!key.verify(Alg::ES256, input.as_bytes(), &big_s));
    }

    fn to_der(r: &[u8], s: &[u8]) -> Vec<u8> {
        let int = |v: &[u8]| {
            let mut v = v.to_vec();
            if v[0] & 0x80 != 0 {
                v.insert(0, 0);
            }
            let mut out = vec![0x02, v.len() as u8];
            out.extend(v);
            out
        };
        let body: Vec<u8> = [int(r), int(s)].concat();
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }
}
