//! The Node binding: converts JS values to core types, runs verification on the tokio runtime,
//! and shapes outcomes for the Express glue in `index.js`. No decisions are made here.

mod discovery;
mod inspect;
mod outcome;
mod verifier;

use crate::clock::{Clock, SystemClock};
use crate::config::{AuthConfig, Mode};
use crate::error::{ConfigError, ErrorCode};
use crate::fetch::{Fetcher, HttpFetcher};
use crate::guard::{CustomDecision, Guard};
use crate::options::BearerOptions;
use crate::resource_metadata;
use napi::bindgen_prelude::{Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;
use outcome::Outcome;
use serde_json::Value;
use std::sync::Arc;
use verifier::VerifierFn;

/// Error codes the binding throws with, read by `index.js` to pick the JS error class.
pub enum ThrowCode {
    /// A JS `TypeError`.
    TypeError,
    /// `MCPAuthAuthServerError('invalid_server_config')`.
    InvalidServerConfig,
}

impl AsRef<str> for ThrowCode {
    fn as_ref(&self) -> &str {
        match self {
            ThrowCode::TypeError => "ERR_INVALID_ARG_TYPE",
            ThrowCode::InvalidServerConfig => ErrorCode::InvalidServerConfig.as_str(),
        }
    }
}

/// Converts a configuration error into the error `index.js` rethrows as a JS class.
fn to_napi_error(e: ConfigError) -> napi::Error<ThrowCode> {
    match e {
        ConfigError::Type(m) => napi::Error::new(ThrowCode::TypeError, m),
        ConfigError::Invalid(m) => napi::Error::new(ThrowCode::InvalidServerConfig, m),
    }
}

/// One row of the error code table.
#[napi(object)]
pub struct ErrorCodeEntry {
    /// The JS class that carries the code.
    pub class_name: String,
    /// The snake_case code.
    pub code: String,
    /// Its description.
    pub description: String,
}

/// The error code table, from which `index.js` builds the error classes' description records.
#[napi]
pub fn error_codes() -> Vec<ErrorCodeEntry> {
    ErrorCode::ALL
        .iter()
        .map(|c| ErrorCodeEntry {
            class_name: c.class().js_name().to_owned(),
            code: c.as_str().to_owned(),
            description: c.description().to_owned(),
        })
        .collect()
}

/// One resource's metadata document.
#[napi(object)]
pub struct ResourceDocument {
    /// Where it is published.
    pub metadata_url: String,
    /// The JSON document.
    pub document: String,
}

/// The native half of `MCPAuth`: a checked configuration.
#[napi(js_name = "NativeMCPAuth")]
pub struct NativeMcpAuth {
    config: Arc<AuthConfig>,
    fetcher: Arc<dyn Fetcher>,
    clock: Arc<dyn Clock>,
}

#[napi]
impl NativeMcpAuth {
    /// Checks `config`; throws naming the first bad field.
    #[napi(constructor, catch_unwind)]
    pub fn new(config: Option<Value>) -> napi::Result<Self, ThrowCode> {
        let config = AuthConfig::parse(&config.unwrap_or(Value::Null)).map_err(to_napi_error)?;
        Ok(Self { config: Arc::new(config), fetcher: Arc::new(HttpFetcher), clock: Arc::new(SystemClock::default()) })
    }

    /// The RFC 9728 documents to serve: one per resource, with its metadata URL.
    #[napi]
    pub fn resource_documents(&self) -> Vec<ResourceDocument> {
        match &self.config.mode {
            Mode::Legacy(_) => Vec::new(),
            Mode::Resources(list) => list
                .iter()
                .map(|r| ResourceDocument {
                    metadata_url: r.metadata_url.clone(),
                    document: Value::Object(resource_metadata::document(r)).to_string(),
                })
                .collect(),
        }
    }

    /// Whether the configuration is the legacy `{ server }` form.
    #[napi(getter)]
    pub fn legacy(&self) -> bool {
        matches!(self.config.mode, Mode::Legacy(_))
    }

    /// Builds the guard for `bearerAuth('jwt', options)`.
    #[napi(catch_unwind)]
    pub fn jwt_guard(&self, options: Option<Value>) -> napi::Result<NativeGuard, ThrowCode> {
        let options = BearerOptions::parse(options.as_ref()).map_err(to_napi_error)?;
        let guard =
            Guard::new(&self.config, options, true, self.fetcher.clone(), self.clock.clone()).map_err(to_napi_error)?;
        Ok(NativeGuard { guard: Arc::new(guard), verifier: None })
    }

    /// Builds the guard for `bearerAuth(verify, options)`; `settle` is the glue's wrapper around
    /// the user's function.
    #[napi(catch_unwind, ts_args_type = "settle: (token: string, callId: number) => Promise<Verdict>, options?: any")]
    pub fn custom_guard(&self, settle: VerifierFn, options: Option<Value>) -> napi::Result<NativeGuard, ThrowCode> {
        let options = BearerOptions::parse_custom(options.as_ref()).map_err(to_napi_error)?;
        let guard = Guard::new(&self.config, options, false, self.fetcher.clone(), self.clock.clone())
            .map_err(to_napi_error)?;
        Ok(NativeGuard { guard: Arc::new(guard), verifier: Some(Arc::new(settle)) })
    }
}

/// One middleware's verifier.
#[napi]
pub struct NativeGuard {
    guard: Arc<Guard>,
    /// Custom mode's function; `None` in JWT mode.
    verifier: Option<Arc<VerifierFn>>,
}

#[napi]
impl NativeGuard {
    /// See `Guard::key_epoch`: an outcome marked reusable holds while this is unchanged.
    #[napi]
    pub fn key_epoch(&self) -> f64 {
        // Versions count key set fetches: far below 2^53, so exact as a JS number.
        self.guard.key_epoch() as f64
    }

    /// Verifies the `Authorization` header of one request. Header problems are answered at once;
    /// a token is verified on the tokio runtime and answered through a Promise. In custom mode,
    /// `callId` is handed to the glue's wrapper with the token, to pair its verdict with the request.
    #[napi(catch_unwind, ts_return_type = "Outcome | Promise<Outcome>")]
    pub fn verify<'env>(
        &self,
        env: &'env Env,
        authorization: Option<String>,
        call_id: Option<u32>,
    ) -> napi::Result<Either<Outcome, PromiseRaw<'env, Outcome>>> {
        let token = match self.guard.token(authorization.as_deref()) {
            Ok(token) => token.to_owned(),
            Err(e) => return Ok(Either::A(Outcome::rejected(self.guard.reject(&e)))),
        };
        let guard = self.guard.clone();
        let promise = match self.verifier.clone() {
            None => env.spawn_future(async move {
                Ok(match guard.verify_token(&token).await {
                    Ok(verified) => {
                        let outcome = match guard.authorize(&verified.info) {
                            Ok(()) => Outcome::accepted(verified.info),
                            Err(e) => Outcome::rejected(guard.reject(&e)),
                        };
                        outcome.reusable(verified.until, verified.key_epoch)
                    }
                    Err(e) => Outcome::rejected(guard.reject(&e)),
                })
            })?,
            Some(settle) => env.spawn_future(async move {
                let verdict = verifier::call(&settle, token, call_id.unwrap_or_default());
                Ok(match guard.verify_custom(verdict).await {
                    CustomDecision::Accept(_) => Outcome::vouched(),
                    CustomDecision::Reject(e) => Outcome::rejected(guard.reject(&e)),
                    CustomDecision::Forward => Outcome::forward(),
                })
            })?,
        };
        Ok(Either::B(promise))
    }
}
