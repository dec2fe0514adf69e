//! `bearerAuth('introspection')`: a native guard with the JS-facing interface of the JWT guard
//! (`verify`, `keyEpoch`, `check`, `grants`, the `done` callback and the memo's `reuseUntil`),
//! whose tokens are judged by the core's [`Introspector`].

use super::delivery::{Delivery, DoneFn};
use super::operation::JsRequested;
use super::outcome::Outcome;
use super::{to_napi_error, CatchUnwind, NativeMcpAuth, ThrowCode};
use crate::error::{AuthError, ErrorCode};
use crate::fetch::HttpFetcher;
use crate::guard::Guard;
use crate::introspection::Introspector;
use crate::scopes::Requested;
use napi::bindgen_prelude::spawn;
use napi_derive::napi;
use serde_json::Value;
use std::sync::Arc;

/// Builds the guard for `bearerAuth('introspection', options)` on `auth`'s configuration; `done`
/// receives the outcomes, as for the JWT guard. Every option is checked here.
#[napi(catch_unwind, ts_args_type = "auth: NativeMCPAuth, done: (outcomes: Outcome[]) => void, options?: any")]
pub fn introspection_guard(
    auth: &NativeMcpAuth,
    done: DoneFn,
    options: Option<Value>,
) -> napi::Result<NativeIntrospectionGuard, ThrowCode> {
    let http = Arc::new(HttpFetcher);
    let (options, introspector) =
        Introspector::configure(&auth.config, options.as_ref(), http.clone(), http, auth.clock.clone())
            .map_err(to_napi_error)?;
    let guard =
        Guard::new(&auth.config, options, false, auth.fetcher.clone(), auth.clock.clone()).map_err(to_napi_error)?;
    Ok(NativeIntrospectionGuard {
        shared: Arc::new(Shared { guard, introspector }),
        done: Arc::new(Delivery::new(done)),
    })
}

/// What every request of one middleware shares.
struct Shared {
    /// Issuer, audience and scope checks, and the rendering of refusals.
    guard: Guard,
    /// Endpoint, credentials, answer checks and the cache.
    introspector: Introspector,
}

/// One `bearerAuth('introspection')` middleware's verifier.
#[napi]
pub struct NativeIntrospectionGuard {
    shared: Arc<Shared>,
    done: Arc<Delivery>,
}

/// The outcome of introspecting `token` for a request that needs the scopes `needed`.
async fn outcome(shared: &Shared, token: &str, needed: &[String]) -> Outcome {
    let guard = &shared.guard;
    match shared.introspector.introspect(token).await {
        Ok(v) => {
            let outcome = match guard.authorize_for(&v.info, needed) {
                Ok(()) => Outcome::accepted(v.info),
                // As in JWT mode: with per-operation scopes the identity is kept, not the refusal.
                Err(e) if e.code == ErrorCode::MissingRequiredScopes && guard.per_operation() => {
                    Outcome::rejected(guard.reject_for(&e, needed)).with_identity(v.info)
                }
                Err(e) => Outcome::rejected(guard.reject_for(&e, needed)),
            };
            // As in JWT mode, only a token that comes back is kept in the glue's memo; it holds
            // exactly as long as the cache's answer (never past `exp` or `cacheMaxAge`).
            if v.called {
                outcome
            } else {
                outcome.reusable(v.until, 0)
            }
        }
        Err(e) => Outcome::rejected(guard.reject(&e)),
    }
}

#[napi]
impl NativeIntrospectionGuard {
    /// Always 0: an introspection answer depends on no key set; the memo's `reuseUntil` bounds it.
    #[napi]
    pub fn key_epoch(&self) -> f64 {
        0.0
    }

    /// Whether `toolScopes` or `scopesFor` is configured (see the JWT guard).
    #[napi(getter)]
    pub fn per_operation(&self) -> bool {
        self.shared.guard.per_operation()
    }

    /// Advice about the options.
    #[napi]
    pub fn warnings(&self) -> Vec<String> {
        self.shared.guard.options().warnings()
    }

    /// For an identity from the glue's memo: `null` when `scopes` cover what `operation` needs,
    /// else the refusal.
    #[napi(catch_unwind)]
    pub fn check(&self, scopes: Vec<String>, operation: JsRequested) -> Option<Outcome> {
        let guard = &self.shared.guard;
        let requested = Requested::from(operation);
        let needed = match guard.needed(Some(&requested)) {
            Ok(needed) => needed,
            Err(e) => return Some(Outcome::rejected(guard.reject(&e))),
        };
        let refused = guard.check_needed(&scopes, &needed).err();
        refused.map(|e| Outcome::rejected(guard.reject_for(&e, &needed)))
    }

    /// `mcpAuth.hasScopes`: whether `granted` covers every scope of `wanted` under the scope hierarchy.
    #[napi(catch_unwind)]
    pub fn grants(&self, granted: Vec<String>, wanted: Vec<String>) -> bool {
        self.shared.guard.grants(&granted, &wanted)
    }

    /// Introspects the token of one request's `Authorization` header, for its `operation` when
    /// per-operation scopes are configured. Header problems are answered at once, as the return
    /// value; otherwise the outcome goes to `done(outcomes)`, with its `callId`, and the return value is `null`.
    #[napi(catch_unwind, ts_return_type = "Outcome | null")]
    pub fn verify(
        &self,
        authorization: Option<String>,
        call_id: u32,
        operation: Option<JsRequested>,
    ) -> Option<Outcome> {
        let guard = &self.shared.guard;
        let needed: Option<Vec<String>> = match operation.map(Requested::from) {
            Some(requested) if guard.per_operation() => match guard.needed(Some(&requested)) {
                Ok(needed) => Some(needed.into_owned()),
                Err(e) => return Some(Outcome::rejected(guard.reject(&e))),
            },
            _ => None,
        };
        let token = match guard.token(authorization.as_deref()) {
            Ok(token) => token.to_owned(),
            Err(e) => return Some(Outcome::rejected(guard.reject(&e))),
        };
        let shared = self.shared.clone();
        let done = self.done.clone();
        spawn(async move {
            let work = async {
                let needed = needed.as_deref().unwrap_or(&shared.guard.options().required_scopes);
                outcome(&shared, &token, needed).await
            };
            // A bug must answer the request with a 500, not leave it (and Node) waiting forever.
            let outcome = CatchUnwind(Box::pin(work))
                .await
                .unwrap_or_else(|| Outcome::rejected(shared.guard.reject(&AuthError::new(ErrorCode::ServerError))));
            done.deliver(call_id, outcome);
        });
        None
    }
}
