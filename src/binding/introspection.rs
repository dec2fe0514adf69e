//! `bearerAuth('introspection')`: a [`NativeGuard`] whose tokens are judged by the core's
//! [`Introspector`]; to the glue it is the same as the JWT guard.

use super::delivery::DoneFn;
use super::outcome::Outcome;
use super::{authorized, to_napi_error, Judge, NativeGuard, NativeMcpAuth, ThrowCode};
use crate::fetch::HttpFetcher;
use crate::guard::Guard;
use crate::introspection::Introspector;
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
) -> napi::Result<NativeGuard, ThrowCode> {
    let http = Arc::new(HttpFetcher);
    let (options, introspector) =
        Introspector::configure(&auth.config, options.as_ref(), http.clone(), http, auth.clock.clone())
            .map_err(to_napi_error)?;
    let guard =
        Guard::new(&auth.config, options, false, auth.fetcher.clone(), auth.clock.clone()).map_err(to_napi_error)?;
    auth.advertise(guard.options());
    Ok(NativeGuard::new(guard, Judge::Introspection(Arc::new(introspector)), done))
}

/// The outcome of introspecting `token` for `guard`'s endpoint, for a request that needs the
/// scopes `needed`.
pub(super) async fn outcome(guard: &Guard, introspector: &Introspector, token: &str, needed: &[String]) -> Outcome {
    match introspector.introspect(token).await {
        Ok(v) => {
            let outcome = authorized(guard, v.info, needed);
            // As in JWT mode, only a token that comes back is kept in the glue's memo; it holds
            // exactly as long as the cache's answer (never past `exp` or `cacheMaxAge`).
            if v.called {
                outcome
            } else {
                outcome.reusable(v.until, guard.key_epoch())
            }
        }
        Err(e) => Outcome::rejected(guard.reject(&e)),
    }
}
