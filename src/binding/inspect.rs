//! `inspect(args)`: the `mcp-auth-native inspect` command's checks, run by the core on tokio and
//! returned as a plain object (see `crate::inspect`).

use crate::clock::SystemClock;
use crate::fetch::HttpFetcher;
use crate::inspect::{self, InspectError, InspectRequest, Inspection};
use crate::introspection::{self, inspect::IntrospectRequest};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use std::sync::Arc;

/// What to inspect.
#[napi(object)]
pub struct InspectArgs {
    /// The access token.
    pub token: String,
    /// The issuer identifier.
    pub issuer: String,
    /// `oidc` or `oauth`. Defaults to `oidc`.
    pub server_type: Option<String>,
    /// Expected audiences (any one matches). Defaults to the resource.
    pub audience: Option<Vec<String>>,
    /// Scopes that must all be granted. Defaults to none.
    pub scopes: Option<Vec<String>>,
    /// The protected resource. Defaults to none.
    pub resource: Option<String>,
}

/// One check's verdict.
#[napi(object)]
pub struct InspectCheck {
    /// The check's name.
    pub name: String,
    /// `passed`, `failed` or `skipped`.
    pub status: String,
    /// What was found, or why it failed.
    pub detail: String,
}

/// The result: either `error` (one line) or the checks.
#[napi(object)]
pub struct InspectResult {
    /// Why nothing could be checked; absent when the checks ran.
    pub error: Option<String>,
    /// Whether the middleware would accept the token.
    pub accepted: bool,
    /// The decoded protected header, as JSON.
    pub header: Option<String>,
    /// The decoded claims, as JSON.
    pub claims: Option<String>,
    /// The checks in order.
    pub checks: Vec<InspectCheck>,
}

/// Inspects a token against an issuer; never rejects (errors are in `error`).
#[napi(catch_unwind, ts_return_type = "Promise<InspectResult>")]
pub fn inspect<'env>(env: &'env Env, args: InspectArgs) -> napi::Result<PromiseRaw<'env, InspectResult>> {
    let req = InspectRequest {
        token: args.token,
        issuer: args.issuer,
        server_type: args.server_type,
        audience: args.audience.unwrap_or_default(),
        scopes: args.scopes.unwrap_or_default(),
        resource: args.resource,
    };
    env.spawn_future(async move {
        let result = inspect::inspect(&req, Arc::new(HttpFetcher), Arc::new(SystemClock::default())).await;
        Ok(InspectResult::from_result(result.map(|i| (Some(i.header.to_string()), i))))
    })
}

/// What to introspect (`inspect --introspect`).
#[napi(object)]
pub struct IntrospectArgs {
    /// The access token.
    pub token: String,
    /// The issuer identifier.
    pub issuer: String,
    /// `oidc` or `oauth`. Defaults to `oidc`.
    pub server_type: Option<String>,
    /// The introspection URL. Defaults to the issuer's metadata `introspection_endpoint`.
    pub endpoint: Option<String>,
    /// This resource server's client id.
    pub client_id: String,
    /// This resource server's client secret.
    pub client_secret: String,
    /// `client_secret_basic` (default) or `client_secret_post`.
    pub auth_method: Option<String>,
    /// Expected audiences (any one matches). Defaults to the resource.
    pub audience: Option<Vec<String>>,
    /// Scopes that must all be granted. Defaults to none.
    pub scopes: Option<Vec<String>>,
    /// The protected resource. Defaults to none.
    pub resource: Option<String>,
}

/// Introspects a token at an issuer's endpoint and runs the checks of `bearerAuth('introspection')`;
/// never rejects (errors are in `error`). `header` is absent; `claims` are the answer's members.
#[napi(catch_unwind, ts_return_type = "Promise<InspectResult>")]
pub fn inspect_introspection<'env>(
    env: &'env Env,
    args: IntrospectArgs,
) -> napi::Result<PromiseRaw<'env, InspectResult>> {
    let req = IntrospectRequest {
        token: args.token,
        issuer: args.issuer,
        server_type: args.server_type,
        endpoint: args.endpoint,
        client_id: args.client_id,
        client_secret: args.client_secret,
        auth_method: args.auth_method,
        audience: args.audience.unwrap_or_default(),
        scopes: args.scopes.unwrap_or_default(),
        resource: args.resource,
    };
    env.spawn_future(async move {
        let http = Arc::new(HttpFetcher);
        let result = introspection::inspect::inspect(&req, http.clone(), http, Arc::new(SystemClock::default())).await;
        Ok(InspectResult::from_result(result.map(|i| (None, i))))
    })
}

impl InspectResult {
    /// The JS shape of an inspection (with the token's `header`, when it has one to show) or of
    /// the error that stopped it.
    fn from_result(result: Result<(Option<String>, Inspection), InspectError>) -> Self {
        match result {
            Ok((header, i)) => InspectResult {
                error: None,
                accepted: i.accepted(),
                header,
                claims: Some(serde_json::Value::Object(i.claims).to_string()),
                checks: i
                    .checks
                    .into_iter()
                    .map(|c| InspectCheck {
                        name: c.name.to_owned(),
                        status: c.status.as_str().to_owned(),
                        detail: c.detail,
                    })
                    .collect(),
            },
            Err(e) => InspectResult {
                error: Some(e.to_string()),
                accepted: false,
                header: None,
                claims: None,
                checks: Vec::new(),
            },
        }
    }
}
