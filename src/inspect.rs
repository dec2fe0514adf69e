//! Token inspection for humans: the checks of `bearerAuth('jwt')`, one at a time, each with its
//! verdict and reason, for the `mcp-auth-native inspect` command.
//!
//! Every check calls the function the middleware uses ([`jwt::decode`], [`Alg::parse`], the
//! issuer's [`Discovery`](crate::discovery::Discovery), [`Jwks::key_for`],
//! [`PublicKey::verify`](crate::jwk::PublicKey::verify), the [`ClaimRules`](crate::claims::ClaimRules)
//! checks, [`AuthInfo::from_claims`] and the [`Guard`]'s issuer, audience and scope checks), so a
//! token that passes here is one the middleware accepts with the same options.

use crate::algorithm::Alg;
use crate::auth_info::AuthInfo;
use crate::clock::Clock;
use crate::config::{AuthConfig, Mode};
use crate::error::{AuthError, ErrorCode};
use crate::fetch::Fetcher;
use crate::guard::Guard;
use crate::jwks::Jwks;
use crate::jwt;
use crate::options::BearerOptions;
use serde_json::{json, Map, Value};
use std::fmt;
use std::sync::Arc;

/// What to inspect, and against which expectations (the `inspect` command's arguments).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InspectRequest {
    /// The access token.
    pub token: String,
    /// The issuer identifier, exactly as the middleware would be configured with it.
    pub issuer: String,
    /// `oidc` or `oauth`: how the issuer's metadata is discovered. Defaults to `oidc`.
    pub server_type: Option<String>,
    /// Expected `aud` values (any one matches). Defaults to the resource, when one is given.
    pub audience: Vec<String>,
    /// Scopes that must all be granted. Defaults to none.
    pub scopes: Vec<String>,
    /// The protected resource (RFC 8707) the token is meant for. Defaults to none.
    pub resource: Option<String>,
}

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The middleware would accept this aspect of the token.
    Passed,
    /// The middleware would refuse the token for this reason.
    Failed,
    /// Not run: nothing is configured to check, or an earlier check it depends on failed.
    Skipped,
}

impl Status {
    /// `passed`, `failed` or `skipped`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// One check and why it ended so.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Short name: `header`, `algorithm`, `issuer`, `discovery`, `key`, `signature`,
    /// `required claims`, `exp`, `nbf`, `iat`, `claim types`, `audience`, `scopes`.
    pub name: &'static str,
    /// The verdict.
    pub status: Status,
    /// What was found, or why it failed.
    pub detail: String,
}

/// Every check of one token, in the order the middleware runs them.
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    /// The protected header fields the verifier uses.
    pub header: Value,
    /// The (unverified, as decoded) claims.
    pub claims: Map<String, Value>,
    /// The checks.
    pub checks: Vec<Check>,
}

impl Inspection {
    /// Whether the middleware would accept the token: no check failed.
    pub fn accepted(&self) -> bool {
        self.checks.iter().all(|c| c.status != Status::Failed)
    }
}

/// Why nothing could be inspected: each is one line for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InspectError {
    /// An argument is not usable (e.g. the issuer is not a URL).
    BadArgument(String),
    /// The token cannot be decoded as a JWT.
    Malformed(String),
    /// The issuer's metadata could not be fetched or used.
    Issuer(String),
}

impl fmt::Display for InspectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InspectError::BadArgument(m) => write!(f, "invalid argument: {m}"),
            InspectError::Malformed(m) => write!(f, "malformed token: {m}"),
            InspectError::Issuer(m) => write!(f, "issuer problem: {m}"),
        }
    }
}

impl std::error::Error for InspectError {}

/// A failure in words: its reason, else its expected and actual values, else its description.
pub(crate) fn explain(e: &AuthError) -> String {
    if !e.missing_scopes.is_empty() {
        return format!("missing: {}", e.missing_scopes.join(", "));
    }
    match &e.cause {
        Some(Value::String(reason)) => reason.clone(),
        Some(Value::Object(c)) => format!(
            "expected {}, got {}",
            c.get("expected").unwrap_or(&Value::Null),
            c.get("actual").unwrap_or(&Value::Null)
        ),
        _ => e.code.description().to_owned(),
    }
}

pub(crate) fn check(name: &'static str, result: Result<String, AuthError>) -> Check {
    match result {
        Ok(detail) => Check { name, status: Status::Passed, detail },
        Err(e) => Check { name, status: Status::Failed, detail: explain(&e) },
    }
}

pub(crate) fn skipped(name: &'static str, detail: &str) -> Check {
    Check { name, status: Status::Skipped, detail: detail.to_owned() }
}

/// The `MCPAuth` configuration (one issuer, of `server_type`, default `oidc`; under `resource`
/// when one is given) and the common `bearerAuth` options (`resource`, `audience`,
/// `requiredScopes`) that an inspection of a token stands for.
pub(crate) fn middleware_setup(
    issuer: &str,
    server_type: Option<&str>,
    resource: Option<&str>,
    audience: &[String],
    scopes: &[String],
) -> (Value, Map<String, Value>) {
    let server = json!({ "type": server_type.unwrap_or("oidc"), "issuer": issuer });
    let mut options = Map::new();
    let config = match resource {
        Some(resource) => {
            options.insert("resource".into(), json!(resource));
            json!({ "protectedResources": { "metadata": { "resource": resource, "authorizationServers": [server] } } })
        }
        None => json!({ "server": server }),
    };
    if !audience.is_empty() {
        options.insert("audience".into(), json!(audience));
    }
    if !scopes.is_empty() {
        options.insert("requiredScopes".into(), json!(scopes));
    }
    (config, options)
}

/// A configuration error of an inspection: a bad argument, in the words of the middleware.
pub(crate) fn bad_argument(e: crate::error::ConfigError) -> InspectError {
    InspectError::BadArgument(e.message().to_owned())
}

/// The middleware configuration and options the request stands for.
fn guard_for(
    req: &InspectRequest,
    fetcher: Arc<dyn Fetcher>,
    clock: Arc<dyn Clock>,
) -> Result<(AuthConfig, Guard), InspectError> {
    let (config, options) =
        middleware_setup(&req.issuer, req.server_type.as_deref(), req.resource.as_deref(), &req.audience, &req.scopes);
    let config = AuthConfig::parse(&config).map_err(bad_argument)?;
    let options = BearerOptions::parse(Some(&Value::Object(options))).map_err(bad_argument)?;
    let guard = Guard::new(&config, options, true, fetcher, clock).map_err(bad_argument)?;
    Ok((config, guard))
}

/// `t` (seconds since the epoch) as an RFC 3339 UTC date, e.g. `2026-11-26T09:52:26Z`.
pub(crate) fn utc(t: f64) -> String {
    // Days to civil date: H. Hinnant's `civil_from_days`, proleptic Gregorian calendar.
    let secs = t.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3_600, rem % 3_600 / 60, rem % 60)
}

pub(crate) fn seconds(delta: f64) -> String {
    if delta >= 0.0 {
        format!("in {delta:.0} s")
    } else {
        format!("{:.0} s ago", -delta)
    }
}

/// Runs every check of `bearerAuth('jwt')` on `req.token`, fetching the issuer's metadata and
/// key set. Errors only when nothing can be checked: bad arguments, an undecodable token, an
/// issuer whose metadata cannot be fetched.
pub async fn inspect(
    req: &InspectRequest,
    fetcher: Arc<dyn Fetcher>,
    clock: Arc<dyn Clock>,
) -> Result<Inspection, InspectError> {
    let (config, guard) = guard_for(req, fetcher.clone(), clock.clone())?;
    let options = guard.options();
    let token = jwt::decode(&req.token).map_err(|e| InspectError::Malformed(explain(&e)))?;
    let header = json!({ "alg": token.header.alg, "typ": token.header.typ, "kid": token.header.kid });
    let mut checks = vec![Check {
        name: "header",
        status: Status::Passed,
        detail: format!(
            "alg {}, typ {}, kid {}",
            token.header.alg,
            token.header.typ.as_deref().unwrap_or("(none)"),
            token.header.kid.as_deref().unwrap_or("(none)")
        ),
    }];
    let alg = Alg::parse(&token.header.alg).filter(|a| options.algorithms.contains(a));
    checks.push(match alg {
        Some(a) => check("algorithm", Ok(format!("{} is allowed", a.as_str()))),
        None => check(
            "algorithm",
            Err(AuthError::with_reason(
                ErrorCode::InvalidToken,
                format!("`{}` is not one of the allowed algorithms", token.header.alg),
            )),
        ),
    });
    let iss = token.claims.get("iss").and_then(Value::as_str);
    checks.push(match iss {
        Some(iss) => check("issuer", guard.check_issuer(iss).map(|()| format!("{iss} is trusted"))),
        None => check("issuer", Err(AuthError::with_reason(ErrorCode::InvalidToken, "The token has no `iss` string."))),
    });

    let server = match &config.mode {
        Mode::Legacy(server) => server.clone(),
        Mode::Resources(list) => list
            .iter()
            .flat_map(|r| r.auth_servers.iter())
            .next()
            .cloned()
            .ok_or_else(|| InspectError::BadArgument("no authorization server".into()))?,
    };
    let metadata = server
        .discovery
        .metadata(fetcher.as_ref(), clock.as_ref(), options.jwks.timeout)
        .await
        .map_err(|e| InspectError::Issuer(format!("{}: {}", req.issuer, explain(&e))))?;
    let Some(jwks_uri) = metadata.jwks_uri.clone() else {
        return Err(InspectError::Issuer(format!("{} publishes no `jwks_uri`", req.issuer)));
    };
    checks.push(check("discovery", Ok(format!("{} gives jwks_uri {jwks_uri}", server.discovery.url().unwrap_or("")))));

    match alg {
        None => {
            checks.push(skipped("key", "needs an allowed algorithm"));
            checks.push(skipped("signature", "needs an allowed algorithm"));
        }
        Some(alg) => {
            let jwks = Jwks::new(jwks_uri, options.jwks, fetcher, clock.clone());
            match jwks.key_for(token.header.kid.as_deref(), alg).await {
                Ok(key) => {
                    let kid = token.header.kid.as_deref().unwrap_or("(the only fitting key)");
                    checks.push(check("key", Ok(format!("{kid} found in the issuer's JWKS"))));
                    let ok = key.verify(alg, token.signing_input.as_bytes(), &token.signature);
                    checks.push(match ok {
                        true => check("signature", Ok(format!("verified with {}", alg.as_str()))),
                        false => check(
                            "signature",
                            Err(AuthError::with_reason(ErrorCode::InvalidToken, "The token signature is invalid.")),
                        ),
                    });
                }
                Err(e) => {
                    checks.push(check("key", Err(e)));
                    checks.push(skipped("signature", "needs a key"));
                }
            }
        }
    }

    let rules = &options.claims;
    let claims = &token.claims;
    let now = clock.unix_seconds();
    let skew = format!("clock skew allowed {} s", rules.clock_tolerance);
    checks.push(check("required claims", rules.check_required(claims).map(|()| rules.required.join(", "))));
    let time = |name: &str| claims.get(name).and_then(Value::as_f64);
    let when = |name: &str| match time(name) {
        Some(t) => format!("{} ({}; {skew})", utc(t), seconds(t - now)),
        None => "absent".to_owned(),
    };
    checks.push(check("exp", rules.check_exp(claims, now).map(|()| when("exp"))));
    checks.push(check("nbf", rules.check_nbf(claims, now).map(|()| when("nbf"))));
    checks.push(check("iat", rules.check_iat(claims, now).map(|()| when("iat"))));

    match AuthInfo::from_claims(&req.token, claims.clone()) {
        Ok(info) => {
            checks.push(check("claim types", Ok("iss, sub, aud, exp and scopes are well formed".into())));
            checks.push(match guard.expected_audience() {
                None => skipped("audience", "not checked (no --audience or --resource given)"),
                Some(expected) => check(
                    "audience",
                    guard.check_audience(&info).map(|()| format!("matches {}", expected.configured.join(", "))),
                ),
            });
            let granted = if info.scopes.is_empty() { "(none)".to_owned() } else { info.scopes.join(" ") };
            checks.push(match options.required_scopes.is_empty() {
                true => skipped("scopes", &format!("none required; granted: {granted}")),
                false => check("scopes", guard.check_scopes(&info).map(|()| format!("granted: {granted}"))),
            });
        }
        Err(e) => {
            checks.push(check("claim types", Err(e)));
            checks.push(skipped("audience", "needs well-formed claims"));
            checks.push(skipped("scopes", "needs well-formed claims"));
        }
    }
    Ok(Inspection { header, claims: token.claims.clone(), checks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::fetch::fake::FakeHttp;
    use crate::fetch::FetchError;
    use crate::jwk::tests::{fixture, sign};
    use jsonwebtoken::Algorithm as A;

    const ISSUER: &str = "https://issuer.example.com/t";
    const DISCOVERY: &str = "https://issuer.example.com/t/.well-known/openid-configuration";
    const JWKS: &str = "https://issuer.example.com/t/jwks";
    const RESOURCE: &str = "https://api.example.com/mcp";
    const NOW: f64 = 1_700_000_000.0;

    fn http() -> Arc<FakeHttp> {
        let http = Arc::new(FakeHttp::default());
        http.answer(DISCOVERY, Ok(json!({ "issuer": ISSUER, "jwks_uri": JWKS }).to_string().into_bytes()));
        http.answer(JWKS, Ok(fixture("jwks.json")));
        http
    }

    fn token(extra: Value) -> String {
        let mut c =
            json!({ "iss": ISSUER, "sub": "u1", "aud": RESOURCE, "exp": NOW + 300.0, "iat": NOW, "scope": "read" });
        if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), extra) {
            c.extend(extra);
        }
        sign("rsa.pem", A::RS256, Some("rsa-1"), &c)
    }

    fn request(token: String) -> InspectRequest {
        InspectRequest {
            token,
            issuer: ISSUER.into(),
            resource: Some(RESOURCE.into()),
            scopes: vec!["read".into()],
            ..Default::default()
        }
    }

    async fn run(req: &InspectRequest, http: Arc<FakeHttp>) -> Result<Inspection, InspectError> {
        inspect(req, http, Arc::new(ManualClock::new(NOW))).await
    }

    fn failed(i: &Inspection) -> Vec<&'static str> {
        i.checks.iter().filter(|c| c.status == Status::Failed).map(|c| c.name).collect()
    }

    #[tokio::test]
    async fn a_valid_token_passes_every_check() {
        let i = run(&request(token(json!({}))), http()).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(i.accepted(), "{:?}", i.checks);
        let names: Vec<_> = i.checks.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "header",
                "algorithm",
                "issuer",
                "discovery",
                "key",
                "signature",
                "required claims",
                "exp",
                "nbf",
                "iat",
                "claim types",
                "audience",
                "scopes"
            ]
        );
        assert!(i.checks.iter().all(|c| c.status == Status::Passed), "{:?}", i.checks);
        assert_eq!(i.claims.get("sub"), Some(&json!("u1")));
    }

    #[tokio::test]
    async fn each_failure_is_named_by_its_check() {
        let cases = [
            (token(json!({ "exp": NOW - 61.0 })), vec!["exp"]),
            (token(json!({ "nbf": NOW + 61.0 })), vec!["nbf"]),
            (token(json!({ "aud": "https://other.example.com" })), vec!["audience"]),
            (token(json!({ "scope": "write" })), vec!["scopes"]),
            (token(json!({ "iss": "https://evil.example.com" })), vec!["issuer"]),
            (
                sign(
                    "rsa2.pem",
                    A::RS256,
                    Some("rsa-1"),
                    &json!({ "iss": ISSUER, "sub": "u", "exp": NOW, "aud": RESOURCE, "scope": "read" }),
                ),
                vec!["signature"],
            ),
        ];
        for (t, expected) in cases {
            let i = run(&request(t), http()).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(failed(&i), expected);
            assert!(!i.accepted());
        }
    }

    #[tokio::test]
    async fn the_clock_skew_is_that_of_the_middleware() {
        let i = run(&request(token(json!({ "exp": NOW - 59.0 }))), http()).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(i.accepted());
        let exp = i.checks.iter().find(|c| c.name == "exp").map(|c| c.detail.clone()).unwrap_or_default();
        assert!(exp.contains("59 s ago") && exp.contains("clock skew allowed 60 s"), "{exp}");
    }

    #[test]
    fn dates_are_shown_in_utc() {
        assert_eq!(utc(0.0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(NOW), "2023-11-14T22:13:20Z");
        assert_eq!(utc(951_782_400.0), "2000-02-29T00:00:00Z");
        assert_eq!(utc(4_102_444_799.5), "2099-12-31T23:59:59Z");
    }

    #[tokio::test]
    async fn a_missing_scope_lists_what_is_missing() {
        let mut req = request(token(json!({})));
        req.scopes = vec!["read".into(), "write".into()];
        let i = run(&req, http()).await.unwrap_or_else(|e| panic!("{e}"));
        let scopes = i.checks.iter().find(|c| c.name == "scopes").cloned();
        assert_eq!(scopes.map(|c| (c.status, c.detail)), Some((Status::Failed, "missing: write".to_owned())));
    }

    #[tokio::test]
    async fn without_audience_or_resource_the_audience_is_skipped() {
        let mut req = request(token(json!({ "aud": "anything" })));
        req.resource = None;
        let i = run(&req, http()).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(i.accepted());
        assert_eq!(i.checks.iter().find(|c| c.name == "audience").map(|c| c.status), Some(Status::Skipped));
    }

    #[tokio::test]
    async fn nothing_is_inspected_without_a_usable_issuer_or_token() {
        let mut bad_url = request(token(json!({})));
        bad_url.issuer = "not a url".into();
        assert!(matches!(run(&bad_url, http()).await, Err(InspectError::BadArgument(_))));
        let malformed = request("abc.def".into());
        assert!(matches!(run(&malformed, http()).await, Err(InspectError::Malformed(_))));
        let down = http();
        down.answer(DISCOVERY, Err(FetchError::Unreachable("connection refused".into())));
        let e = run(&request(token(json!({}))), down).await.err();
        assert!(matches!(&e, Some(InspectError::Issuer(m)) if m.contains("connection refused")), "{e:?}");
    }
}
