//! Forged and malformed credentials against the core (issue 6): every attack ends in the exact
//! 401 the contract prescribes, nothing of the attacker's input is reflected, and nothing but the
//! issuer's JWKS is ever fetched. The jest suite `__test__/attacks.test.js` runs the same attacks
//! over HTTP; this one pins the core's answer without Node.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm as A, EncodingKey};
use mcp_auth_native::clock::ManualClock;
use mcp_auth_native::config::AuthConfig;
use mcp_auth_native::fetch::{BoxFuture, FetchError, Fetcher};
use mcp_auth_native::guard::Guard;
use mcp_auth_native::options::BearerOptions;
use mcp_auth_native::response::Rejection;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ISSUER: &str = "https://issuer.example.com";
const JWKS: &str = "https://issuer.example.com/jwks";
const EVIL: &str = "https://evil.example/keys";
const RESOURCE: &str = "https://api.example.com/mcp";
const METADATA: &str = "https://api.example.com/.well-known/oauth-protected-resource/mcp";
const NOW: f64 = 1_700_000_000.0;
const INVALID_TOKEN: &str = "The provided token is invalid or malformed.";
const INVALID_FORMAT: &str = "Invalid `Authorization` header format. Expected \"Bearer <token>\".";

/// Serves fixed bodies and counts every URL asked for.
#[derive(Default)]
struct Fixed {
    bodies: HashMap<String, Vec<u8>>,
    asked: Mutex<Vec<String>>,
}

impl Fetcher for Fixed {
    fn get<'a>(&'a self, url: &'a str, _: Duration) -> BoxFuture<'a, Result<Vec<u8>, FetchError>> {
        self.asked.lock().unwrap().push(url.to_owned());
        let body = self.bodies.get(url).cloned().ok_or(FetchError::Status(404));
        Box::pin(async move { body })
    }
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn jwks() -> Value {
    serde_json::from_slice(&fixture("jwks.json")).unwrap()
}

struct Setup {
    guard: Guard,
    http: Arc<Fixed>,
}

fn setup_with(keys: Value) -> Setup {
    let mut http = Fixed::default();
    http.bodies.insert(JWKS.into(), keys.to_string().into_bytes());
    let http = Arc::new(http);
    let config = AuthConfig::parse(&json!({ "protectedResources": { "metadata": {
        "resource": RESOURCE,
        "authorizationServers": [{ "type": "oidc", "metadata": { "issuer": ISSUER, "jwksUri": JWKS } }]
    }}}))
    .unwrap();
    let options = BearerOptions::parse(Some(&json!({ "resource": RESOURCE }))).unwrap();
    let guard = Guard::new(&config, options, true, http.clone(), Arc::new(ManualClock::new(NOW))).unwrap();
    Setup { guard, http }
}

fn setup() -> Setup {
    setup_with(jwks())
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn claims() -> Value {
    json!({ "iss": ISSUER, "sub": "u1", "aud": RESOURCE, "iat": NOW, "exp": NOW + 300.0, "scope": "read" })
}

fn key(pem: &str, alg: A) -> EncodingKey {
    let pem = fixture(pem);
    match alg {
        A::ES256 | A::ES384 => EncodingKey::from_ec_pem(&pem),
        A::EdDSA => EncodingKey::from_ed_pem(&pem),
        _ => EncodingKey::from_rsa_pem(&pem),
    }
    .unwrap()
}

/// Signs raw header and payload text with `key` under `alg` (which may differ from the header's).
fn sign_raw(key: &EncodingKey, alg: A, header: &str, payload: &str) -> String {
    let input = format!("{}.{}", b64(header), b64(payload));
    let sig = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{sig}")
}

fn rs256_with(header: Value, payload: &str) -> String {
    sign_raw(&key("rsa.pem", A::RS256), A::RS256, &header.to_string(), payload)
}

fn rs256_header(extra: Value) -> Value {
    let mut h = json!({ "alg": "RS256", "typ": "JWT", "kid": "rsa-1" });
    h.as_object_mut().unwrap().extend(extra.as_object().cloned().unwrap_or_default());
    h
}

/// A correctly signed RS256 token whose header has `extra` and whose claims are `claims()`.
fn rs256_header_extra(extra: Value) -> String {
    rs256_with(rs256_header(extra), &claims().to_string())
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// The answer for an `Authorization` header value, as the middleware would send it.
fn answer(s: &Setup, header: &str) -> Option<Rejection> {
    run(async {
        let token = match s.guard.token(Some(header)) {
            Ok(t) => t,
            Err(e) => return Some(s.guard.reject(&e)),
        };
        let verdict = match s.guard.verify_token(token).await {
            Ok(v) => s.guard.authorize(&v.info),
            Err(e) => Err(e),
        };
        verdict.err().map(|e| s.guard.reject(&e))
    })
}

fn assert_clean(r: &Rejection, secrets: &[&str]) {
    let header = r.www_authenticate.clone().unwrap_or_default();
    assert!(header.bytes().all(|b| (0x20..0x7f).contains(&b)), "{header:?}");
    for s in secrets.iter().filter(|s| s.len() >= 6) {
        assert!(!header.contains(s) && !r.body.contains(s), "reflected {s:?}");
    }
}

/// Asserts the exact 401 `invalid_token` answer for `token`, with nothing reflected.
fn assert_invalid_token(s: &Setup, token: &str, secrets: &[&str]) {
    let r = answer(s, &format!("Bearer {token}")).unwrap_or_else(|| panic!("accepted {token}"));
    assert_eq!(r.status, 401, "{token}");
    assert_eq!(r.body, json!({ "error": "invalid_token", "error_description": INVALID_TOKEN }).to_string());
    assert_eq!(
        r.www_authenticate.as_deref(),
        Some(
            format!(
                "Bearer error=\"invalid_token\", error_description=\"{INVALID_TOKEN}\", resource_metadata=\"{METADATA}\""
            )
            .as_str()
        )
    );
    assert_eq!(r.retry_after, None);
    let mut all = secrets.to_vec();
    all.push(token);
    assert_clean(&r, &all);
    assert!(s.http.asked.lock().unwrap().iter().all(|u| u == JWKS), "fetched something else");
}

fn assert_invalid_format(s: &Setup, header: &str) {
    let r = answer(s, header).unwrap_or_else(|| panic!("accepted {header:?}"));
    assert_eq!(r.status, 401);
    assert_eq!(
        r.body,
        json!({ "error": "invalid_auth_header_format", "error_description": INVALID_FORMAT }).to_string()
    );
    assert!(r.www_authenticate.as_deref().is_some_and(|h| h.starts_with("Bearer error=\"invalid_request\"")));
    assert_clean(&r, &[header.trim_start_matches("Bearer ")]);
}

#[test]
fn the_honest_token_passes() {
    let s = setup();
    assert!(answer(&s, &format!("Bearer {}", rs256_header_extra(json!({})))).is_none());
}

#[test]
fn alg_none_in_any_case_with_empty_or_any_signature_is_rejected() {
    let s = setup();
    let payload = b64(claims().to_string());
    let real = rs256_header_extra(json!({}));
    let real_sig = real.rsplit('.').next().unwrap();
    for alg in ["none", "None", "NONE"] {
        for kid in [json!("rsa-1"), Value::Null] {
            let h = b64(json!({ "alg": alg, "kid": kid }).to_string());
            for sig in ["", "c2ln", real_sig] {
                assert_invalid_token(&s, &format!("{h}.{payload}.{sig}"), &[]);
            }
        }
    }
}

#[test]
fn hmac_keyed_with_a_public_key_is_rejected() {
    let s = setup();
    let set = jwks();
    let rsa_jwk = set["keys"][0].to_string();
    let ec_jwk = set["keys"][2].to_string();
    let rsa_pem =
        "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n";
    for (alg, name) in [(A::HS256, "HS256"), (A::HS384, "HS384"), (A::HS512, "HS512")] {
        for (secret, kid) in [
            (rsa_jwk.as_str(), Some("rsa-1")),
            (rsa_jwk.as_str(), None),
            (ec_jwk.as_str(), Some("ec-256")),
            (rsa_pem, Some("rsa-1")),
            (set["keys"][0]["n"].as_str().unwrap(), Some("rsa-1")),
        ] {
            let header = json!({ "alg": name, "kid": kid }).to_string();
            let t = sign_raw(&EncodingKey::from_secret(secret.as_bytes()), alg, &header, &claims().to_string());
            assert_invalid_token(&s, &t, &[]);
        }
    }
}

#[test]
fn keys_that_do_not_allow_the_algorithm_are_not_used() {
    let set = jwks();
    let rsa = set["keys"][0].clone();
    let ec = set["keys"][2].clone();
    let with = |base: &Value, kid: &str, extra: Value| {
        let mut k = base.clone();
        k["kid"] = json!(kid);
        for (name, v) in extra.as_object().cloned().unwrap_or_default() {
            if v.is_null() {
                k.as_object_mut().unwrap().remove(&name);
            } else {
                k[name] = v;
            }
        }
        k
    };
    let keys = json!({ "keys": [
        with(&rsa, "enc", json!({ "use": "enc" })),
        with(&rsa, "ops", json!({ "use": null, "key_ops": ["encrypt", "sign"] })),
        with(&rsa, "ps", json!({ "alg": "PS256" })),
        with(&rsa, "hs", json!({ "alg": "HS256" })),
        with(&rsa, "as-ec", json!({ "kty": "EC" })),
        with(&ec, "ec-rs", json!({ "alg": "RS256" })),
        with(&ec, "ec-384", json!({ "crv": "P-384" })),
        with(&ec, "ec-k1", json!({ "crv": "secp256k1" })),
        with(&set["keys"][5], "small", json!({})),
    ]});
    let s = setup_with(keys);
    let payload = claims().to_string();
    for kid in ["enc", "ops", "ps", "hs", "as-ec", "small"] {
        let t = rs256_with(json!({ "alg": "RS256", "kid": kid }), &payload);
        assert_invalid_token(&s, &t, &[]);
    }
    for (alg, kid) in [("ES256", "ec-rs"), ("ES256", "ec-384"), ("ES384", "ec-384"), ("ES256", "ec-k1")] {
        let header = json!({ "alg": alg, "kid": kid }).to_string();
        let t = sign_raw(&key("ec256.pem", A::ES256), A::ES256, &header, &payload);
        assert_invalid_token(&s, &t, &[]);
    }
}

#[test]
fn keys_offered_by_the_token_are_never_fetched_or_used() {
    let s = setup();
    let set = jwks();
    for (name, value) in [
        ("jku", json!(EVIL)),
        ("x5u", json!(EVIL)),
        ("jwk", set["keys"][0].clone()),
        ("x5c", json!(["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"])),
    ] {
        assert_invalid_token(&s, &rs256_header_extra(json!({ name: value })), &[EVIL]);
    }
    assert!(!s.http.asked.lock().unwrap().iter().any(|u| u == EVIL));
}

#[test]
fn crit_of_any_kind_and_b64_false_are_rejected() {
    let s = setup();
    for crit in [json!(["urn:x"]), json!([]), json!(["exp", "exp"]), json!(["alg"]), json!(["b64"]), json!("exp")] {
        assert_invalid_token(&s, &rs256_header_extra(json!({ "crit": crit })), &[]);
    }
    for b in [json!(false), json!("false"), json!(0), Value::Null] {
        assert_invalid_token(&s, &rs256_header_extra(json!({ "b64": b })), &[]);
    }
}

#[test]
fn ecdsa_signatures_out_of_range_or_der_encoded_are_rejected() {
    let s = setup();
    let header = json!({ "alg": "ES256", "kid": "ec-256" }).to_string();
    let good = sign_raw(&key("ec256.pem", A::ES256), A::ES256, &header, &claims().to_string());
    assert!(answer(&s, &format!("Bearer {good}")).is_none());
    let (input, sig) = good.rsplit_once('.').unwrap();
    let raw = URL_SAFE_NO_PAD.decode(sig).unwrap();
    let (r, sv) = raw.split_at(32);
    let n = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551");
    let zero = [0u8; 32];
    let ff = [0xffu8; 32];
    for (rr, ss) in [(&zero[..], sv), (r, &zero[..]), (&n[..], sv), (r, &n[..]), (&ff[..], sv), (r, &ff[..])] {
        assert_invalid_token(&s, &format!("{input}.{}", b64([rr, ss].concat())), &[]);
    }
    assert_invalid_token(&s, &format!("{input}.{}", b64(der(r, sv))), &[]);
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
    let int = |v: &[u8]| {
        let mut v = v.to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        [vec![0x02, v.len() as u8], v].concat()
    };
    let body = [int(r), int(s)].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

#[test]
fn wrongly_typed_or_out_of_range_claims_are_rejected() {
    let s = setup();
    let base = claims().to_string();
    let with = |member: &str, raw: &str| {
        let mut c = claims();
        c[member] = json!("__X__");
        c.to_string().replace("\"__X__\"", raw)
    };
    for (member, raw) in [
        ("exp", "\"1700000300\""),
        ("exp", "\"NaN\""),
        ("exp", "1e400"),
        ("exp", "-1"),
        ("exp", "-1e300"),
        ("exp", "null"),
        ("exp", "[1700000300]"),
        ("nbf", "1e300"),
        ("nbf", "\"0\""),
        ("iat", "1e300"),
        ("iat", "18446744073709551615"),
        ("iss", "[\"https://issuer.example.com\"]"),
        ("aud", "{\"aud\":\"https://api.example.com/mcp\"}"),
        ("scope", "42"),
        ("sub", "7"),
    ] {
        let t = rs256_with(rs256_header(json!({})), &with(member, raw));
        assert_invalid_token(&s, &t, &[]);
    }
    // Floats and huge values are numbers: accepted (RFC 7519 §2 NumericDate may be non-integer).
    for (member, raw) in [("exp", "1700000300.5"), ("exp", "1e300"), ("exp", "18446744073709551615"), ("iat", "-1")] {
        let t = rs256_with(rs256_header(json!({})), &with(member, raw));
        assert!(answer(&s, &format!("Bearer {t}")).is_none(), "{member} {raw}");
    }
    // Duplicate member names, whichever value comes first.
    for extra in [",\"exp\":1", ",\"iss\":\"https://evil.example\"", ",\"aud\":\"x\""] {
        let t = rs256_with(rs256_header(json!({})), &format!("{}{extra}}}", &base[..base.len() - 1]));
        assert_invalid_token(&s, &t, &[]);
    }
    let dup_header = r#"{"alg":"none","alg":"RS256","kid":"rsa-1"}"#;
    assert_invalid_token(&s, &sign_raw(&key("rsa.pem", A::RS256), A::RS256, dup_header, &base), &[]);
}

#[test]
fn non_canonical_base64url_is_rejected() {
    let s = setup();
    let odd = "?>?>?>";
    let t = rs256_with(rs256_header(json!({ "x": odd })), &json!({ "n": odd, "iss": ISSUER }).to_string());
    let parts: Vec<&str> = t.split('.').collect();
    for i in 0..3 {
        let mut p: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        p[i] = p[i].replace('-', "+").replace('_', "/");
        assert_ne!(p[i], parts[i]);
        assert_invalid_token(&s, &p.join("."), &[]);
    }
    let padded = format!("{t}{}", "=".repeat(((4 - parts[2].len() % 4) % 4).max(1)));
    assert_invalid_token(&s, &padded, &[]);
    assert_invalid_format(&s, &format!("Bearer {}.{} .{}", parts[0], parts[1], parts[2]));
}

#[test]
fn hostile_kids_are_rejected_and_not_reflected() {
    let s = setup();
    let long = "k".repeat(10 * 1024);
    for kid in ["../../../../etc/passwd", "x' OR '1'='1'; DROP TABLE keys; --", long.as_str(), "a\"\r\nX-Injected: 1\\"]
    {
        assert_invalid_token(&s, &rs256_header_extra(json!({ "kid": kid })), &[kid]);
    }
}

#[test]
fn oversized_tokens_are_rejected_without_parsing() {
    let s = setup();
    let honest = rs256_header_extra(json!({}));
    let over = format!("{honest}{}", "A".repeat(16 * 1024 + 1 - honest.len()));
    assert_eq!(over.len(), 16 * 1024 + 1);
    assert_invalid_token(&s, &over, &[]);
    assert_invalid_token(&s, &"A".repeat(1024 * 1024), &[]);
    assert!(s.http.asked.lock().unwrap().is_empty());
}

#[test]
fn malformed_authorization_headers_are_invalid_request() {
    let s = setup();
    let t = rs256_header_extra(json!({}));
    for h in [
        format!("Bearer {t}\r\nX-Injected: 1"),
        format!("Bearer {t}\nX"),
        format!("Bearer\t{t}"),
        format!("Bearer {t}\tx"),
        format!("Bearer  {t}"),
        format!("Bearer   {t}"),
        format!("Bearer {t}, Bearer {t}"),
        format!("Bearer {t},Bearer"),
        "Bearer a\"b\\c".to_owned(),
    ] {
        assert_invalid_format(&s, &h);
    }
}

#[test]
fn a_rejected_header_gets_a_fixed_answer_whatever_its_text() {
    // Regression (fuzz target `authorization`, crash-1386322f): the header "Bearer`." is also a
    // substring of a fixed reason ("... not `Bearer`."), which a naive no-reflection check took
    // for an echo. The property that holds: the answer depends on the error, not on the input.
    let s = setup();
    let reference = answer(&s, "Basic x").unwrap();
    for header in ["Bearer`.", "Bearer`", "Basic Bearer`.", "x", "Bearer\u{0}", "\u{feff}Bearer abc"] {
        assert_eq!(answer(&s, header), Some(reference.clone()), "{header:?}");
    }
}
