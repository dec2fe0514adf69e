//! The options of `bearerAuth('introspection', options)`: the `introspection` object, checked
//! when given, and the common options that apply to this mode.

use crate::config::{deny_unknown, object, present, type_error};
use crate::error::ConfigError;
use crate::options::MAX_DURATION;
use serde_json::{Map, Value};
use std::time::Duration;
use url::{Host, Url};

/// How this resource server authenticates to the introspection endpoint (RFC 7662 §2.1,
/// RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// HTTP Basic with the form-encoded client id and secret. The default.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

impl AuthMethod {
    /// The registered name (RFC 7591 §2).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
        }
    }
}

/// Checked `options.introspection`.
#[derive(Clone, PartialEq)]
pub struct IntrospectionOptions {
    /// Which of the resource's authorization servers introspects. Defaults to the only one.
    pub issuer: Option<String>,
    /// The introspection URL. Defaults to the issuer's metadata `introspection_endpoint`.
    pub endpoint: Option<Url>,
    /// This resource server's client id at the endpoint. Required.
    pub client_id: String,
    /// This resource server's client secret at the endpoint. Required.
    pub client_secret: String,
    /// Defaults to `client_secret_basic`.
    pub auth_method: AuthMethod,
    /// How long an active answer is reused (never past the token's `exp`). Defaults to `60000` ms.
    pub cache_max_age: Duration,
    /// How long a call (and the metadata fetch before it) may take. Defaults to `5000` ms.
    pub timeout: Duration,
}

/// Never prints the secret.
impl std::fmt::Debug for IntrospectionOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectionOptions")
            .field("issuer", &self.issuer)
            .field("endpoint", &self.endpoint.as_ref().map(Url::as_str))
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("auth_method", &self.auth_method)
            .field("cache_max_age", &self.cache_max_age)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The default `cacheMaxAge`. 60 s.
pub const DEFAULT_CACHE_MAX_AGE: Duration = Duration::from_secs(60);
/// The default `timeoutDuration`. 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

const PATH: &str = "options.introspection";
const KEYS: &[&str] =
    &["issuer", "endpoint", "clientId", "clientSecret", "authMethod", "cacheMaxAge", "timeoutDuration"];

/// Whether `url` may carry tokens and secrets: `https`, or `http` to a loopback address
/// (`127.0.0.0/8`, `::1`, `localhost`) for development.
pub fn is_secure_endpoint(url: &Url) -> bool {
    match url.scheme() {
        "https" => url.has_host(),
        "http" => match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

/// Checks an introspection endpoint URL; `path` names where it came from.
pub fn endpoint_url(s: &str, path: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(s).map_err(|_| ConfigError::Invalid(format!("`{path}` must be a URL; got `{s}`.")))?;
    if !is_secure_endpoint(&url) {
        return Err(ConfigError::Invalid(format!(
            "`{path}` must be an https URL (http only to a loopback address); got `{s}`."
        )));
    }
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() {
        return Err(ConfigError::Invalid(format!(
            "`{path}` must not carry credentials or a fragment; give `clientId` and `clientSecret` instead."
        )));
    }
    Ok(url)
}

fn non_empty_string(m: &Map<String, Value>, key: &str) -> Result<String, ConfigError> {
    match present(m, key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        None => Err(ConfigError::Type(format!(
            "`{PATH}.{key}` is required: this resource server's credentials at the introspection endpoint."
        ))),
        // The value is never echoed: it may be the secret.
        Some(_) => Err(type_error(&format!("{PATH}.{key}"), "a non-empty string")),
    }
}

fn millis(v: &Value, key: &str, positive: bool) -> Result<Duration, ConfigError> {
    let what = if positive { "a positive number of milliseconds" } else { "a non-negative number of milliseconds" };
    match v.as_f64() {
        Some(ms) if ms > 0.0 || (ms == 0.0 && !positive) => {
            Ok(Duration::try_from_secs_f64(ms / 1000.0).map_or(MAX_DURATION, |d| d.min(MAX_DURATION)))
        }
        _ => Err(type_error(&format!("{PATH}.{key}"), what)),
    }
}

impl IntrospectionOptions {
    /// Checks the `introspection` object.
    pub fn parse(v: &Value) -> Result<IntrospectionOptions, ConfigError> {
        let m = object(v, PATH)?;
        deny_unknown(m, PATH, KEYS)?;
        let issuer = match present(m, "issuer") {
            None => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(_) => return Err(type_error(&format!("{PATH}.issuer"), "a non-empty string")),
        };
        let endpoint = match present(m, "endpoint") {
            None => None,
            Some(Value::String(s)) => Some(endpoint_url(s, &format!("{PATH}.endpoint"))?),
            Some(_) => return Err(type_error(&format!("{PATH}.endpoint"), "a URL string")),
        };
        let client_id = non_empty_string(m, "clientId")?;
        let client_secret = non_empty_string(m, "clientSecret")?;
        let auth_method = match present(m, "authMethod") {
            None => AuthMethod::default(),
            Some(Value::String(s)) if s == "client_secret_basic" => AuthMethod::ClientSecretBasic,
            Some(Value::String(s)) if s == "client_secret_post" => AuthMethod::ClientSecretPost,
            Some(_) => {
                return Err(type_error(&format!("{PATH}.authMethod"), "'client_secret_basic' or 'client_secret_post'"))
            }
        };
        let cache_max_age = present(m, "cacheMaxAge")
            .map(|v| millis(v, "cacheMaxAge", false))
            .transpose()?
            .unwrap_or(DEFAULT_CACHE_MAX_AGE);
        let timeout = present(m, "timeoutDuration")
            .map(|v| millis(v, "timeoutDuration", true))
            .transpose()?
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(IntrospectionOptions { issuer, endpoint, client_id, client_secret, auth_method, cache_max_age, timeout })
    }

    /// Splits the options of `bearerAuth('introspection', options)` into the `introspection`
    /// object (required) and the common options, which the caller checks with
    /// [`crate::options::BearerOptions::parse`] (it refuses unknown names). Options of the other
    /// modes are refused here by name: `remoteJwkSet`, `verifyTimeout`, and every `jwtVerify`
    /// member but `clockTolerance` (which applies to the answer's `exp`, `nbf` and `iat`).
    pub fn split(options: Option<&Value>) -> Result<(Value, IntrospectionOptions), ConfigError> {
        let missing = || {
            ConfigError::Type(format!(
                "`bearerAuth('introspection', options)` needs `{PATH}` with at least `clientId` and `clientSecret`."
            ))
        };
        let m = match options {
            None | Some(Value::Null) => return Err(missing()),
            Some(v) => object(v, "options")?,
        };
        if let Some(key) = ["remoteJwkSet", "remoteJwtSet", "verifyTimeout"].into_iter().find(|k| m.contains_key(*k)) {
            let instead = if key == "verifyTimeout" { "timeoutDuration" } else { "cacheMaxAge` and `timeoutDuration" };
            return Err(ConfigError::Type(format!(
                "`options.{key}` does not apply to `bearerAuth('introspection')`; see `{PATH}.{instead}`."
            )));
        }
        if let Some(j) = present(m, "jwtVerify") {
            let jm = object(j, "options.jwtVerify")?;
            if let Some(key) = jm.keys().find(|k| k.as_str() != "clockTolerance") {
                return Err(ConfigError::Type(format!(
                    "`options.jwtVerify.{key}` does not apply to `bearerAuth('introspection')`: only `clockTolerance` does."
                )));
            }
        }
        let introspection = IntrospectionOptions::parse(present(m, "introspection").ok_or_else(missing)?)?;
        let mut common = m.clone();
        common.remove("introspection");
        Ok((Value::Object(common), introspection))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<IntrospectionOptions, String> {
        IntrospectionOptions::parse(&v).map_err(|e| e.message().to_owned())
    }

    fn minimal(extra: Value) -> Value {
        let mut v = json!({ "clientId": "rs", "clientSecret": "s3cret" });
        if let (Some(m), Value::Object(extra)) = (v.as_object_mut(), extra) {
            m.extend(extra);
        }
        v
    }

    #[test]
    fn defaults_are_basic_auth_a_minute_of_cache_and_five_seconds_of_timeout() {
        let o = parse(minimal(json!({}))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((o.issuer, o.endpoint), (None, None));
        assert_eq!((o.client_id.as_str(), o.client_secret.as_str()), ("rs", "s3cret"));
        assert_eq!(o.auth_method, AuthMethod::ClientSecretBasic);
        assert_eq!((o.cache_max_age, o.timeout), (Duration::from_secs(60), Duration::from_secs(5)));
    }

    #[test]
    fn every_option_is_read() {
        let o = parse(minimal(json!({
            "issuer": "https://as", "endpoint": "https://as/introspect", "authMethod": "client_secret_post",
            "cacheMaxAge": 0, "timeoutDuration": 250
        })))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(o.issuer.as_deref(), Some("https://as"));
        assert_eq!(o.endpoint.as_ref().map(Url::as_str), Some("https://as/introspect"));
        assert_eq!(o.auth_method, AuthMethod::ClientSecretPost);
        assert_eq!((o.cache_max_age, o.timeout), (Duration::ZERO, Duration::from_millis(250)));
    }

    #[test]
    fn missing_credentials_name_the_field() {
        let e = parse(json!({ "clientSecret": "s" })).unwrap_err();
        assert!(e.contains("`options.introspection.clientId` is required"), "{e}");
        let e = parse(json!({ "clientId": "rs" })).unwrap_err();
        assert!(e.contains("`options.introspection.clientSecret` is required"), "{e}");
        let e = parse(json!({ "clientId": "rs", "clientSecret": "" })).unwrap_err();
        assert_eq!(e, "`options.introspection.clientSecret` must be a non-empty string.");
    }

    #[test]
    fn a_wrongly_typed_secret_is_not_echoed() {
        let e = parse(json!({ "clientId": "rs", "clientSecret": ["hunter2"] })).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn plain_http_is_refused_except_to_loopback() {
        for bad in ["http://as.example.com/introspect", "ftp://as/x", "http://10.0.0.1/i", "not a url"] {
            let e = parse(minimal(json!({ "endpoint": bad }))).unwrap_err();
            assert!(e.contains("`options.introspection.endpoint`"), "{bad}: {e}");
        }
        for ok in ["https://as.example.com/i", "http://127.0.0.1:9/i", "http://[::1]/i", "http://localhost:8080/i"] {
            assert!(parse(minimal(json!({ "endpoint": ok }))).is_ok(), "{ok}");
        }
        let e = parse(minimal(json!({ "endpoint": "https://rs:pw@as/i" }))).unwrap_err();
        assert!(e.contains("credentials") && !e.contains("pw"), "{e}");
    }

    #[test]
    fn unknown_keys_and_bad_numbers_are_refused_by_name() {
        let e = parse(minimal(json!({ "cacheMaxAgeMs": 5 }))).unwrap_err();
        assert!(e.contains("`options.introspection.cacheMaxAgeMs`"), "{e}");
        for (key, bad) in [("cacheMaxAge", json!(-1)), ("cacheMaxAge", json!("60s")), ("timeoutDuration", json!(0))] {
            let e = parse(minimal(json!({ key: bad }))).unwrap_err();
            assert!(e.contains(&format!("`options.introspection.{key}` must be")), "{key}: {e}");
        }
        let e = parse(minimal(json!({ "authMethod": "private_key_jwt" }))).unwrap_err();
        assert!(e.contains("authMethod"), "{e}");
    }

    #[test]
    fn split_keeps_the_common_options_and_refuses_other_modes_options() {
        let (common, o) = IntrospectionOptions::split(Some(&json!({
            "resource": "https://r", "requiredScopes": ["read"], "jwtVerify": { "clockTolerance": 5 },
            "introspection": { "clientId": "rs", "clientSecret": "s" }
        })))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            common,
            json!({ "resource": "https://r", "requiredScopes": ["read"], "jwtVerify": { "clockTolerance": 5 } })
        );
        assert_eq!(o.client_id, "rs");
        let refused = [
            (json!({ "remoteJwkSet": {} }), "options.remoteJwkSet"),
            (json!({ "verifyTimeout": 5 }), "options.verifyTimeout"),
            (json!({ "jwtVerify": { "algorithms": ["RS256"] } }), "options.jwtVerify.algorithms"),
        ];
        for (mut extra, name) in refused {
            extra["introspection"] = json!({ "clientId": "rs", "clientSecret": "s" });
            let e = IntrospectionOptions::split(Some(&extra)).err().map(|e| e.message().to_owned()).unwrap_or_default();
            assert!(e.contains(&format!("`{name}`")), "{name}: {e}");
        }
        let e = IntrospectionOptions::split(None).err().map(|e| e.message().to_owned()).unwrap_or_default();
        assert!(e.contains("options.introspection"), "{e}");
        let typo = json!({ "requiredScope": [], "introspection": { "clientId": "rs", "clientSecret": "s" } });
        let (common, _) = IntrospectionOptions::split(Some(&typo)).unwrap_or_else(|e| panic!("{e}"));
        let e = crate::options::BearerOptions::parse(Some(&common)).err().map(|e| e.message().to_owned());
        assert!(
            e.is_some_and(|e| e.contains("`options.requiredScope`")),
            "unknown names are refused by the common parser"
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let o = parse(minimal(json!({}))).unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{o:?}").contains("s3cret"));
    }
}
