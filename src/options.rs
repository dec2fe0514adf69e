//! The options of `bearerAuth(mode, options)`, checked when given.

use crate::algorithm::Alg;
use crate::claims::ClaimRules;
use crate::config::{deny_unknown, object, present, type_error};
use crate::dpop::{DpopMode, DpopOptions, ReplayStoreOption};
use crate::error::ConfigError;
use crate::jwks::JwksOptions;
use crate::scopes::{OperationScopes, ScopeHierarchy, OFFLINE_ACCESS};
use serde_json::{Map, Value};
use std::time::Duration;

/// What the `aud` claim is checked against.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum AudienceOption {
    /// The resource, when one is given; else no check. The default.
    #[default]
    Resource,
    /// `audience: false`: no check.
    Off,
    /// Any one of these, configured as an array.
    Values(Vec<String>),
    /// This one, configured as a string.
    One(String),
}

/// Checked `bearerAuth` options.
#[derive(Debug, Clone, PartialEq)]
pub struct BearerOptions {
    /// Which configured protected resource the endpoint belongs to. Required with `protectedResources`.
    pub resource: Option<String>,
    /// Expected audience. Defaults to the resource.
    pub audience: AudienceOption,
    /// Scopes that must all be granted. Defaults to none.
    pub required_scopes: Vec<String>,
    /// Whether JSON error bodies carry `cause`. Defaults to `false`.
    pub show_error_details: bool,
    /// How long a custom verifier may take. Defaults to `10000` ms.
    pub verify_timeout: Duration,
    /// Allowed JWS algorithms. Defaults to every asymmetric algorithm in [`Alg::ALL`].
    pub algorithms: Vec<Alg>,
    /// Required `typ` header, compared case-insensitively without `application/`. Defaults to none.
    pub typ: Option<String>,
    /// Claim checks.
    pub claims: ClaimRules,
    /// Remote key set timing.
    pub jwks: JwksOptions,
    /// `toolScopes` and whether `scopesFor` is set. Defaults to none.
    pub operations: OperationScopes,
    /// `scopeHierarchy`, closed. Defaults to none.
    pub hierarchy: ScopeHierarchy,
    /// `dpop`: DPoP proofs (RFC 9449). `None` without the option or with `mode: 'disabled'`.
    pub dpop: Option<DpopOptions>,
}

/// The largest `dpop.iatWindow`: a proof should be short-lived, and the replay store keeps every
/// `jti` that long. 3600 s.
pub const DPOP_MAX_IAT_WINDOW: Duration = Duration::from_secs(3600);

const DPOP: &[&str] = &["mode", "algorithms", "iatWindow", "nonce", "replayStore"];
const REPLAY_STORE: &[&str] = &["redis"];

/// Checks `options.dpop`; `Ok(None)` for `mode: 'disabled'` (every field is still checked).
pub fn parse_dpop(v: &Value) -> Result<Option<DpopOptions>, ConfigError> {
    let m = object(v, "options.dpop")?;
    deny_unknown(m, "options.dpop", DPOP)?;
    let mut o = DpopOptions::default();
    let mut disabled = false;
    if let Some(mode) = present(m, "mode") {
        match mode.as_str() {
            Some("allowed") => o.mode = DpopMode::Allowed,
            Some("required") => o.mode = DpopMode::Required,
            Some("disabled") => disabled = true,
            _ => return Err(type_error("options.dpop.mode", "'allowed', 'required' or 'disabled'")),
        }
    }
    if let Some(a) = present(m, "algorithms") {
        let names = string_list(a, "options.dpop.algorithms")?;
        if names.is_empty() {
            return Err(type_error("options.dpop.algorithms", "a non-empty array of algorithm names"));
        }
        let mut algs: Vec<Alg> = Vec::with_capacity(names.len());
        for n in &names {
            let alg = Alg::parse(n).ok_or_else(|| {
                ConfigError::Type(format!(
                    "`options.dpop.algorithms` entry {n:?} is not supported; use asymmetric algorithms: {}.",
                    Alg::ALL.map(Alg::as_str).join(", ")
                ))
            })?;
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
        o.algorithms = algs;
    }
    if let Some(w) = present(m, "iatWindow") {
        let secs = parse_seconds(w, "options.dpop.iatWindow")?;
        let max = DPOP_MAX_IAT_WINDOW.as_secs_f64();
        if secs < 1.0 || secs > max {
            return Err(type_error("options.dpop.iatWindow", &format!("a number of seconds from 1 to {max}")));
        }
        o.iat_window = Duration::from_secs_f64(secs);
    }
    if let Some(n) = present(m, "nonce") {
        o.nonce = n.as_bool().ok_or_else(|| type_error("options.dpop.nonce", "a boolean"))?;
    }
    if let Some(r) = present(m, "replayStore") {
        o.replay_store = match r {
            Value::String(s) if s == "memory" => ReplayStoreOption::Memory,
            Value::Object(store) => {
                deny_unknown(store, "options.dpop.replayStore", REPLAY_STORE)?;
                let url = present(store, "redis").and_then(Value::as_str).ok_or_else(|| {
                    type_error("options.dpop.replayStore.redis", "a `redis://` or `rediss://` URL string")
                })?;
                ReplayStoreOption::Redis(redis_url(url)?)
            }
            _ => return Err(type_error("options.dpop.replayStore", "'memory' or `{ redis: 'redis://…' }`")),
        };
    }
    Ok(if disabled { None } else { Some(o) })
}

/// A Redis URL must be `redis://` or `rediss://` with a host; the URL itself is never echoed
/// (it may carry a password).
fn redis_url(s: &str) -> Result<String, ConfigError> {
    let ok = url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "redis" | "rediss") && u.has_host());
    if !ok {
        return Err(ConfigError::Invalid(
            "`options.dpop.replayStore.redis` must be a `redis://` or `rediss://` URL with a host.".into(),
        ));
    }
    Ok(s.to_owned())
}

impl Default for BearerOptions {
    fn default() -> Self {
        Self {
            resource: None,
            audience: AudienceOption::Resource,
            required_scopes: Vec::new(),
            show_error_details: false,
            verify_timeout: Duration::from_millis(10_000),
            algorithms: Alg::ALL.to_vec(),
            typ: None,
            claims: ClaimRules::default(),
            jwks: JwksOptions::default(),
            operations: OperationScopes::default(),
            hierarchy: ScopeHierarchy::default(),
            dpop: None,
        }
    }
}

/// Parses a duration in seconds: a number, or a string such as `"30s"`, `"1m"`, `"2 hours"`.
pub fn parse_seconds(v: &Value, path: &str) -> Result<f64, ConfigError> {
    let what = "a non-negative number of seconds or a duration string such as \"30s\" or \"5m\"";
    let secs = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => duration_string(s),
        _ => None,
    };
    secs.filter(|s| s.is_finite() && *s >= 0.0).ok_or_else(|| type_error(path, what))
}

fn duration_string(s: &str) -> Option<f64> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().ok()?;
    let factor = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        "w" | "week" | "weeks" => 604800.0,
        _ => return None,
    };
    Some(value * factor)
}

/// The longest duration an option takes; larger values (and `Infinity`) mean "never". 10 years.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

fn millis(v: &Value, path: &str) -> Result<Duration, ConfigError> {
    match v.as_f64() {
        Some(ms) if ms >= 0.0 => {
            Ok(Duration::try_from_secs_f64(ms / 1000.0).map_or(MAX_DURATION, |d| d.min(MAX_DURATION)))
        }
        _ => Err(type_error(path, "a non-negative number of milliseconds")),
    }
}

fn string_list(v: &Value, path: &str) -> Result<Vec<String>, ConfigError> {
    v.as_array()
        .and_then(|a| a.iter().map(|s| s.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>())
        .ok_or_else(|| type_error(path, "an array of strings"))
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

fn scope_list(v: &Value, path: &str) -> Result<Vec<String>, ConfigError> {
    let list = string_list(v, path)?;
    if let Some(bad) = list.iter().find(|s| !is_scope_token(s)) {
        return Err(ConfigError::Type(format!(
            "`{path}` entry {bad:?} is not an RFC 6749 scope token (no spaces, quotes, backslashes or control characters)."
        )));
    }
    Ok(list)
}

/// `{ [scope or tool]: scope[] }`, in the order given.
fn scope_map(v: &Value, path: &str) -> Result<Vec<(String, Vec<String>)>, ConfigError> {
    object(v, path)?.iter().map(|(k, v)| Ok((k.clone(), scope_list(v, &format!("{path}.{k}"))?))).collect()
}

const TOP: &[&str] = &[
    "resource",
    "audience",
    "requiredScopes",
    "showErrorDetails",
    "verifyTimeout",
    "jwtVerify",
    "remoteJwkSet",
    "remoteJwtSet",
    "toolScopes",
    "scopesFor",
    "scopeHierarchy",
    "dpop",
];
const JWT_VERIFY: &[&str] = &["clockTolerance", "algorithms", "typ", "maxTokenAge", "requiredClaims"];
const REMOTE: &[&str] = &["timeoutDuration", "cooldownDuration", "cacheMaxAge"];

impl BearerOptions {
    /// Checks `bearerAuth` options; absent means all defaults.
    pub fn parse(v: Option<&Value>) -> Result<BearerOptions, ConfigError> {
        let mut o = BearerOptions::default();
        let map = match v {
            None | Some(Value::Null) => return Ok(o),
            Some(v) => object(v, "options")?,
        };
        deny_unknown(map, "options", TOP)?;
        if let Some(r) = present(map, "resource") {
            o.resource = Some(r.as_str().ok_or_else(|| type_error("options.resource", "a string"))?.to_owned());
        }
        if let Some(a) = present(map, "audience") {
            o.audience = match a {
                Value::Bool(false) => AudienceOption::Off,
                Value::String(s) if !s.is_empty() => AudienceOption::One(s.clone()),
                Value::Array(_) => {
                    let list = string_list(a, "options.audience")?;
                    if list.is_empty() || list.iter().any(String::is_empty) {
                        return Err(type_error("options.audience", "a non-empty list of non-empty strings"));
                    }
                    AudienceOption::Values(list)
                }
                _ => return Err(type_error("options.audience", "a string, an array of strings, or false")),
            };
        }
        if let Some(s) = present(map, "requiredScopes") {
            o.required_scopes = scope_list(s, "options.requiredScopes")?;
        }
        if let Some(t) = present(map, "toolScopes") {
            o.operations.tools = scope_map(t, "options.toolScopes")?.into_iter().collect();
        }
        if let Some(f) = present(map, "scopesFor") {
            // The glue checks that it is a function and hands over `true` in its place.
            o.operations.scopes_for = f.as_bool().ok_or_else(|| type_error("options.scopesFor", "a function"))?;
        }
        if let Some(h) = present(map, "scopeHierarchy") {
            let edges = scope_map(h, "options.scopeHierarchy")?;
            if let Some((bad, _)) = edges.iter().find(|(k, _)| !is_scope_token(k)) {
                return Err(ConfigError::Type(format!(
                    "`options.scopeHierarchy` key {bad:?} is not an RFC 6749 scope token (no spaces, quotes, backslashes or control characters)."
                )));
            }
            o.hierarchy = ScopeHierarchy::new(&edges);
        }
        if let Some(d) = present(map, "dpop") {
            o.dpop = parse_dpop(d)?;
        }
        if let Some(b) = present(map, "showErrorDetails") {
            o.show_error_details = b.as_bool().ok_or_else(|| type_error("options.showErrorDetails", "a boolean"))?;
        }
        if let Some(t) = present(map, "verifyTimeout") {
            o.verify_timeout = millis(t, "options.verifyTimeout")?;
            if o.verify_timeout.is_zero() {
                return Err(type_error("options.verifyTimeout", "a positive number of milliseconds"));
            }
        }
        if let Some(j) = present(map, "jwtVerify") {
            o.parse_jwt_verify(object(j, "options.jwtVerify")?)?;
        }
        let remote = match (present(map, "remoteJwkSet"), present(map, "remoteJwtSet")) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Type(
                    "Give `options.remoteJwkSet` or its alias `options.remoteJwtSet`, not both.".into(),
                ))
            }
            (Some(r), None) => Some(("options.remoteJwkSet", r)),
            (None, Some(r)) => Some(("options.remoteJwtSet", r)),
            (None, None) => None,
        };
        if let Some((path, r)) = remote {
            let m = object(r, path)?;
            deny_unknown(m, path, REMOTE)?;
            if let Some(v) = present(m, "timeoutDuration") {
                o.jwks.timeout = millis(v, &format!("{path}.timeoutDuration"))?;
            }
            if let Some(v) = present(m, "cooldownDuration") {
                o.jwks.cooldown = millis(v, &format!("{path}.cooldownDuration"))?;
            }
            if let Some(v) = present(m, "cacheMaxAge") {
                o.jwks.max_age = millis(v, &format!("{path}.cacheMaxAge"))?;
            }
        }
        Ok(o)
    }

    /// Advice about the options, one sentence each: `offline_access` among the required scopes.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.required_scopes.iter().any(|s| s == OFFLINE_ACCESS) {
            out.push("`requiredScopes` lists `offline_access`: it asks for a refresh token, not for access, so challenges leave it out (MCP authorization: SHOULD NOT).".to_owned());
        }
        if self.operations.tools.values().flatten().any(|s| s == OFFLINE_ACCESS) {
            out.push("`toolScopes` lists `offline_access`: it asks for a refresh token, not for access, so challenges leave it out (MCP authorization: SHOULD NOT).".to_owned());
        }
        out
    }

    /// Checks the options of `bearerAuth(verify, options)`: the JWT-only options do not apply.
    pub fn parse_custom(v: Option<&Value>) -> Result<BearerOptions, ConfigError> {
        if let Some(Value::Object(map)) = v {
            if let Some(key) =
                ["jwtVerify", "remoteJwkSet", "remoteJwtSet"].into_iter().find(|k| present(map, k).is_some())
            {
                return Err(ConfigError::Type(format!(
                    "`options.{key}` applies to `bearerAuth('jwt')` only, not to a custom verification function."
                )));
            }
            if present(map, "dpop").is_some() {
                return Err(ConfigError::Type(
                    "`options.dpop` applies to `bearerAuth('jwt')` and `bearerAuth('introspection')`, not to a custom verification function.".into(),
                ));
            }
        }
        Self::parse(v)
    }

    fn parse_jwt_verify(&mut self, m: &Map<String, Value>) -> Result<(), ConfigError> {
        deny_unknown(m, "options.jwtVerify", JWT_VERIFY)?;
        if let Some(v) = present(m, "clockTolerance") {
            self.claims.clock_tolerance = parse_seconds(v, "options.jwtVerify.clockTolerance")?;
        }
        if let Some(v) = present(m, "maxTokenAge") {
            self.claims.max_token_age = Some(parse_seconds(v, "options.jwtVerify.maxTokenAge")?);
        }
        if let Some(v) = present(m, "algorithms") {
            let names = string_list(v, "options.jwtVerify.algorithms")?;
            if names.is_empty() {
                return Err(type_error("options.jwtVerify.algorithms", "a non-empty array of algorithm names"));
            }
            self.algorithms = names
                .iter()
                .map(|n| {
                    Alg::parse(n).ok_or_else(|| {
                        ConfigError::Type(format!(
                            "`options.jwtVerify.algorithms` entry {n:?} is not supported; use asymmetric algorithms: {}.",
                            Alg::ALL.map(Alg::as_str).join(", ")
                        ))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = present(m, "typ") {
            match v.as_str() {
                Some(t) if !t.is_empty() => self.typ = Some(t.to_owned()),
                _ => return Err(type_error("options.jwtVerify.typ", "a non-empty string such as \"at+jwt\"")),
            }
        }
        if let Some(v) = present(m, "requiredClaims") {
            let mut claims = string_list(v, "options.jwtVerify.requiredClaims")?;
            if !claims.iter().any(|c| c == "iss") {
                claims.insert(0, "iss".into());
            }
            self.claims.required = claims;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<BearerOptions, String> {
        BearerOptions::parse(Some(&v)).map_err(|e| e.message().to_owned())
    }

    #[test]
    fn per_operation_options_are_read_and_checked() {
        let o = parse(json!({ "toolScopes": { "wipe": ["admin"] }, "scopesFor": true,
            "scopeHierarchy": { "root": ["admin"] }, "audience": "api://one" }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.operations.tools.get("wipe").map(Vec::as_slice), Some(&["admin".to_owned()][..]));
        assert!(o.operations.scopes_for && o.operations.is_active());
        assert!(o.hierarchy.covers(&["root".to_owned()], "admin"));
        assert_eq!(o.audience, AudienceOption::One("api://one".into()));
        for (bad, message) in [
            (json!({ "toolScopes": { "t": "a" } }), "`options.toolScopes.t` must be an array of strings."),
            (
                json!({ "toolScopes": { "t": ["a b"] } }),
                "`options.toolScopes.t` entry \"a b\" is not an RFC 6749 scope token",
            ),
            (json!({ "scopesFor": "f" }), "`options.scopesFor` must be a function."),
            (
                json!({ "scopeHierarchy": { "a\"b": ["c"] } }),
                "`options.scopeHierarchy` key \"a\\\"b\" is not an RFC 6749 scope token",
            ),
        ] {
            let got = parse(bad.clone()).err().unwrap_or_default();
            assert!(got.starts_with(message), "{bad}: {got}");
        }
        let warned = parse(json!({ "requiredScopes": ["offline_access"], "toolScopes": { "t": ["offline_access"] } }));
        assert_eq!(warned.map(|o| o.warnings().len()), Ok(2));
    }

    #[test]
    fn absent_options_are_the_documented_defaults() {
        let o = BearerOptions::parse(None).unwrap_or_default();
        assert_eq!(o.claims.clock_tolerance, 60.0);
        assert_eq!(o.claims.required, ["iss", "sub", "exp"]);
        assert_eq!(o.jwks, JwksOptions::default());
        assert_eq!(o.verify_timeout, Duration::from_secs(10));
        assert_eq!(o.algorithms.len(), 9);
        assert_eq!(o.audience, AudienceOption::Resource);
    }

    #[test]
    fn every_option_is_read() {
        let o = parse(json!({
            "resource": "https://r", "audience": ["a", "b"], "requiredScopes": ["read", "write"],
            "showErrorDetails": true, "verifyTimeout": 2500,
            "jwtVerify": { "clockTolerance": "1m", "algorithms": ["ES256"], "typ": "at+jwt",
                           "maxTokenAge": 300, "requiredClaims": ["exp"] },
            "remoteJwtSet": { "timeoutDuration": 100, "cooldownDuration": 200, "cacheMaxAge": 300 }
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.resource.as_deref(), Some("https://r"));
        assert_eq!(o.audience, AudienceOption::Values(vec!["a".into(), "b".into()]));
        assert_eq!(o.required_scopes, ["read", "write"]);
        assert!(o.show_error_details);
        assert_eq!(o.verify_timeout, Duration::from_millis(2500));
        assert_eq!(o.claims.clock_tolerance, 60.0);
        assert_eq!(o.algorithms, [Alg::ES256]);
        assert_eq!(o.typ.as_deref(), Some("at+jwt"));
        assert_eq!(o.claims.max_token_age, Some(300.0));
        assert_eq!(o.claims.required, ["iss", "exp"]);
        assert_eq!(o.jwks.timeout, Duration::from_millis(100));
        assert_eq!(o.jwks.cooldown, Duration::from_millis(200));
        assert_eq!(o.jwks.max_age, Duration::from_millis(300));
    }

    #[test]
    fn custom_mode_refuses_jwt_only_options() {
        for key in ["jwtVerify", "remoteJwkSet", "remoteJwtSet"] {
            let e = BearerOptions::parse_custom(Some(&json!({ key: {} }))).err();
            assert!(matches!(&e, Some(ConfigError::Type(m)) if m.contains(key)), "{key}: {e:?}");
        }
        let o = BearerOptions::parse_custom(Some(&json!({ "verifyTimeout": 50, "requiredScopes": ["a"] })));
        assert_eq!(o.map(|o| o.verify_timeout).ok(), Some(Duration::from_millis(50)));
    }

    #[test]
    fn huge_durations_saturate_instead_of_overflowing() {
        let o = parse(json!({ "remoteJwkSet": { "timeoutDuration": 1e300, "cacheMaxAge": f64::MAX } }));
        let o = o.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((o.jwks.timeout, o.jwks.max_age), (MAX_DURATION, MAX_DURATION));
        assert!(parse(json!({ "remoteJwkSet": { "cooldownDuration": -1 } })).is_err());
    }

    #[test]
    fn audience_false_turns_the_check_off() {
        assert_eq!(parse(json!({ "audience": false })).map(|o| o.audience), Ok(AudienceOption::Off));
        assert!(parse(json!({ "audience": true })).is_err());
    }

    #[test]
    fn duration_strings_are_understood() {
        for (s, secs) in [("30s", 30.0), ("5 m", 300.0), ("2 hours", 7200.0), ("1.5s", 1.5), ("10", 10.0)] {
            assert_eq!(parse_seconds(&json!(s), "x"), Ok(secs), "{s}");
        }
        for bad in [json!("soon"), json!("-5s"), json!(-1), json!(true), json!("5 lightyears")] {
            assert!(parse_seconds(&bad, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn unknown_option_names_are_rejected_with_their_path() {
        assert!(parse(json!({ "requiredScope": ["a"] })).unwrap_err().contains("options.requiredScope"));
        assert!(parse(json!({ "jwtVerify": { "clockTolerence": 5 } }))
            .unwrap_err()
            .contains("options.jwtVerify.clockTolerence"));
        assert!(parse(json!({ "remoteJwkSet": { "timeout": 5 } }))
            .unwrap_err()
            .contains("options.remoteJwkSet.timeout"));
    }

    #[test]
    fn symmetric_and_unsigned_algorithms_cannot_be_allowed() {
        for alg in ["none", "HS256"] {
            assert!(parse(json!({ "jwtVerify": { "algorithms": [alg] } })).unwrap_err().contains(alg));
        }
    }

    #[test]
    fn scopes_must_be_scope_tokens() {
        for bad in ["a b", "a\"b", "a\\b", "", "a\nb"] {
            assert!(parse(json!({ "requiredScopes": [bad] })).is_err(), "{bad:?}");
        }
        assert!(parse(json!({ "requiredScopes": ["read:notes", "https://x/y"] })).is_ok());
    }

    #[test]
    fn dpop_options_default_to_allowed_mode_with_the_contract_algorithms() {
        let o = parse(json!({ "dpop": {} })).unwrap_or_else(|e| panic!("{e}"));
        let d = o.dpop.unwrap_or_else(|| panic!("off"));
        assert_eq!(d, DpopOptions::default());
        assert_eq!(d.mode, DpopMode::Allowed);
        assert_eq!(d.algorithms, [Alg::ES256, Alg::ES384, Alg::EdDSA, Alg::RS256, Alg::PS256]);
        assert_eq!(
            (d.iat_window, d.nonce, d.replay_store),
            (Duration::from_secs(300), false, ReplayStoreOption::Memory)
        );
        assert_eq!(parse(json!({})).map(|o| o.dpop), Ok(None), "off without the option");
    }

    #[test]
    fn every_dpop_option_is_read_and_disabled_turns_it_off() {
        let o = parse(json!({ "dpop": { "mode": "required", "algorithms": ["EdDSA", "ES256", "EdDSA"],
            "iatWindow": "2m", "nonce": true, "replayStore": { "redis": "rediss://:pw@cache.internal:6380/2" } } }))
        .unwrap_or_else(|e| panic!("{e}"));
        let d = o.dpop.unwrap_or_else(|| panic!("off"));
        assert_eq!(d.mode, DpopMode::Required);
        assert_eq!(d.algorithms, [Alg::EdDSA, Alg::ES256], "duplicates dropped");
        assert_eq!((d.iat_window, d.nonce), (Duration::from_secs(120), true));
        assert_eq!(d.replay_store, ReplayStoreOption::Redis("rediss://:pw@cache.internal:6380/2".into()));
        let off = parse(json!({ "dpop": { "mode": "disabled", "nonce": true } }));
        assert_eq!(off.map(|o| o.dpop), Ok(None));
        assert!(parse(json!({ "dpop": { "mode": "disabled", "nonce": "yes" } })).is_err(), "still checked");
    }

    #[test]
    fn bad_dpop_options_name_their_field_and_never_echo_a_redis_url() {
        for (bad, message) in [
            (json!({ "dpop": true }), "`options.dpop` must be an object."),
            (json!({ "dpop": { "nonces": true } }), "Unknown option `options.dpop.nonces`"),
            (
                json!({ "dpop": { "mode": "optional" } }),
                "`options.dpop.mode` must be 'allowed', 'required' or 'disabled'.",
            ),
            (json!({ "dpop": { "algorithms": [] } }), "`options.dpop.algorithms` must be a non-empty array"),
            (
                json!({ "dpop": { "algorithms": ["HS256"] } }),
                "`options.dpop.algorithms` entry \"HS256\" is not supported",
            ),
            (
                json!({ "dpop": { "algorithms": ["none"] } }),
                "`options.dpop.algorithms` entry \"none\" is not supported",
            ),
            (
                json!({ "dpop": { "iatWindow": 0 } }),
                "`options.dpop.iatWindow` must be a number of seconds from 1 to 3600.",
            ),
            (
                json!({ "dpop": { "iatWindow": 7200 } }),
                "`options.dpop.iatWindow` must be a number of seconds from 1 to 3600.",
            ),
            (json!({ "dpop": { "iatWindow": "soon" } }), "`options.dpop.iatWindow` must be a non-negative number"),
            (json!({ "dpop": { "nonce": 1 } }), "`options.dpop.nonce` must be a boolean."),
            (json!({ "dpop": { "replayStore": "redis" } }), "`options.dpop.replayStore` must be 'memory' or"),
            (
                json!({ "dpop": { "replayStore": { "url": "redis://x" } } }),
                "Unknown option `options.dpop.replayStore.url`",
            ),
            (
                json!({ "dpop": { "replayStore": { "redis": 6379 } } }),
                "`options.dpop.replayStore.redis` must be a `redis://`",
            ),
            (
                json!({ "dpop": { "replayStore": { "redis": "http://:secret@host" } } }),
                "`options.dpop.replayStore.redis` must be a `redis://` or `rediss://` URL with a host.",
            ),
        ] {
            let got = parse(bad.clone()).err().unwrap_or_default();
            assert!(got.starts_with(message), "{bad}: {got}");
            assert!(!got.contains("secret"), "{got}");
        }
        let custom = BearerOptions::parse_custom(Some(&json!({ "dpop": {} }))).err();
        assert!(custom.is_some_and(|e| e.message().contains("`options.dpop` applies to `bearerAuth('jwt')`")));
    }

    #[test]
    fn both_jwks_spellings_at_once_are_rejected() {
        assert!(parse(json!({ "remoteJwkSet": {}, "remoteJwtSet": {} })).unwrap_err().contains("not both"));
    }
}
