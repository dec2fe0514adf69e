//! `mcp-auth-native inspect --introspect`: the checks of `bearerAuth('introspection')`, one at a
//! time, each with its verdict and reason.
//!
//! Each step calls what the middleware uses (the [`Introspector`]'s endpoint and credentials,
//! [`call::failure`], the [`answer`] checks, the [`ClaimRules`](crate::claims::ClaimRules) time
//! checks and the [`Guard`]'s audience and scope checks), so a token that passes here is one the
//! middleware accepts with the same options. Nothing here prints the token or the secret.

use super::call::{self, Poster};
use super::{answer, Introspector};
use crate::clock::Clock;
use crate::config::AuthConfig;
use crate::fetch::Fetcher;
use crate::guard::Guard;
use crate::inspect::{
    bad_argument, check, explain, middleware_setup, seconds, skipped, utc, Check, InspectError, Inspection,
};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// What to introspect, and against which expectations (the `inspect --introspect` arguments).
#[derive(Clone, Default, PartialEq)]
pub struct IntrospectRequest {
    /// The access token.
    pub token: String,
    /// The issuer identifier, exactly as the middleware would be configured with it.
    pub issuer: String,
    /// `oidc` or `oauth`: how the issuer's metadata is discovered. Defaults to `oidc`.
    pub server_type: Option<String>,
    /// The introspection URL. Defaults to the issuer's metadata `introspection_endpoint`.
    pub endpoint: Option<String>,
    /// This resource server's client id at the endpoint.
    pub client_id: String,
    /// This resource server's client secret (from an environment variable or stdin).
    pub client_secret: String,
    /// `client_secret_basic` or `client_secret_post`. Defaults to `client_secret_basic`.
    pub auth_method: Option<String>,
    /// Expected `aud` values (any one matches). Defaults to the resource, when one is given.
    pub audience: Vec<String>,
    /// Scopes that must all be granted. Defaults to none.
    pub scopes: Vec<String>,
    /// The protected resource (RFC 8707) the token is meant for. Defaults to none.
    pub resource: Option<String>,
}

/// Never prints the token or the secret.
impl std::fmt::Debug for IntrospectRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectRequest")
            .field("issuer", &self.issuer)
            .field("endpoint", &self.endpoint)
            .field("client_id", &self.client_id)
            .field("resource", &self.resource)
            .finish_non_exhaustive()
    }
}

/// The middleware configuration and options the request stands for.
fn build(
    req: &IntrospectRequest,
    fetcher: Arc<dyn Fetcher>,
    poster: Arc<dyn Poster>,
    clock: Arc<dyn Clock>,
) -> Result<(Introspector, Guard), InspectError> {
    let (config, mut options) =
        middleware_setup(&req.issuer, req.server_type.as_deref(), req.resource.as_deref(), &req.audience, &req.scopes);
    let mut introspection = Map::new();
    introspection.insert("clientId".into(), json!(req.client_id));
    introspection.insert("clientSecret".into(), json!(req.client_secret));
    if let Some(endpoint) = &req.endpoint {
        introspection.insert("endpoint".into(), json!(endpoint));
    }
    if let Some(method) = &req.auth_method {
        introspection.insert("authMethod".into(), json!(method));
    }
    options.insert("introspection".into(), Value::Object(introspection));
    let config = AuthConfig::parse(&config).map_err(bad_argument)?;
    let (options, introspector) =
        Introspector::configure(&config, Some(&Value::Object(options)), fetcher.clone(), poster, clock.clone())
            .map_err(bad_argument)?;
    let guard = Guard::new(&config, options, false, fetcher, clock).map_err(bad_argument)?;
    Ok((introspector, guard))
}

fn skip_rest(checks: &mut Vec<Check>, names: &[&'static str], why: &str) {
    checks.extend(names.iter().map(|n| skipped(n, why)));
}

const AFTER_ANSWER: &[&str] = &["active", "exp", "nbf", "iat", "issuer", "token_type", "claim types"];
const AFTER_CLAIMS: &[&str] = &["audience", "scopes"];

/// Runs every check of `bearerAuth('introspection')` on `req.token`: one call to the endpoint,
/// nothing cached. Errors only when nothing can be checked: bad arguments, or an issuer whose
/// metadata (and so the endpoint) cannot be fetched or used.
pub async fn inspect(
    req: &IntrospectRequest,
    fetcher: Arc<dyn Fetcher>,
    poster: Arc<dyn Poster>,
    clock: Arc<dyn Clock>,
) -> Result<Inspection, InspectError> {
    let (introspector, guard) = build(req, fetcher, poster, clock.clone())?;
    let i = &introspector;
    let url = i
        .endpoint
        .url(i.fetcher.as_ref(), i.clock.as_ref(), i.timeout)
        .await
        .map_err(|e| InspectError::Issuer(format!("{}: {}", req.issuer, explain(&e))))?;
    let source = match &i.endpoint {
        super::endpoint::Endpoint::Fixed(_) => "configured",
        super::endpoint::Endpoint::Discovered(_) => "from the issuer's metadata",
    };
    let mut checks = vec![check("endpoint", Ok(format!("{url} ({source})")))];
    let inspection = |checks, claims| Inspection { header: json!({}), claims, checks };

    let request = i.client.request(&req.token);
    let body = match i.poster.post_form(url.as_str(), &request, i.timeout).await {
        Ok(body) => body,
        Err(e) => {
            checks.push(check("call", Err(call::failure(&e, url.as_str()))));
            skip_rest(&mut checks, &["answer"], "needs an answer");
            skip_rest(&mut checks, AFTER_ANSWER, "needs an answer");
            skip_rest(&mut checks, AFTER_CLAIMS, "needs an answer");
            return Ok(inspection(checks, Map::new()));
        }
    };
    let method = req.auth_method.as_deref().unwrap_or("client_secret_basic");
    checks.push(check("call", Ok(format!("HTTP 200, {} bytes; {method} as {}", body.len(), req.client_id))));
    let members = match answer::parse(&body) {
        Ok(m) => m,
        Err(e) => {
            checks.push(check("answer", Err(e)));
            skip_rest(&mut checks, AFTER_ANSWER, "needs a JSON object");
            skip_rest(&mut checks, AFTER_CLAIMS, "needs a JSON object");
            return Ok(inspection(checks, Map::new()));
        }
    };
    checks.push(check("answer", Ok(format!("a JSON object with {} members", members.len()))));
    checks.push(check("active", answer::check_active(&members).map(|()| "true".to_owned())));

    let rules = &i.rules;
    let now = clock.unix_seconds();
    let skew = format!("clock skew allowed {} s", rules.clock_tolerance);
    let when = |name: &str| match members.get(name).and_then(Value::as_f64) {
        Some(t) => format!("{} ({}; {skew})", utc(t), seconds(t - now)),
        None => "absent".to_owned(),
    };
    checks.push(check("exp", rules.check_exp(&members, now).map(|()| when("exp"))));
    checks.push(check("nbf", rules.check_nbf(&members, now).map(|()| when("nbf"))));
    checks.push(check("iat", rules.check_iat(&members, now).map(|()| when("iat"))));
    let iss = match members.get("iss").and_then(Value::as_str) {
        Some(iss) => format!("{iss} is the introspecting issuer"),
        None => format!("absent; the introspecting issuer {} is assumed", i.issuer),
    };
    checks.push(check("issuer", answer::check_issuer(&members, &i.issuer).map(|()| iss)));
    let token_type = members.get("token_type").and_then(Value::as_str).unwrap_or("absent").to_owned();
    checks.push(check("token_type", answer::check_token_type(&members).map(|()| token_type)));

    match answer::auth_info(members.clone(), &i.issuer) {
        Ok(info) => {
            checks.push(check("claim types", Ok("client_id, sub, aud, exp and scope are well formed".into())));
            checks.push(match guard.expected_audience() {
                None => skipped("audience", "not checked (no --audience or --resource given)"),
                Some(expected) => check(
                    "audience",
                    guard.check_audience(&info).map(|()| format!("matches {}", expected.configured.join(", "))),
                ),
            });
            let granted = if info.scopes.is_empty() { "(none)".to_owned() } else { info.scopes.join(" ") };
            let required = &guard.options().required_scopes;
            checks.push(match required.is_empty() {
                true => skipped("scopes", &format!("none required; granted: {granted}")),
                false => check("scopes", guard.check_scopes(&info).map(|()| format!("granted: {granted}"))),
            });
        }
        Err(e) => {
            checks.push(check("claim types", Err(e)));
            skip_rest(&mut checks, AFTER_CLAIMS, "needs well-formed members");
        }
    }
    Ok(inspection(checks, members))
}
