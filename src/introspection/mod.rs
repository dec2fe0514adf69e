//! `bearerAuth('introspection')`: opaque tokens judged by the authorization server's
//! introspection endpoint (RFC 7662), cached, with one call in flight per token.
//!
//! [`Introspector::introspect`] turns a token into an [`AuthInfo`] and how long that verdict
//! holds; the caller then applies the issuer, audience and scope checks of JWT mode
//! ([`crate::guard::Guard::authorize`]) and renders failures with
//! [`crate::guard::Guard::reject`].

pub mod answer;
pub mod cache;
pub mod call;
pub mod client_auth;
pub mod endpoint;
pub mod inspect;
pub mod options;

use crate::auth_info::AuthInfo;
use crate::authorization::MAX_TOKEN_LEN;
use crate::claims::ClaimRules;
use crate::clock::Clock;
use crate::config::{AuthConfig, AuthServer, Mode};
use crate::error::{AuthError, ConfigError, ErrorCode};
use crate::fetch::Fetcher;
use crate::options::BearerOptions;
use cache::{Held, Source, TokenCache};
use call::Poster;
use client_auth::ClientAuth;
use endpoint::Endpoint;
use options::IntrospectionOptions;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// How long an inactive or invalid token's answer is reused, at most. 5 s.
pub const NEGATIVE_MAX_AGE: Duration = Duration::from_secs(5);

/// A token the endpoint vouched for, and how long that holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Introspected {
    /// The identity, with the request's token.
    pub info: AuthInfo,
    /// Seconds since the epoch until which the answer may be reused: at most `cacheMaxAge` after
    /// the call, never past the token's `exp`.
    pub until: f64,
    /// Whether this request made the call (else it shared a call in flight or a kept answer).
    pub called: bool,
}

/// A kept answer: the identity without its token, or the refusal.
type Answer = Result<Arc<AuthInfo>, AuthError>;

/// One middleware's introspection: endpoint, credentials, rules and cache.
pub struct Introspector {
    issuer: String,
    endpoint: Endpoint,
    client: ClientAuth,
    cache_max_age: Duration,
    timeout: Duration,
    rules: ClaimRules,
    cache: TokenCache<Answer>,
    fetcher: Arc<dyn Fetcher>,
    poster: Arc<dyn Poster>,
    clock: Arc<dyn Clock>,
}

/// The authorization servers `options.resource` trusts (legacy: the one server).
fn servers<'a>(config: &'a AuthConfig, options: &BearerOptions) -> Result<&'a [Arc<AuthServer>], ConfigError> {
    match (&config.mode, &options.resource) {
        (Mode::Legacy(server), _) => Ok(std::slice::from_ref(server)),
        (Mode::Resources(_), None) => Err(ConfigError::Invalid(
            "A `resource` must be specified in the `bearerAuth` options when using a `protectedResources` configuration.".into(),
        )),
        (Mode::Resources(_), Some(r)) => config.resource(r).map(|p| p.auth_servers.as_slice()).ok_or_else(|| {
            ConfigError::Invalid(format!("`options.resource`: `{r}` is not one of the configured `protectedResources`."))
        }),
    }
}

impl Introspector {
    /// `bearerAuth('introspection', options)` from its options as given:
    /// [`IntrospectionOptions::split`], [`BearerOptions::parse`] of the common ones, then
    /// [`Introspector::new`]. The common options are returned for the
    /// [`Guard`](crate::guard::Guard) that then checks issuer, audience and scopes.
    pub fn configure(
        config: &AuthConfig,
        options: Option<&Value>,
        fetcher: Arc<dyn Fetcher>,
        poster: Arc<dyn Poster>,
        clock: Arc<dyn Clock>,
    ) -> Result<(BearerOptions, Introspector), ConfigError> {
        let (common, introspection) = IntrospectionOptions::split(options)?;
        let options = BearerOptions::parse(Some(&common))?;
        let introspector = Introspector::new(config, &options, introspection, fetcher, poster, clock)?;
        Ok((options, introspector))
    }

    /// Builds the introspection of a `bearerAuth('introspection')` middleware, checking that
    /// `introspection` fits `config`: the issuer must be one of the resource's authorization
    /// servers (and is required when there are several), and its endpoint must be known or
    /// discoverable. `options` are the common options (see [`IntrospectionOptions::split`]);
    /// their `jwtVerify.clockTolerance` applies to the answer's `exp`, `nbf` and `iat`.
    pub fn new(
        config: &AuthConfig,
        options: &BearerOptions,
        introspection: IntrospectionOptions,
        fetcher: Arc<dyn Fetcher>,
        poster: Arc<dyn Poster>,
        clock: Arc<dyn Clock>,
    ) -> Result<Introspector, ConfigError> {
        let servers = servers(config, options)?;
        let issuers = || servers.iter().map(|s| format!("`{}`", s.issuer)).collect::<Vec<_>>().join(", ");
        let server = match (&introspection.issuer, servers) {
            (_, []) => {
                return Err(ConfigError::Invalid(
                    "`bearerAuth('introspection')` needs an authorization server: the resource lists none.".into(),
                ))
            }
            (None, [only]) => only,
            (None, _) => {
                return Err(ConfigError::Invalid(format!(
                    "`options.introspection.issuer` is required: the resource trusts several authorization servers ({}).",
                    issuers()
                )))
            }
            (Some(issuer), _) => servers.iter().find(|s| &s.issuer == issuer).ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "`options.introspection.issuer`: `{issuer}` is not one of the resource's authorization servers ({}).",
                    issuers()
                ))
            })?,
        };
        let endpoint = Endpoint::for_server(server, introspection.endpoint.as_ref())?;
        Ok(Introspector {
            issuer: server.issuer.clone(),
            endpoint,
            client: ClientAuth::new(&introspection.client_id, &introspection.client_secret, introspection.auth_method),
            cache_max_age: introspection.cache_max_age,
            timeout: introspection.timeout,
            rules: ClaimRules { required: Vec::new(), max_token_age: None, ..options.claims.clone() },
            cache: TokenCache::default(),
            fetcher,
            poster,
            clock,
        })
    }

    /// Replaces the cache with one of at most `entries` answers (default [`cache::MAX_ENTRIES`]).
    pub fn with_cache_capacity(mut self, entries: usize) -> Self {
        self.cache = TokenCache::new(entries, cache::MAX_BYTES);
        self
    }

    /// The introspecting issuer.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// How many answers are kept now.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// Introspects `token`, or reuses a kept answer for it. A token over
    /// [`MAX_TOKEN_LEN`] is refused without a call. Errors are answered as the contract
    /// says: inactive or invalid → 401, outage → 503 with `Retry-After`, refused credentials →
    /// 500. The caller then checks issuer, audience and scopes.
    pub async fn introspect(&self, token: &str) -> Result<Introspected, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::with_reason(
                ErrorCode::InvalidToken,
                format!("The token is empty or longer than {MAX_TOKEN_LEN} bytes."),
            ));
        }
        let clock = self.clock.clone();
        let now = clock.unix_seconds();
        let (answer, until, source) =
            self.cache.get_or_call(cache::key(token), now, || clock.unix_seconds(), || self.call(token)).await;
        let info = answer?;
        Ok(Introspected {
            info: AuthInfo { token: token.to_owned(), ..(*info).clone() },
            until,
            called: source == Source::Called,
        })
    }

    /// Until when an active answer obtained at `at` holds.
    fn until(&self, info: &AuthInfo, at: f64) -> f64 {
        let max = at + self.cache_max_age.as_secs_f64();
        info.expires_at.map_or(max, |exp| exp.min(max))
    }

    /// One call and its verdict, with how long it may be kept: active answers for
    /// `cacheMaxAge` (never past `exp`), refusals of the token for [`NEGATIVE_MAX_AGE`] (never
    /// longer than `cacheMaxAge`), failures of the endpoint not at all.
    async fn call(&self, token: &str) -> Held<Answer> {
        let (answer, weight) = self.ask(token).await;
        let now = self.clock.unix_seconds();
        let until = match &answer {
            Ok(info) => self.until(info, now),
            Err(e) if matches!(e.code, ErrorCode::InvalidToken | ErrorCode::InvalidIssuer) => {
                now + NEGATIVE_MAX_AGE.min(self.cache_max_age).as_secs_f64()
            }
            Err(_) => now,
        };
        Held { value: answer, until, weight }
    }

    async fn ask(&self, token: &str) -> (Answer, usize) {
        let url = match self.endpoint.url(self.fetcher.as_ref(), self.clock.as_ref(), self.timeout).await {
            Ok(url) => url,
            Err(e) => return (Err(e), 0),
        };
        let request = self.client.request(token);
        let body = match self.poster.post_form(url.as_str(), &request, self.timeout).await {
            Ok(body) => body,
            Err(e) => return (Err(call::failure(&e, url.as_str())), 0),
        };
        let weight = body.len().saturating_add(std::mem::size_of::<AuthInfo>());
        let verdict = answer::judge(&body, &self.issuer, &self.rules, self.clock.unix_seconds());
        (verdict.map(Arc::new), weight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::fetch::fake::FakeHttp;
    use crate::fetch::HttpFetcher;
    use serde_json::json;

    fn build(config: Value, options: Value) -> Result<Introspector, String> {
        let config = AuthConfig::parse(&config).map_err(|e| e.to_string())?;
        let clock = Arc::new(ManualClock::new(0.0));
        Introspector::configure(&config, Some(&options), Arc::new(FakeHttp::default()), Arc::new(HttpFetcher), clock)
            .map(|(_, i)| i)
            .map_err(|e| e.to_string())
    }

    fn two_servers() -> Value {
        json!({ "protectedResources": { "metadata": { "resource": "https://r", "authorizationServers": [
            { "type": "oauth", "issuer": "https://a" }, { "type": "oidc", "issuer": "https://b" }
        ] } } })
    }

    fn creds(extra: Value) -> Value {
        let mut v = json!({ "clientId": "rs", "clientSecret": "s" });
        if let (Some(m), Value::Object(extra)) = (v.as_object_mut(), extra) {
            m.extend(extra);
        }
        v
    }

    #[test]
    fn several_issuers_need_introspection_issuer() {
        let e = build(two_servers(), json!({ "resource": "https://r", "introspection": creds(json!({})) })).err();
        assert!(e.as_deref().is_some_and(|e| e.contains("`options.introspection.issuer` is required")), "{e:?}");
        let ok = build(
            two_servers(),
            json!({ "resource": "https://r", "introspection": creds(json!({ "issuer": "https://b" })) }),
        );
        assert_eq!(ok.map(|i| i.issuer().to_owned()), Ok("https://b".into()));
        let e = build(
            two_servers(),
            json!({ "resource": "https://r", "introspection": creds(json!({ "issuer": "https://c" })) }),
        );
        assert!(e.err().is_some_and(|e| e.contains("`https://c` is not one of")));
    }

    #[test]
    fn the_resource_must_be_given_and_known_and_have_a_server() {
        let e = build(two_servers(), json!({ "introspection": creds(json!({})) })).err();
        assert!(e.is_some_and(|e| e.contains("A `resource` must be specified")));
        let e = build(two_servers(), json!({ "resource": "https://x", "introspection": creds(json!({})) })).err();
        assert!(e.is_some_and(|e| e.contains("`https://x` is not one of")));
        let none = json!({ "protectedResources": { "metadata": { "resource": "https://r" } } });
        let e = build(none, json!({ "resource": "https://r", "introspection": creds(json!({})) })).err();
        assert!(e.is_some_and(|e| e.contains("the resource lists none")));
    }

    #[test]
    fn a_legacy_server_is_the_only_issuer() {
        let legacy = json!({ "server": { "type": "oauth", "issuer": "https://a" } });
        assert_eq!(
            build(legacy, json!({ "introspection": creds(json!({})) })).map(|i| i.issuer().to_owned()),
            Ok("https://a".into())
        );
    }
}
