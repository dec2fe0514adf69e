//! One `bearerAuth` middleware's decisions: which token, which issuer, which key, which claims,
//! and whether the verified identity may use this endpoint.

use crate::algorithm::Alg;
use crate::audience::ExpectedAudience;
use crate::auth_info::AuthInfo;
use crate::authorization;
use crate::clock::Clock;
use crate::config::{AuthConfig, AuthServer, Mode};
use crate::error::{AuthError, ConfigError, ErrorCode};
use crate::fetch::Fetcher;
use crate::jwks::Jwks;
use crate::jwt;
use crate::options::{AudienceOption, BearerOptions};
use crate::response::{ChallengeContext, Rejection};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

/// A trusted issuer and, once its metadata is known, its key set.
struct Trusted {
    server: Arc<AuthServer>,
    jwks: OnceLock<Arc<Jwks>>,
}

/// The checks of one middleware.
pub struct Guard {
    trusted: Vec<Trusted>,
    audience: Option<ExpectedAudience>,
    options: BearerOptions,
    context: ChallengeContext,
    fetcher: Arc<dyn Fetcher>,
    clock: Arc<dyn Clock>,
}

fn invalid(reason: &str) -> AuthError {
    AuthError::with_reason(ErrorCode::InvalidToken, reason)
}

/// `typ` values compare case-insensitively, with an `application/` prefix optional (RFC 7515 §4.1.9).
fn same_typ(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> String {
        let lower = s.to_ascii_lowercase();
        lower.strip_prefix("application/").map(str::to_owned).unwrap_or(lower)
    }
    norm(a) == norm(b)
}

impl Guard {
    /// Builds the guard for `options` on `config`; fails on options that do not fit the config.
    pub fn new(
        config: &AuthConfig,
        options: BearerOptions,
        jwt_mode: bool,
        fetcher: Arc<dyn Fetcher>,
        clock: Arc<dyn Clock>,
    ) -> Result<Guard, ConfigError> {
        let servers: Vec<Arc<AuthServer>> = match (&config.mode, &options.resource) {
            (Mode::Resources(_), None) => {
                return Err(ConfigError::Invalid(
                    "A `resource` must be specified in the `bearerAuth` options when using a `protectedResources` configuration.".into(),
                ))
            }
            (Mode::Resources(_), Some(r)) => {
                let resource = config.resource(r).ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "`options.resource`: `{r}` is not one of the configured `protectedResources`."
                    ))
                })?;
                resource.auth_servers.clone()
            }
            (Mode::Legacy(server), _) => vec![server.clone()],
        };
        if jwt_mode {
            for s in servers.iter().filter(|s| s.discovery.url().is_none()) {
                if let Ok(m) = s.discovery.resolved_metadata() {
                    if m.jwks_uri.is_none() {
                        return Err(ConfigError::Invalid(format!(
                            "The resolved metadata of `{}` has no `jwksUri`, which `bearerAuth('jwt')` needs to verify tokens.",
                            s.issuer
                        )));
                    }
                }
            }
        }
        let resource_metadata = options.resource.as_deref().and_then(|r| {
            config.resource(r).map(|p| p.metadata_url.clone()).or_else(|| {
                crate::discovery::http_url(r).map(|u| crate::config::resource_metadata_url(&u))
            })
        });
        let audience = match &options.audience {
            AudienceOption::Off => None,
            AudienceOption::Values(v) => Some(ExpectedAudience::new(v.clone())),
            AudienceOption::Resource => options.resource.clone().map(|r| ExpectedAudience::new(vec![r])),
        };
        let scope = (!options.required_scopes.is_empty()).then(|| options.required_scopes.join(" "));
        Ok(Guard {
            trusted: servers.into_iter().map(|server| Trusted { server, jwks: OnceLock::new() }).collect(),
            audience,
            context: ChallengeContext { resource_metadata, scope },
            options,
            fetcher,
            clock,
        })
    }

    /// The options this guard was built with.
    pub fn options(&self) -> &BearerOptions {
        &self.options
    }

    /// Extracts the bearer token from the `Authorization` header.
    pub fn token<'a>(&self, header: Option<&'a str>) -> Result<&'a str, AuthError> {
        authorization::bearer_token(header)
    }

    /// The HTTP answer for a failure.
    pub fn reject(&self, err: &AuthError) -> Rejection {
        Rejection::render(err, &self.context, self.options.show_error_details)
    }

    fn trusted_issuers(&self) -> Value {
        Value::Array(self.trusted.iter().map(|t| Value::String(t.server.issuer.clone())).collect())
    }

    /// Verifies a JWT access token and authorizes it for this endpoint.
    pub async fn verify_jwt(&self, token: &str) -> Result<AuthInfo, AuthError> {
        let jwt = jwt::decode(token)?;
        let alg = Alg::parse(&jwt.header.alg)
            .filter(|a| self.options.algorithms.contains(a))
            .ok_or_else(|| invalid("The token's `alg` is not one of the allowed algorithms."))?;
        if let Some(expected) = &self.options.typ {
            if !jwt.header.typ.as_deref().is_some_and(|t| same_typ(t, expected)) {
                return Err(AuthError::mismatch(
                    ErrorCode::InvalidToken,
                    Value::String(expected.clone()),
                    jwt.header.typ.clone().map_or(Value::Null, Value::String),
                ));
            }
        }
        // Trust is decided before anything is fetched: a token naming an unknown issuer never
        // makes this server contact that issuer (RFC 8725 §3.8).
        let iss = match jwt.claims.get("iss") {
            Some(Value::String(iss)) => iss.as_str(),
            _ => return Err(invalid("The token has no `iss` string.")),
        };
        let trusted = self.trusted.iter().find(|t| t.server.issuer == iss).ok_or_else(|| {
            AuthError::mismatch(ErrorCode::InvalidIssuer, self.trusted_issuers(), Value::String(iss.to_owned()))
        })?;
        let jwks = match trusted.jwks.get() {
            Some(jwks) => jwks.clone(),
            None => {
                let metadata = trusted
                    .server
                    .discovery
                    .metadata(self.fetcher.as_ref(), self.clock.as_ref(), self.options.jwks.timeout)
                    .await?;
                let uri = metadata.jwks_uri.clone().ok_or_else(|| {
                    AuthError::with_reason(
                        ErrorCode::MissingJwksUri,
                        format!("The authorization server `{iss}` does not publish a `jwks_uri`."),
                    )
                })?;
                trusted
                    .jwks
                    .get_or_init(|| {
                        Arc::new(Jwks::new(uri, self.options.jwks, self.fetcher.clone(), self.clock.clone()))
                    })
                    .clone()
            }
        };
        let key = jwks.key_for(jwt.header.kid.as_deref(), alg).await?;
        if !key.verify(alg, jwt.signing_input.as_bytes(), &jwt.signature) {
            return Err(invalid("The token signature is invalid."));
        }
        self.options.claims.check(&jwt.claims, self.clock.unix_seconds())?;
        let info = AuthInfo::from_claims(token, jwt.claims)?;
        self.authorize(&info)?;
        Ok(info)
    }

    /// Checks issuer, audience and scopes of a verified identity (both modes).
    pub fn authorize(&self, info: &AuthInfo) -> Result<(), AuthError> {
        if !self.trusted.iter().any(|t| t.server.issuer == info.issuer) {
            return Err(AuthError::mismatch(
                ErrorCode::InvalidIssuer,
                self.trusted_issuers(),
                Value::String(info.issuer.clone()),
            ));
        }
        if let Some(expected) = &self.audience {
            let ok = info.audience.as_ref().is_some_and(|a| expected.matches(a.iter()));
            if !ok {
                let expected_json = Value::Array(expected.configured.iter().cloned().map(Value::String).collect());
                let actual = info.audience.as_ref().map_or(Value::Null, |a| a.to_json());
                return Err(AuthError::mismatch(ErrorCode::InvalidAudience, expected_json, actual));
            }
        }
        let missing: Vec<String> = self
            .options
            .required_scopes
            .iter()
            .filter(|s| !info.scopes.contains(s))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(AuthError::missing_scopes(missing));
        }
        Ok(())
    }
}
