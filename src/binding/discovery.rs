//! The binding of the discovery API: `fetchServerConfig*` (fetch on the tokio runtime, then check
//! after the JS `transpileData`), `validateServerConfig`, the legacy `delegatedRouter()` document
//! and the configuration warnings. Translation only; the rules are in the core modules.

use super::{NativeMcpAuth, ThrowCode};
use crate::config::Mode;
use crate::discovery::{http_url, well_known_url, ServerType};
use crate::error::{AuthError, ErrorCode};
use crate::response::{ChallengeContext, Rejection};
use crate::server_config::{self, ServerConfigError, DEFAULT_TIMEOUT};
use crate::{delegated, server_validation};
use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;
use serde_json::Value;
use std::time::Duration;

/// Why a metadata document could not be fetched or used.
#[napi(object)]
pub struct ServerConfigFailure {
    /// `fetch_server_config_error`, `invalid_server_metadata`, or `ERR_INVALID_ARG_TYPE` for a bad URL.
    pub code: String,
    /// A sentence saying what happened.
    pub message: String,
    /// Details (an object with at least `message`).
    pub cause: Option<Value>,
}

/// A fetched or checked metadata document, or why there is none.
#[napi(object)]
pub struct ServerDocumentOutcome {
    /// The document: snake_case as fetched, or camelCase once checked.
    pub document: Option<Value>,
    /// The failure, when there is no document.
    pub error: Option<ServerConfigFailure>,
}

impl From<Result<serde_json::Map<String, Value>, ServerConfigError>> for ServerDocumentOutcome {
    fn from(r: Result<serde_json::Map<String, Value>, ServerConfigError>) -> Self {
        match r {
            Ok(doc) => Self { document: Some(Value::Object(doc)), error: None },
            Err(e) => Self {
                document: None,
                error: Some(ServerConfigFailure {
                    code: e.code.as_str().to_owned(),
                    message: e.message,
                    cause: Some(e.cause),
                }),
            },
        }
    }
}

fn type_error(message: String) -> napi::Error<ThrowCode> {
    napi::Error::new(ThrowCode::TypeError, message)
}

/// The metadata URL of `issuer` for `serverType` (`'oidc'` or `'oauth'`). Throws a `TypeError`
/// for an issuer that is not an http(s) URL or an unknown type.
#[napi(catch_unwind)]
pub fn server_metadata_url(issuer: String, server_type: String) -> napi::Result<String, ThrowCode> {
    let t = ServerType::parse(&server_type)
        .ok_or_else(|| type_error(format!("`config.type` must be 'oidc' or 'oauth'; got '{server_type}'.")))?;
    let url =
        http_url(&issuer).ok_or_else(|| type_error(format!("The issuer must be an http(s) URL; got `{issuer}`.")))?;
    Ok(well_known_url(&url, t).to_string())
}

/// Fetches the metadata document at `url` on the tokio runtime: a JSON object, at most 1 MiB,
/// within `timeoutMs` (defaults to `5000`), no redirects. Never rejects; failures are outcomes.
#[napi(catch_unwind)]
pub async fn fetch_server_document(url: String, timeout_ms: Option<f64>) -> napi::Result<ServerDocumentOutcome> {
    if http_url(&url).is_none() {
        return Ok(ServerDocumentOutcome {
            document: None,
            error: Some(ServerConfigFailure {
                code: ThrowCode::TypeError.as_ref().to_owned(),
                message: format!("The well-known URL must be an http(s) URL; got `{url}`."),
                cause: None,
            }),
        });
    }
    let timeout = match timeout_ms {
        Some(ms) if ms.is_finite() && ms > 0.0 => Duration::from_secs_f64(ms.min(86_400_000.0) / 1000.0),
        _ => DEFAULT_TIMEOUT,
    };
    let fetcher = crate::fetch::HttpFetcher;
    Ok(server_config::fetch_document(&fetcher, &url, timeout).await.into())
}

/// Checks a (possibly transpiled) document and returns it in camelCase; `expectedIssuer`, when
/// given, must equal its `issuer` exactly.
#[napi(catch_unwind)]
pub fn resolve_server_document(document: Value, expected_issuer: Option<String>) -> ServerDocumentOutcome {
    server_config::resolve(&document, expected_issuer.as_deref()).into()
}

/// `validateServerConfig(config, verbose)`: `mcp-auth`'s result object, with each error's
/// `cause` as a sentence (`server-config.js` makes it an `Error`).
#[napi(catch_unwind)]
pub fn validate_server_config(config: Value, verbose: Option<bool>) -> Value {
    server_validation::validate(config.get("metadata")).to_json(verbose.unwrap_or(false))
}

/// The configuration's warnings, one sentence each.
#[napi(catch_unwind)]
pub fn config_warnings(auth: &NativeMcpAuth) -> Vec<String> {
    auth.config.warnings()
}

/// What `delegatedRouter()` answers.
#[napi(object)]
pub struct DocumentAnswer {
    /// 200, or 503 / 500 when discovery failed.
    pub status: u32,
    /// The JSON body: the metadata document, or an error object.
    pub body: String,
    /// `Retry-After` seconds, on 503.
    pub retry_after: Option<u32>,
}

/// The legacy mode's authorization server metadata, as the `delegatedRouter()` answer: `status`
/// 200 with the JSON `body`, or 503 (with `retryAfter`) / 500 as for requests.
#[napi(catch_unwind, ts_return_type = "Promise<DocumentAnswer>")]
pub fn authorization_server_document<'env>(
    env: &'env Env,
    auth: &NativeMcpAuth,
) -> napi::Result<PromiseRaw<'env, DocumentAnswer>> {
    let server = match &auth.config.mode {
        Mode::Legacy(server) => Some(server.clone()),
        Mode::Resources(_) => None,
    };
    let (fetcher, clock) = (auth.fetcher.clone(), auth.clock.clone());
    env.spawn_future(async move {
        let document = match &server {
            Some(s) => delegated::document(s, fetcher.as_ref(), clock.as_ref(), DEFAULT_TIMEOUT).await,
            None => Err(AuthError::new(ErrorCode::InvalidServerConfig)),
        };
        Ok(match document {
            Ok(doc) => DocumentAnswer { status: 200, body: Value::Object(doc).to_string(), retry_after: None },
            Err(e) => {
                let r = Rejection::render(&e, &ChallengeContext::default(), false);
                DocumentAnswer {
                    status: u32::from(r.status),
                    body: r.body,
                    retry_after: r.retry_after.map(|s| u32::try_from(s).unwrap_or(u32::MAX)),
                }
            }
        })
    })
}
