//! One `bearerAuth` middleware's decisions: which token, which issuer, which key, which claims,
//! and whether the verified identity may use this endpoint.

use crate::algorithm::Alg;
use crate::audience::ExpectedAudience;
use crate::auth_info::AuthInfo;
use crate::authorization::{self, Credentials};
use crate::clock::Clock;
use crate::config::{AuthConfig, AuthServer, Mode};
use crate::dpop::{self, DpopMode, DpopVerifier, VerifiedProof};
use crate::error::{AuthError, ConfigError, ErrorCode};
use crate::fetch::Fetcher;
use crate::jwks::Jwks;
use crate::jwt;
use crate::options::{AudienceOption, BearerOptions};
use crate::recent::{self, Recent};
use crate::response::{ChallengeContext, DpopChallenge, Presented, Rejection};
use crate::scopes::{self, Requested};
use crate::verified_tokens::{self, VerifiedTokens};
use crate::verifier::{self, Judgement, Verdict};
use serde_json::Value;
use std::borrow::Cow;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// When a client may retry after a custom verifier failed to answer in time.
const VERIFIER_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How a request in custom mode ends.
#[derive(Debug, Clone, PartialEq)]
pub enum CustomDecision {
    /// The identity passed every check.
    Accept(AuthInfo),
    /// The request is answered with this error.
    Reject(AuthError),
    /// The verifier's own error goes to the application's error handler.
    Forward,
}

/// A JWT that passed verification (signature and claims), and how long that stays true.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    /// The identity it carries.
    pub info: AuthInfo,
    /// Seconds since the epoch until which the token keeps passing: the earlier of its `exp`,
    /// its maximum age and one JWKS `cacheMaxAge` from now (not counting the clock tolerance).
    pub until: f64,
    /// [`Guard::key_epoch`] when verification started: the verdict holds only while it is unchanged.
    pub key_epoch: u64,
    /// Whether this guard verified the same token recently: only then is the answer worth keeping.
    pub seen_before: bool,
}

/// A trusted issuer and, once its metadata is known, its key set.
struct Trusted {
    server: Arc<AuthServer>,
    jwks: OnceLock<Arc<Jwks>>,
}

/// The checks of one middleware.
pub struct Guard {
    trusted: Vec<Trusted>,
    audience: Option<ExpectedAudience>,
    /// The expected audience as configured (a string stays a string), for `cause.expected`.
    audience_configured: Value,
    options: BearerOptions,
    context: ChallengeContext,
    fetcher: Arc<dyn Fetcher>,
    clock: Arc<dyn Clock>,
    /// Tokens that passed verification lately, to tell which ones come back.
    recent: Recent,
    /// Verified tokens that came back, for [`Guard::verify_token_reusing`] (the DPoP path).
    verified: VerifiedTokens,
    /// DPoP proofs, with the `dpop` option on.
    dpop: Option<DpopVerifier>,
}

/// How a request presented its access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presentation<'a> {
    /// `Authorization: Bearer <token>`.
    Bearer,
    /// `Authorization: DPoP <token>` with a proof that passed every check.
    Dpop(&'a VerifiedProof),
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
        if options.dpop.is_some() && options.resource.as_deref().and_then(crate::discovery::http_url).is_none() {
            return Err(ConfigError::Invalid(
                "`options.dpop` needs `options.resource`, an http(s) URL: a proof's `htu` is checked against its origin and the request path, never against the `Host` header.".into(),
            ));
        }
        let resource_metadata = options.resource.as_deref().and_then(|r| {
            config
                .resource(r)
                .map(|p| p.metadata_url.clone())
                .or_else(|| crate::discovery::http_url(r).map(|u| crate::config::resource_metadata_url(&u)))
        });
        let (audience, audience_configured) = match &options.audience {
            AudienceOption::Off => (None, Value::Null),
            AudienceOption::Values(v) => {
                (Some(ExpectedAudience::new(v.clone())), Value::Array(v.iter().cloned().map(Value::String).collect()))
            }
            AudienceOption::One(a) => (Some(ExpectedAudience::new(vec![a.clone()])), Value::String(a.clone())),
            AudienceOption::Resource => match options.resource.clone() {
                Some(r) => (Some(ExpectedAudience::new(vec![r.clone()])), Value::String(r)),
                None => (None, Value::Null),
            },
        };
        let scope = scopes::challenge_scope(&options.required_scopes);
        let dpop = match (&options.dpop, options.resource.as_deref()) {
            (Some(d), Some(resource)) => Some(DpopVerifier::new(d.clone(), resource, clock.clone())?),
            _ => None,
        };
        Ok(Guard {
            trusted: servers.into_iter().map(|server| Trusted { server, jwks: OnceLock::new() }).collect(),
            audience,
            audience_configured,
            context: ChallengeContext { resource_metadata, scope },
            options,
            fetcher,
            clock,
            recent: Recent::new(recent::DEFAULT_CAPACITY),
            verified: VerifiedTokens::new(verified_tokens::DEFAULT_CAPACITY),
            dpop,
        })
    }

    /// Extracts the bearer token from the `Authorization` header; in DPoP `'required'` mode a
    /// well-formed `Bearer` header is refused.
    pub fn token<'a>(&self, header: Option<&'a str>) -> Result<&'a str, AuthError> {
        let token = authorization::bearer_token(header)?;
        if self.dpop_required() {
            return Err(AuthError::new(ErrorCode::DpopRequired));
        }
        Ok(token)
    }

    /// The HTTP answer for a failure of a request that came with the `Bearer` scheme.
    pub fn reject(&self, err: &AuthError) -> Rejection {
        self.reject_as(err, &self.options.required_scopes, Presented::Bearer, None)
    }

    /// The HTTP answer for a failure to read the `Authorization` header `header` of a request
    /// that did not use the `DPoP` scheme.
    pub fn reject_header(&self, err: &AuthError, header: Option<&str>) -> Rejection {
        self.reject_as(err, &self.options.required_scopes, self.presented(header), None)
    }

    /// What an `Authorization` header that did not use the `DPoP` scheme presented: `Bearer`
    /// when it names that scheme, else nothing usable.
    pub fn presented(&self, header: Option<&str>) -> Presented {
        let bearer = header.and_then(|h| h.split(' ').next()).is_some_and(|s| s.eq_ignore_ascii_case("bearer"));
        if bearer {
            Presented::Bearer
        } else {
            Presented::Nothing
        }
    }

    /// The HTTP answer for a failure of a request that needs the scopes `needed` (see
    /// [`Guard::needed`]): its 403 challenge names every one of them (but `offline_access`), so
    /// that the client steps up once.
    pub fn reject_for(&self, err: &AuthError, needed: &[String]) -> Rejection {
        self.reject_as(err, needed, Presented::Bearer, None)
    }

    /// The HTTP answer for a failure of a request that needs the scopes `needed` and carried
    /// `presented`; with the `dpop` option on, its challenge follows RFC 9449 §7.1 (see
    /// [`Rejection::render_dpop`]) and `nonce` goes into `DPoP-Nonce`.
    pub fn reject_as(
        &self,
        err: &AuthError,
        needed: &[String],
        presented: Presented,
        nonce: Option<&str>,
    ) -> Rejection {
        let stepped_up =
            err.code == ErrorCode::MissingRequiredScopes && needed != self.options.required_scopes.as_slice();
        let context = if stepped_up {
            Cow::Owned(ChallengeContext { scope: scopes::challenge_scope(needed), ..self.context.clone() })
        } else {
            Cow::Borrowed(&self.context)
        };
        let show = self.options.show_error_details;
        match &self.dpop {
            None => Rejection::render(err, &context, show),
            Some(dpop) => {
                let required = dpop.mode() == DpopMode::Required;
                let challenge = DpopChallenge { algs: dpop.algs(), required, presented, nonce };
                Rejection::render_dpop(err, &context, show, &challenge)
            }
        }
    }

    fn trusted_issuers(&self) -> Value {
        Value::Array(self.trusted.iter().map(|t| Value::String(t.server.issuer.clone())).collect())
    }

    /// Changes whenever one of this guard's key sets is replaced by a newly fetched one (a key
    /// may have been removed). A verdict on a token holds while the epoch is unchanged.
    pub fn key_epoch(&self) -> u64 {
        self.trusted.iter().filter_map(|t| t.jwks.get()).map(|j| j.version()).fold(0, u64::wrapping_add)
    }

    /// Verifies a JWT access token (signature and claims) without authorizing it; see
    /// [`Guard::authorize`]. The result says how long it stays true, so that the answer for a
    /// repeated token can be reused.
    pub async fn verify_token(&self, token: &str) -> Result<VerifiedJwt, AuthError> {
        let key_epoch = self.key_epoch();
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
                // Shared with every other middleware of this `MCPAuth` that trusts the issuer.
                let shared =
                    trusted.server.discovery.key_sets.get_or_make(uri, self.options.jwks, &self.fetcher, &self.clock);
                trusted.jwks.get_or_init(|| shared).clone()
            }
        };
        let key = jwks.key_for(jwt.header.kid.as_deref(), alg).await?;
        if !key.verify(alg, jwt.signing_input.as_bytes(), &jwt.signature) {
            return Err(invalid("The token signature is invalid."));
        }
        let now = self.clock.unix_seconds();
        self.options.claims.check(&jwt.claims, now)?;
        let refresh = now + self.options.jwks.max_age.as_secs_f64();
        let until = self.options.claims.valid_until(&jwt.claims).map_or(refresh, |t| t.min(refresh));
        let info = AuthInfo::from_claims(token, jwt.claims)?;
        Ok(VerifiedJwt { info, until, key_epoch, seen_before: self.recent.seen_again(token) })
    }

    /// [`Guard::verify_token`], answered from the tokens verified before while their verdict
    /// holds (see [`crate::verified_tokens`]). For the requests the JS memo never answers: those
    /// with the `DPoP` scheme, whose proof is checked anew every time.
    pub async fn verify_token_reusing(&self, token: &str) -> Result<Arc<AuthInfo>, AuthError> {
        if let Some(info) = self.verified.get(token, self.clock.unix_seconds(), self.key_epoch()) {
            return Ok(info);
        }
        let verified = self.verify_token(token).await?;
        let info = Arc::new(verified.info);
        if verified.seen_before {
            self.verified.keep(info.clone(), verified.until, verified.key_epoch);
        }
        Ok(info)
    }

    /// Custom mode: waits for the verifier's verdict (`None` when it could not be called) at most
    /// `verifyTimeout`, judges it, then checks issuer, audience and the `needed` scopes as in JWT mode.
    pub async fn verify_custom(
        &self,
        verdict: impl Future<Output = Option<Verdict>>,
        needed: &[String],
    ) -> CustomDecision {
        let timeout = self.options.verify_timeout;
        let verdict = match tokio::time::timeout(timeout, verdict).await {
            Ok(Some(v)) => v,
            Ok(None) => {
                let e = AuthError::unavailable(
                    "The custom verification function could not be called.",
                    VERIFIER_RETRY_AFTER,
                );
                return CustomDecision::Reject(e);
            }
            Err(_) => {
                let reason =
                    format!("The custom verification function did not settle within {} ms.", timeout.as_millis());
                return CustomDecision::Reject(AuthError::unavailable(reason, VERIFIER_RETRY_AFTER));
            }
        };
        match verifier::judge(verdict) {
            // A bound token (`cnf.jkt` among the claims the verifier returned) never passes as
            // a bearer token here either.
            Judgement::Identity(info) => {
                match self.check_binding(&info, Presentation::Bearer).and_then(|()| self.authorize_for(&info, needed)) {
                    Ok(()) => CustomDecision::Accept(info),
                    Err(e) => CustomDecision::Reject(e),
                }
            }
            Judgement::Refused(e) => CustomDecision::Reject(e),
            Judgement::Forward => CustomDecision::Forward,
        }
    }

    /// Checks issuer, audience and `requiredScopes` of a verified identity (both modes).
    pub fn authorize(&self, info: &AuthInfo) -> Result<(), AuthError> {
        self.authorize_for(info, &self.options.required_scopes)
    }

    /// Checks issuer, audience and the scopes `needed` (see [`Guard::needed`]) of a verified identity.
    pub fn authorize_for(&self, info: &AuthInfo, needed: &[String]) -> Result<(), AuthError> {
        self.check_issuer(&info.issuer)?;
        self.check_audience(info)?;
        self.check_needed(&info.scopes, needed)
    }

    /// Whether per-operation scopes (`toolScopes`, `scopesFor`) are configured: only then does
    /// the glue read the request's operation.
    pub fn per_operation(&self) -> bool {
        self.options.operations.is_active()
    }

    /// Every scope a request needs: `requiredScopes`, then its operations' (`toolScopes`, the
    /// answers of `scopesFor`). Fails for a request whose operation could not be read, or a bad
    /// `scopesFor` answer.
    pub fn needed<'a>(&'a self, requested: Option<&Requested>) -> Result<Cow<'a, [String]>, AuthError> {
        match requested {
            Some(r) if self.per_operation() => {
                self.options.operations.needed(&self.options.required_scopes, r).map(Cow::Owned)
            }
            _ => Ok(Cow::Borrowed(&self.options.required_scopes)),
        }
    }

    /// Every required scope is granted, under the scope hierarchy.
    pub fn check_scopes(&self, info: &AuthInfo) -> Result<(), AuthError> {
        self.check_needed(&info.scopes, &self.options.required_scopes)
    }

    /// `granted` covers every scope of `needed` under the scope hierarchy.
    pub fn check_needed(&self, granted: &[String], needed: &[String]) -> Result<(), AuthError> {
        scopes::check(&self.options.hierarchy, granted, needed)
    }

    /// Whether `granted` covers every scope of `wanted` under the scope hierarchy.
    pub fn grants(&self, granted: &[String], wanted: &[String]) -> bool {
        self.options.hierarchy.missing(granted, wanted).is_empty()
    }

    /// The issuer is one of this endpoint's trusted authorization servers.
    pub fn check_issuer(&self, issuer: &str) -> Result<(), AuthError> {
        if self.trusted.iter().any(|t| t.server.issuer == issuer) {
            return Ok(());
        }
        Err(AuthError::mismatch(ErrorCode::InvalidIssuer, self.trusted_issuers(), Value::String(issuer.to_owned())))
    }

    /// The expected audience, when one is configured: any one of its values.
    pub fn expected_audience(&self) -> Option<&ExpectedAudience> {
        self.audience.as_ref()
    }

    /// The token's audience matches the expected one (RFC 8707), when one is configured.
    pub fn check_audience(&self, info: &AuthInfo) -> Result<(), AuthError> {
        if let Some(expected) = &self.audience {
            let ok = info.audience.as_ref().is_some_and(|a| expected.matches(a.iter()));
            if !ok {
                let actual = info.audience.as_ref().map_or(Value::Null, |a| a.to_json());
                return Err(AuthError::mismatch(ErrorCode::InvalidAudience, self.audience_configured.clone(), actual));
            }
        }
        Ok(())
    }

    /// Checks a verified identity's DPoP binding against how the token came (RFC 9449 §7.1): a
    /// bound token (`cnf.jkt`) never passes as a bearer token, with or without the `dpop` option
    /// (no downgrade); in `'required'` mode nothing passes as a bearer token; with the `DPoP`
    /// scheme the token must be bound to the proof's key.
    pub fn check_binding(&self, info: &AuthInfo, presented: Presentation<'_>) -> Result<(), AuthError> {
        let bound = match &info.claims {
            Some(claims) => dpop::bound_jkt(claims)?,
            None => None,
        };
        match presented {
            Presentation::Bearer if bound.is_some() => Err(AuthError::with_reason(
                ErrorCode::DpopBoundToken,
                "The token is DPoP-bound (`cnf.jkt`), yet it came with the `Bearer` scheme.",
            )),
            Presentation::Bearer if self.dpop_required() => Err(AuthError::new(ErrorCode::DpopRequired)),
            Presentation::Bearer => Ok(()),
            Presentation::Dpop(proof) => dpop::check_binding(bound, proof),
        }
    }

    /// The DPoP verifier, when the `dpop` option is on.
    pub fn dpop(&self) -> Option<&DpopVerifier> {
        self.dpop.as_ref()
    }

    /// Whether the `dpop` option is on in `'required'` mode.
    pub fn dpop_required(&self) -> bool {
        self.dpop.as_ref().is_some_and(|d| d.mode() == DpopMode::Required)
    }

    /// Extracts the token of a request with the `DPoP` scheme (only with the `dpop` option on).
    pub fn dpop_token<'a>(&self, header: Option<&'a str>) -> Result<&'a str, AuthError> {
        match authorization::credentials(header)? {
            Credentials::Dpop(token) => Ok(token),
            Credentials::Bearer(_) => Err(AuthError::with_reason(
                ErrorCode::InvalidAuthHeaderFormat,
                "The authorization scheme is not `DPoP`.",
            )),
        }
    }

    /// The checked options this guard applies.
    pub fn options(&self) -> &BearerOptions {
        &self.options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::fetch::fake::FakeHttp;
    use crate::jwk::tests::{fixture, sign};
    use jsonwebtoken::Algorithm as A;
    use serde_json::json;

    const ISSUER: &str = "https://issuer.example.com/t";
    const DISCOVERY: &str = "https://issuer.example.com/t/.well-known/openid-configuration";
    const JWKS: &str = "https://issuer.example.com/t/jwks";
    const RESOURCE: &str = "https://api.example.com/mcp";
    const NOW: f64 = 1_700_000_000.0;

    struct Setup {
        guard: Guard,
        http: Arc<FakeHttp>,
        clock: Arc<ManualClock>,
    }

    /// RESOURCE trusting ISSUER (discovered), and `options` for it.
    fn config_and(options: Value) -> (AuthConfig, Value) {
        let config = AuthConfig::parse(&json!({ "protectedResources": { "metadata": {
            "resource": RESOURCE,
            "authorizationServers": [{ "type": "oidc", "issuer": ISSUER }]
        }}}))
        .unwrap_or_else(|e| panic!("{e}"));
        let mut options = options;
        options["resource"] = json!(RESOURCE);
        (config, options)
    }

    fn setup(options: Value) -> Setup {
        let http = Arc::new(FakeHttp::default());
        http.answer(DISCOVERY, Ok(json!({ "issuer": ISSUER, "jwks_uri": JWKS }).to_string().into_bytes()));
        http.answer(JWKS, Ok(fixture("jwks.json")));
        let (config, options) = config_and(options);
        let options = BearerOptions::parse(Some(&options)).unwrap_or_else(|e| panic!("{e}"));
        let clock = Arc::new(ManualClock::new(NOW));
        let guard = Guard::new(&config, options, true, http.clone(), clock.clone()).unwrap_or_else(|e| panic!("{e}"));
        Setup { guard, http, clock }
    }

    fn claims(extra: Value) -> Value {
        let mut c =
            json!({ "iss": ISSUER, "sub": "u1", "aud": RESOURCE, "exp": NOW + 300.0, "iat": NOW, "scope": "read" });
        if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), extra) {
            c.extend(extra);
        }
        c
    }

    fn rs256(extra: Value) -> String {
        sign("rsa.pem", A::RS256, Some("rsa-1"), &claims(extra))
    }

    /// What the middleware decides for a JWT: verification, then authorization.
    async fn verify_jwt(s: &Setup, token: &str) -> Result<AuthInfo, AuthError> {
        let verified = s.guard.verify_token(token).await?;
        s.guard.authorize(&verified.info)?;
        Ok(verified.info)
    }

    async fn code(s: &Setup, token: &str) -> Result<AuthInfo, ErrorCode> {
        verify_jwt(s, token).await.map_err(|e| e.code)
    }

    #[tokio::test]
    async fn a_valid_token_yields_its_identity() {
        let s = setup(json!({}));
        let info = code(&s, &rs256(json!({}))).await.unwrap_or_else(|c| panic!("{c:?}"));
        assert_eq!((info.issuer.as_str(), info.subject.as_deref()), (ISSUER, Some("u1")));
        assert_eq!(info.scopes, ["read"]);
        assert_eq!((s.http.calls(DISCOVERY), s.http.calls(JWKS)), (1, 1));
    }

    async fn verified(s: &Setup, token: &str) -> VerifiedJwt {
        s.guard.verify_token(token).await.unwrap_or_else(|e| panic!("{e}"))
    }

    #[tokio::test]
    async fn a_verdict_holds_until_exp_or_one_jwks_max_age() {
        let s = setup(json!({}));
        assert_eq!(verified(&s, &rs256(json!({ "exp": NOW + 120.0 }))).await.until, NOW + 120.0);
        let far = rs256(json!({ "exp": NOW + 86_400.0 }));
        assert_eq!(verified(&s, &far).await.until, NOW + 600.0, "cacheMaxAge defaults to 10 minutes");
        let aged = setup(json!({ "jwtVerify": { "maxTokenAge": 30 } }));
        assert_eq!(verified(&aged, &rs256(json!({}))).await.until, NOW + 30.0, "iat + maxTokenAge");
    }

    #[tokio::test]
    async fn a_token_counts_as_seen_before_from_its_second_verification() {
        let s = setup(json!({}));
        let token = rs256(json!({}));
        assert!(!verified(&s, &token).await.seen_before);
        assert!(verified(&s, &token).await.seen_before);
        assert!(!verified(&s, &rs256(json!({ "sub": "u2" }))).await.seen_before);
    }

    /// Makes the issuer's key set hold only the key `kid`.
    fn serve_only(s: &Setup, kid: &str) {
        s.http.answer(JWKS, Ok(json!({ "keys": [crate::jwk::tests::jwk(kid)] }).to_string().into_bytes()));
    }

    /// The issuer rotates: the new set no longer has `rsa-1`. A token naming an unknown key,
    /// after the cooldown, makes the guard fetch it.
    async fn rotate_away_from_rsa_1(s: &Setup) {
        serve_only(s, "ec-256");
        s.clock.advance(std::time::Duration::from_secs(31));
        let es = sign("ec256.pem", A::ES256, Some("ec-256"), &claims(json!({})));
        assert!(code(s, &es).await.is_ok());
    }

    #[tokio::test]
    async fn the_key_epoch_changes_when_a_key_set_is_replaced() {
        let s = setup(json!({}));
        serve_only(&s, "rsa-1");
        let token = rs256(json!({}));
        let first = verified(&s, &token).await;
        let epoch = s.guard.key_epoch();
        assert_eq!(first.key_epoch, 0, "taken before the first fetch");
        assert_ne!(epoch, 0);
        assert_eq!(verified(&s, &token).await.key_epoch, epoch, "stable while the set is");
        rotate_away_from_rsa_1(&s).await;
        assert_eq!(s.http.calls(JWKS), 2);
        assert_ne!(s.guard.key_epoch(), epoch);
        assert_eq!(code(&s, &token).await.err(), Some(ErrorCode::InvalidToken));
    }

    async fn reused(s: &Setup, token: &str) -> Result<Arc<AuthInfo>, ErrorCode> {
        s.guard.verify_token_reusing(token).await.map_err(|e| e.code)
    }

    #[tokio::test]
    async fn a_token_that_comes_back_is_answered_from_its_verdict_until_it_expires() {
        let s = setup(json!({}));
        let token = rs256(json!({ "exp": NOW + 120.0 }));
        let first = reused(&s, &token).await.unwrap_or_else(|c| panic!("{c:?}"));
        let second = reused(&s, &token).await.unwrap_or_else(|c| panic!("{c:?}"));
        assert!(!Arc::ptr_eq(&first, &second), "verified again: the first use keeps nothing");
        let third = reused(&s, &token).await.unwrap_or_else(|c| panic!("{c:?}"));
        assert!(Arc::ptr_eq(&second, &third), "the kept verdict");
        assert_eq!(third.subject.as_deref(), Some("u1"));
        s.clock.advance(std::time::Duration::from_secs(121));
        let after_exp = reused(&s, &token).await.unwrap_or_else(|c| panic!("{c:?}"));
        assert!(!Arc::ptr_eq(&third, &after_exp), "past `exp` verified again (and within the 60 s tolerance)");
        s.clock.advance(std::time::Duration::from_secs(60));
        assert_eq!(reused(&s, &token).await.err(), Some(ErrorCode::InvalidToken), "expired beyond the tolerance");
    }

    #[tokio::test]
    async fn a_kept_verdict_is_dropped_when_the_key_set_is_replaced() {
        let s = setup(json!({}));
        serve_only(&s, "rsa-1");
        let token = rs256(json!({}));
        for _ in 0..3 {
            assert!(reused(&s, &token).await.is_ok());
        }
        assert!(Arc::ptr_eq(&reused(&s, &token).await.unwrap(), &reused(&s, &token).await.unwrap()), "kept");
        rotate_away_from_rsa_1(&s).await;
        assert_eq!(reused(&s, &token).await.err(), Some(ErrorCode::InvalidToken));
    }

    #[tokio::test]
    async fn an_untrusted_issuer_is_refused_before_anything_is_fetched() {
        let s = setup(json!({}));
        let token = rs256(json!({ "iss": "https://evil.example.com" }));
        assert_eq!(code(&s, &token).await.err(), Some(ErrorCode::InvalidIssuer));
        assert_eq!(s.http.total_calls(), 0);
    }

    #[tokio::test]
    async fn the_audience_defaults_to_the_resource() {
        let s = setup(json!({}));
        let token = rs256(json!({ "aud": "https://other.example.com/mcp" }));
        assert_eq!(code(&s, &token).await.err(), Some(ErrorCode::InvalidAudience));
        let off = setup(json!({ "audience": false }));
        assert!(code(&off, &token).await.is_ok());
    }

    #[tokio::test]
    async fn required_scopes_must_all_be_granted() {
        let s = setup(json!({ "requiredScopes": ["read", "write"] }));
        let err = verify_jwt(&s, &rs256(json!({}))).await.err();
        assert_eq!(
            err.map(|e| (e.code, e.missing_scopes)),
            Some((ErrorCode::MissingRequiredScopes, vec!["write".into()]))
        );
        assert!(code(&s, &rs256(json!({ "scope": "write read" }))).await.is_ok());
    }

    #[tokio::test]
    async fn a_tool_call_needs_its_tool_scopes_and_the_403_challenge_names_every_scope_needed() {
        let s = setup(json!({ "requiredScopes": ["read"], "toolScopes": { "wipe": ["admin", "offline_access"] },
            "scopeHierarchy": { "root": ["admin"] } }));
        let requested = Requested {
            operations: vec![scopes::Operation { method: "tools/call".into(), name: Some("wipe".into()) }],
            ..Requested::default()
        };
        let needed = s.guard.needed(Some(&requested)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(needed.as_ref(), ["read", "admin", "offline_access"]);
        let info = verified(&s, &rs256(json!({ "scope": "read" }))).await.info;
        let e = s.guard.authorize_for(&info, &needed).err().unwrap_or_else(|| panic!("passed"));
        assert_eq!(e.missing_scopes, ["admin", "offline_access"]);
        let r = s.guard.reject_for(&e, &needed);
        assert_eq!(r.status, 403);
        assert!(r.www_authenticate.is_some_and(|h| h.contains(r#"scope="read admin""#)), "no offline_access in it");
        let root = verified(&s, &rs256(json!({ "scope": "read root offline_access" }))).await.info;
        assert!(s.guard.authorize_for(&root, &needed).is_ok(), "root implies admin");
        assert_eq!(root.scopes, ["read", "root", "offline_access"], "the granted scopes stay as granted");
        // Without an operation only `requiredScopes` apply.
        assert_eq!(s.guard.needed(None).map(|n| n.into_owned()).ok(), Some(vec!["read".to_owned()]));
    }

    #[tokio::test]
    async fn algorithm_confusion_with_the_public_key_as_hmac_secret_fails() {
        let s = setup(json!({}));
        let secret = fixture("rsa.pem");
        let mut header = jsonwebtoken::Header::new(A::HS256);
        header.kid = Some("rsa-1".into());
        let key = jsonwebtoken::EncodingKey::from_secret(&secret);
        let token = jsonwebtoken::encode(&header, &claims(json!({})), &key).unwrap_or_default();
        assert_eq!(code(&s, &token).await.err(), Some(ErrorCode::InvalidToken));
        assert_eq!(s.http.total_calls(), 0, "rejected before any fetch");
    }

    #[tokio::test]
    async fn unsigned_tokens_fail() {
        let s = setup(json!({}));
        let body = rs256(json!({}));
        let payload = body.split('.').nth(1).unwrap_or_default();
        for alg in ["none", "None", "NONE"] {
            let header = base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                format!("{{\"alg\":\"{alg}\"}}"),
            );
            assert_eq!(code(&s, &format!("{header}.{payload}.")).await.err(), Some(ErrorCode::InvalidToken));
        }
    }

    #[tokio::test]
    async fn a_signature_from_another_key_fails() {
        let s = setup(json!({}));
        let forged = sign("rsa2.pem", A::RS256, Some("rsa-1"), &claims(json!({})));
        assert_eq!(code(&s, &forged).await.err(), Some(ErrorCode::InvalidToken));
    }

    #[tokio::test]
    async fn typ_and_algorithm_options_are_enforced() {
        let s = setup(json!({ "jwtVerify": { "typ": "at+jwt" } }));
        assert_eq!(code(&s, &rs256(json!({}))).await.err(), Some(ErrorCode::InvalidToken));
        let es_only = setup(json!({ "jwtVerify": { "algorithms": ["ES256"] } }));
        assert_eq!(code(&es_only, &rs256(json!({}))).await.err(), Some(ErrorCode::InvalidToken));
        let es = sign("ec256.pem", A::ES256, Some("ec-256"), &claims(json!({})));
        assert!(code(&es_only, &es).await.is_ok());
    }

    #[tokio::test]
    async fn unreachable_keys_are_temporarily_unavailable() {
        let s = setup(json!({}));
        s.http.answer(JWKS, Err(crate::fetch::FetchError::TimedOut));
        assert_eq!(code(&s, &rs256(json!({}))).await.err(), Some(ErrorCode::TemporarilyUnavailable));
    }

    #[tokio::test]
    async fn metadata_naming_another_issuer_is_a_configuration_problem() {
        let s = setup(json!({}));
        s.http.answer(DISCOVERY, Ok(json!({ "issuer": "https://other", "jwks_uri": JWKS }).to_string().into_bytes()));
        assert_eq!(code(&s, &rs256(json!({}))).await.err(), Some(ErrorCode::InvalidServerMetadata));
    }

    fn custom(options: Value) -> Guard {
        let (config, options) = config_and(options);
        let options = BearerOptions::parse_custom(Some(&options)).unwrap_or_else(|e| panic!("{e}"));
        let http = Arc::new(FakeHttp::default());
        Guard::new(&config, options, false, http, Arc::new(ManualClock::new(NOW))).unwrap_or_else(|e| panic!("{e}"))
    }

    fn returned(v: Value) -> Option<Verdict> {
        Some(Verdict::Returned(v.to_string()))
    }

    fn identity(extra: Value) -> Value {
        let mut v =
            json!({ "token": "t", "issuer": ISSUER, "clientId": "c", "scopes": ["read"], "audience": RESOURCE });
        if let (Some(v), Value::Object(extra)) = (v.as_object_mut(), extra) {
            v.extend(extra);
        }
        v
    }

    fn rejected_code(d: CustomDecision) -> Option<ErrorCode> {
        match d {
            CustomDecision::Reject(e) => Some(e.code),
            _ => None,
        }
    }

    #[tokio::test]
    async fn a_custom_identity_passes_the_same_checks_as_a_jwt() {
        let g = custom(json!({ "requiredScopes": ["read"] }));
        let d = g.verify_custom(async { returned(identity(json!({}))) }, &g.options().required_scopes).await;
        assert!(matches!(&d, CustomDecision::Accept(info) if info.client_id == "c"), "{d:?}");
        let cases = [
            (json!({ "issuer": "https://evil.example.com" }), ErrorCode::InvalidIssuer),
            (json!({ "audience": "https://other.example.com" }), ErrorCode::InvalidAudience),
            (json!({ "scopes": [] }), ErrorCode::MissingRequiredScopes),
        ];
        for (extra, code) in cases {
            let d = g.verify_custom(async { returned(identity(extra.clone())) }, &g.options().required_scopes).await;
            assert_eq!(rejected_code(d), Some(code), "{extra}");
        }
    }

    #[tokio::test]
    async fn a_custom_identity_with_cnf_jkt_is_a_bound_token_and_never_passes_as_a_bearer_token() {
        let g = custom(json!({}));
        let bound = identity(json!({ "claims": { "cnf": { "jkt": "A" } } }));
        let d = g.verify_custom(async { returned(bound) }, &[]).await;
        assert_eq!(rejected_code(d), Some(ErrorCode::DpopBoundToken));
        let other = identity(json!({ "claims": { "cnf": { "x5t#S256": "m" } } }));
        assert!(matches!(g.verify_custom(async { returned(other) }, &[]).await, CustomDecision::Accept(_)));
    }

    #[tokio::test]
    async fn a_verifier_that_never_settles_is_unavailable_after_the_timeout() {
        let g = custom(json!({ "verifyTimeout": 50 }));
        let started = std::time::Instant::now();
        let d = g.verify_custom(std::future::pending(), &[]).await;
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        match d {
            CustomDecision::Reject(e) => {
                assert_eq!(e.code, ErrorCode::TemporarilyUnavailable);
                assert_eq!(e.retry_after, Some(VERIFIER_RETRY_AFTER));
                assert_eq!(e.reason(), Some("The custom verification function did not settle within 50 ms."));
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_verifier_that_cannot_be_called_is_unavailable() {
        let d = custom(json!({})).verify_custom(async { None }, &[]).await;
        assert_eq!(rejected_code(d), Some(ErrorCode::TemporarilyUnavailable));
    }

    #[tokio::test]
    async fn a_verifier_failure_is_forwarded() {
        let d = custom(json!({})).verify_custom(async { Some(Verdict::Failed) }, &[]).await;
        assert_eq!(d, CustomDecision::Forward);
    }

    fn with_cnf(cnf: Value) -> AuthInfo {
        let mut c = claims(json!({}));
        c["cnf"] = cnf;
        let Value::Object(c) = c else { panic!("object") };
        AuthInfo::from_claims("t", c).unwrap_or_else(|e| panic!("{e}"))
    }

    fn unbound() -> AuthInfo {
        let Value::Object(c) = claims(json!({})) else { panic!("object") };
        AuthInfo::from_claims("t", c).unwrap_or_else(|e| panic!("{e}"))
    }

    fn binding(s: &Setup, info: &AuthInfo, p: Presentation<'_>) -> Option<ErrorCode> {
        s.guard.check_binding(info, p).err().map(|e| e.code)
    }

    #[test]
    fn a_bound_token_never_passes_as_a_bearer_token_even_without_the_dpop_option() {
        let s = setup(json!({}));
        assert_eq!(binding(&s, &unbound(), Presentation::Bearer), None);
        let bound = with_cnf(json!({ "jkt": "A" }));
        assert_eq!(binding(&s, &bound, Presentation::Bearer), Some(ErrorCode::DpopBoundToken));
        let r = s.guard.reject(&AuthError::new(ErrorCode::DpopBoundToken));
        assert_eq!(r.status, 401);
        assert!(
            r.www_authenticate.is_some_and(|h| h.starts_with("Bearer error=\"invalid_token\"")),
            "one Bearer challenge"
        );
        for odd in [json!({ "jkt": 5 }), json!("A")] {
            assert_eq!(
                binding(&s, &with_cnf(odd.clone()), Presentation::Bearer),
                Some(ErrorCode::InvalidToken),
                "{odd}"
            );
        }
        assert_eq!(
            binding(&s, &with_cnf(json!({ "x5t#S256": "m" })), Presentation::Bearer),
            None,
            "other confirmations"
        );
    }

    #[test]
    fn with_the_dpop_scheme_the_token_must_be_bound_to_the_proof_key() {
        let s = setup(json!({ "dpop": {} }));
        let (a, b) = (VerifiedProof { jkt: "A".into() }, VerifiedProof { jkt: "B".into() });
        let bound = with_cnf(json!({ "jkt": "A" }));
        assert_eq!(binding(&s, &bound, Presentation::Dpop(&a)), None);
        assert_eq!(binding(&s, &bound, Presentation::Dpop(&b)), Some(ErrorCode::DpopBindingMismatch), "another key");
        assert_eq!(binding(&s, &unbound(), Presentation::Dpop(&a)), Some(ErrorCode::DpopBindingMismatch), "unbound");
        assert_eq!(binding(&s, &unbound(), Presentation::Bearer), None, "allowed mode takes unbound Bearer tokens");
        let required = setup(json!({ "dpop": { "mode": "required" } }));
        assert_eq!(binding(&required, &unbound(), Presentation::Bearer), Some(ErrorCode::DpopRequired));
        assert_eq!(required.guard.token(Some("Bearer abc")).err().map(|e| e.code), Some(ErrorCode::DpopRequired));
        assert_eq!(required.guard.dpop_token(Some("DPoP abc")).ok(), Some("abc"));
    }

    #[test]
    fn dpop_refusals_carry_the_dpop_challenge_and_missing_credentials_offer_both_schemes() {
        let s = setup(json!({ "dpop": { "algorithms": ["ES256", "EdDSA"] } }));
        let metadata = "resource_metadata=\"https://api.example.com/.well-known/oauth-protected-resource/mcp\"";
        let missing = s.guard.reject_header(&AuthError::new(ErrorCode::MissingAuthHeader), None);
        assert_eq!(missing.www_authenticate, Some(format!("Bearer {metadata}, DPoP algs=\"ES256 EdDSA\"")));
        let proof = AuthError::new(ErrorCode::InvalidDpopProof);
        let r = s.guard.reject_as(&proof, &[], Presented::Dpop, Some("n-1"));
        assert_eq!(r.dpop_nonce.as_deref(), Some("n-1"));
        assert!(r
            .www_authenticate
            .is_some_and(|h| h.starts_with("DPoP error=\"invalid_dpop_proof\"") && h.ends_with(metadata)));
        let bearer = s.guard.reject_header(&AuthError::new(ErrorCode::InvalidToken), Some("Bearer x"));
        assert!(bearer.www_authenticate.is_some_and(|h| h.starts_with("Bearer error=\"invalid_token\"")));
    }

    #[test]
    fn typ_comparison_ignores_case_and_the_application_prefix() {
        assert!(same_typ("at+jwt", "AT+JWT"));
        assert!(same_typ("application/at+jwt", "at+jwt"));
        assert!(!same_typ("jwt", "at+jwt"));
    }
}
