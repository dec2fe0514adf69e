//! The Node binding: converts JS values to core types, runs verification on the tokio runtime,
//! and shapes outcomes for the Express glue in `lib/`. No decisions are made here.

mod delivery;
mod discovery;
mod dpop;
mod inspect;
mod introspection;
mod operation;
mod outcome;
mod signature_checks;
mod verifier;

use crate::auth_info::AuthInfo;
use crate::clock::{Clock, SystemClock};
use crate::config::{AuthConfig, Mode};
use crate::error::{AuthError, ConfigError, ErrorCode};
use crate::fetch::{Fetcher, HttpFetcher};
use crate::guard::{CustomDecision, Guard, Presentation};
use crate::introspection::Introspector;
use crate::options::BearerOptions;
use crate::resource_metadata::{self, DpopAdvert};
use crate::response::Presented;
use crate::scopes::Requested;
use delivery::{Delivery, DoneFn};
use napi::bindgen_prelude::spawn;
use napi_derive::napi;
use operation::JsRequested;
use outcome::Outcome;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use verifier::{JsVerdict, VerifierFn, Waiting};

/// Error codes the binding throws with, read by `lib/errors.js` to pick the JS error class.
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

/// Converts a configuration error into the error `lib/errors.js` rethrows as a JS class.
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

/// The error code table, from which `lib/errors.js` builds the error classes' description records.
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
    /// What the DPoP middlewares made so far advertise, by resource identifier.
    adverts: Mutex<HashMap<String, DpopAdvert>>,
    /// Counts changes of `adverts`, so that a router made earlier knows to rebuild its documents.
    documents_version: AtomicU32,
}

impl NativeMcpAuth {
    /// Records that a middleware for `options.resource` has DPoP on, for the resource's metadata.
    fn advertise(&self, options: &BearerOptions) {
        let (Some(dpop), Some(resource)) = (&options.dpop, options.resource.as_deref()) else { return };
        if self.config.resource(resource).is_none() {
            return;
        }
        let mut adverts = self.adverts.lock().unwrap_or_else(PoisonError::into_inner);
        let advert = adverts.entry(resource.to_owned()).or_default();
        let before = advert.clone();
        advert.add(dpop);
        if *advert != before {
            self.documents_version.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[napi]
impl NativeMcpAuth {
    /// Checks `config`; throws naming the first bad field.
    #[napi(constructor, catch_unwind)]
    pub fn new(config: Option<Value>) -> napi::Result<Self, ThrowCode> {
        let config = AuthConfig::parse(&config.unwrap_or(Value::Null)).map_err(to_napi_error)?;
        Ok(Self {
            config: Arc::new(config),
            fetcher: Arc::new(HttpFetcher),
            clock: Arc::new(SystemClock::default()),
            adverts: Mutex::default(),
            documents_version: AtomicU32::new(0),
        })
    }

    /// The RFC 9728 documents to serve: one per resource, with its metadata URL, advertising
    /// DPoP as the middlewares made so far do.
    #[napi]
    pub fn resource_documents(&self) -> Vec<ResourceDocument> {
        let adverts = self.adverts.lock().unwrap_or_else(PoisonError::into_inner);
        match &self.config.mode {
            Mode::Legacy(_) => Vec::new(),
            Mode::Resources(list) => list
                .iter()
                .map(|r| {
                    let mut doc = resource_metadata::document(r);
                    if let Some(advert) = adverts.get(&r.resource) {
                        advert.apply(&mut doc);
                    }
                    ResourceDocument { metadata_url: r.metadata_url.clone(), document: Value::Object(doc).to_string() }
                })
                .collect(),
        }
    }

    /// Changes whenever [`NativeMcpAuth::resource_documents`] would return other documents.
    #[napi(getter)]
    pub fn documents_version(&self) -> u32 {
        self.documents_version.load(Ordering::Relaxed)
    }

    /// Whether the configuration is the legacy `{ server }` form.
    #[napi(getter)]
    pub fn legacy(&self) -> bool {
        matches!(self.config.mode, Mode::Legacy(_))
    }

    /// Builds the guard for `bearerAuth('jwt', options)`; `done` receives the outcomes of
    /// verifications that went to the tokio runtime.
    #[napi(catch_unwind, ts_args_type = "done: (outcomes: Outcome[]) => void, options?: any")]
    pub fn jwt_guard(&self, done: DoneFn, options: Option<Value>) -> napi::Result<NativeGuard, ThrowCode> {
        let options = BearerOptions::parse(options.as_ref()).map_err(to_napi_error)?;
        let guard =
            Guard::new(&self.config, options, true, self.fetcher.clone(), self.clock.clone()).map_err(to_napi_error)?;
        self.advertise(guard.options());
        Ok(NativeGuard::new(guard, Judge::Jwt, done))
    }

    /// Builds the guard for `bearerAuth(verify, options)`; `settle` is the glue's wrapper around
    /// the user's function, `done` as for [`NativeMcpAuth::jwt_guard`].
    #[napi(
        catch_unwind,
        ts_args_type = "settle: (token: string, callId: number) => void, done: (outcomes: Outcome[]) => void, options?: any"
    )]
    pub fn custom_guard(
        &self,
        settle: VerifierFn,
        done: DoneFn,
        options: Option<Value>,
    ) -> napi::Result<NativeGuard, ThrowCode> {
        let options = BearerOptions::parse_custom(options.as_ref()).map_err(to_napi_error)?;
        let guard = Guard::new(&self.config, options, false, self.fetcher.clone(), self.clock.clone())
            .map_err(to_napi_error)?;
        Ok(NativeGuard::new(guard, Judge::Custom { settle: Arc::new(settle), waiting: Arc::default() }, done))
    }
}

/// How one middleware's tokens are judged, before the guard's issuer, audience and scope checks.
#[derive(Clone)]
enum Judge {
    /// `bearerAuth('jwt')`: signature and claims, in the core.
    Jwt,
    /// `bearerAuth(verify)`: the user's function, called through the glue's wrapper `settle`;
    /// `waiting` holds the requests waiting for its verdict.
    Custom { settle: Arc<VerifierFn>, waiting: Arc<Waiting> },
    /// `bearerAuth('introspection')`: the authorization server's endpoint (RFC 7662).
    Introspection(Arc<Introspector>),
}

/// One middleware's verifier, the same to the glue in every mode.
#[napi]
pub struct NativeGuard {
    guard: Arc<Guard>,
    judge: Judge,
    done: Arc<Delivery>,
}

impl NativeGuard {
    fn new(guard: Guard, judge: Judge, done: DoneFn) -> Self {
        NativeGuard { guard: Arc::new(guard), judge, done: Arc::new(Delivery::new(done)) }
    }
}

/// A future whose panic becomes `None` instead of unwinding into the runtime.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.0.as_mut().poll(cx))) {
            Ok(Poll::Ready(value)) => Poll::Ready(Some(value)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(_) => Poll::Ready(None),
        }
    }
}

/// The outcome for the identity `info` a token stands for, on a request that needs the scopes
/// `needed`: accepted, or refused by the guard's issuer, audience and scope checks.
fn authorized(guard: &Guard, info: AuthInfo, needed: &[String]) -> Outcome {
    // A DPoP-bound token came with the `Bearer` scheme: refused, with or without the option.
    if let Err(e) = guard.check_binding(&info, Presentation::Bearer) {
        return Outcome::rejected(guard.reject(&e));
    }
    match guard.authorize_for(&info, needed) {
        Ok(()) => Outcome::accepted(info),
        // With per-operation scopes the glue keeps the identity, not the refusal: the same token
        // may be allowed for another operation.
        Err(e) if e.code == ErrorCode::MissingRequiredScopes && guard.per_operation() => {
            Outcome::rejected(guard.reject_for(&e, needed)).with_identity(info)
        }
        Err(e) => Outcome::rejected(guard.reject_for(&e, needed)),
    }
}

/// The outcome of verifying a JWT access token for `guard`'s endpoint, for a request that needs
/// the scopes `needed`.
async fn jwt_outcome(guard: &Guard, token: &str, needed: &[String]) -> Outcome {
    match guard.verify_token(token).await {
        Ok(verified) => {
            let outcome = authorized(guard, verified.info, needed);
            // Only the answer for a token that comes back is worth keeping in the glue's memo.
            if verified.seen_before {
                outcome.reusable(verified.until, verified.key_epoch)
            } else {
                outcome
            }
        }
        Err(e) => Outcome::rejected(guard.reject(&e)),
    }
}

/// The outcome of a custom verifier's verdict on `token` for `guard`'s endpoint.
async fn custom_outcome(
    guard: &Guard,
    settle: &VerifierFn,
    waiting: &Waiting,
    token: String,
    call_id: u32,
    needed: &[String],
) -> Outcome {
    match guard.verify_custom(verifier::call(settle, waiting, token, call_id), needed).await {
        CustomDecision::Accept(_) => Outcome::vouched(),
        CustomDecision::Reject(e) => Outcome::rejected(guard.reject_for(&e, needed)),
        CustomDecision::Forward => Outcome::forward(),
    }
}

#[napi]
impl NativeGuard {
    /// See `Guard::key_epoch`: an outcome marked reusable holds while this is unchanged.
    #[napi]
    pub fn key_epoch(&self) -> f64 {
        // Versions count key set fetches: far below 2^53, so exact as a JS number.
        self.guard.key_epoch() as f64
    }

    /// Custom mode: the glue's wrapper reports the user's function's verdict for `callId`.
    #[napi(catch_unwind)]
    pub fn settled(&self, call_id: u32, verdict: JsVerdict) {
        if let Judge::Custom { waiting, .. } = &self.judge {
            waiting.settle(call_id, verdict.into());
        }
    }

    /// Whether `toolScopes` or `scopesFor` is configured: only then does the glue read the
    /// request's operation and pass it to `verify` and `check`.
    #[napi(getter)]
    pub fn per_operation(&self) -> bool {
        self.guard.per_operation()
    }

    /// Advice about the options (`offline_access` configured as a required scope).
    #[napi]
    pub fn warnings(&self) -> Vec<String> {
        self.guard.options().warnings()
    }

    /// For an identity that passed verification before (the glue's memo): `null` when
    /// `scopes` cover what `operation` needs, else the refusal.
    #[napi(catch_unwind)]
    pub fn check(&self, scopes: Vec<String>, operation: JsRequested) -> Option<Outcome> {
        let requested = Requested::from(operation);
        let needed = match self.guard.needed(Some(&requested)) {
            Ok(needed) => needed,
            Err(e) => return Some(Outcome::rejected(self.guard.reject(&e))),
        };
        let refused = self.guard.check_needed(&scopes, &needed).err();
        refused.map(|e| Outcome::rejected(self.guard.reject_for(&e, &needed)))
    }

    /// `mcpAuth.hasScopes`: whether `granted` covers every scope of `wanted` under the scope hierarchy.
    #[napi(catch_unwind)]
    pub fn grants(&self, granted: Vec<String>, wanted: Vec<String>) -> bool {
        self.guard.grants(&granted, &wanted)
    }

    /// Verifies the `Authorization` header of one request, for its `operation` when per-operation
    /// scopes are configured. Header problems are answered at once, as the return value; a token
    /// is verified on the tokio runtime, and its outcome goes to `done(outcomes)`, with its
    /// `callId` (the return value is then `null`). In custom mode `callId` is also handed to the glue's wrapper
    /// with the token, to pair its verdict with the request.
    #[napi(catch_unwind, ts_return_type = "Outcome | null")]
    pub fn verify(
        &self,
        authorization: Option<String>,
        call_id: u32,
        operation: Option<JsRequested>,
    ) -> Option<Outcome> {
        // Only an operation makes a request need more than `requiredScopes` (kept by the guard:
        // the plain path copies nothing).
        let needed: Option<Vec<String>> = match operation.map(Requested::from) {
            Some(requested) if self.guard.per_operation() => match self.guard.needed(Some(&requested)) {
                Ok(needed) => Some(needed.into_owned()),
                Err(e) => return Some(Outcome::rejected(self.guard.reject(&e))),
            },
            _ => None,
        };
        let token = match self.guard.token(authorization.as_deref()) {
            Ok(token) => token.to_owned(),
            // With DPoP nonces on, the refusal (a challenge that offers DPoP) carries the nonce,
            // which may have to be read from Redis: it is answered on the runtime.
            Err(e) if self.guard.dpop().is_some_and(|d| d.nonce_required()) => {
                let presented = self.guard.presented(authorization.as_deref());
                self.run(call_id, None, move |guard, _, _| async move { dpop::refused(&guard, &e, presented).await });
                return None;
            }
            Err(e) => return Some(Outcome::rejected(self.guard.reject_header(&e, authorization.as_deref()))),
        };
        self.run(call_id, needed, move |guard, judge, needed| async move {
            let needed = needed.as_deref().unwrap_or(&guard.options().required_scopes);
            match judge {
                Judge::Jwt => jwt_outcome(&guard, &token, needed).await,
                Judge::Custom { settle, waiting } => {
                    custom_outcome(&guard, &settle, &waiting, token, call_id, needed).await
                }
                Judge::Introspection(introspector) => {
                    introspection::outcome(&guard, &introspector, &token, needed).await
                }
            }
        });
        None
    }

    /// With the `dpop` option on: verifies a request whose `Authorization` header uses the
    /// `DPoP` scheme, with its `method`, `url` (`req.originalUrl`) and every `DPoP` header value
    /// (`proofs`), as [`NativeGuard::verify`] does. Every such request is judged anew: a proof
    /// is good once.
    #[napi(catch_unwind, ts_return_type = "Outcome | null")]
    pub fn verify_dpop(
        &self,
        authorization: Option<String>,
        call_id: u32,
        method: String,
        url: String,
        proofs: Vec<String>,
        operation: Option<JsRequested>,
    ) -> Option<Outcome> {
        let checked = self.dpop_needs(operation).and_then(|needed| {
            let token = self.guard.dpop_token(authorization.as_deref())?;
            Ok((needed, token.to_owned()))
        });
        let (needed, token) =
            match checked {
                Ok(checked) => checked,
                // Answered at once, unless the answer must carry a nonce (which may come from Redis).
                Err(e) if self.guard.dpop().is_some_and(|d| d.nonce_required()) => {
                    self.run(call_id, None, move |guard, _, _| async move {
                        dpop::refused(&guard, &e, Presented::Dpop).await
                    });
                    return None;
                }
                Err(e) => {
                    let required = &self.guard.options().required_scopes;
                    return Some(Outcome::rejected(self.guard.reject_as(&e, required, Presented::Dpop, None)));
                }
            };
        let call = dpop::DpopCall { method, url, proofs };
        self.run(call_id, needed, move |guard, judge, needed| async move {
            let needed = needed.as_deref().unwrap_or(&guard.options().required_scopes);
            dpop::outcome(&guard, &judge, &token, &call, needed).await
        });
        None
    }

    /// Whether the `dpop` option is on: only then does the glue send requests with the `DPoP`
    /// scheme to [`NativeGuard::verify_dpop`].
    #[napi(getter)]
    pub fn dpop(&self) -> bool {
        self.guard.dpop().is_some()
    }
}

impl NativeGuard {
    /// The scopes a DPoP request for `operation` needs beyond `requiredScopes` (`None`: none).
    fn dpop_needs(&self, operation: Option<JsRequested>) -> Result<Option<Vec<String>>, AuthError> {
        match operation.map(Requested::from) {
            Some(requested) if self.guard.per_operation() => {
                Ok(Some(self.guard.needed(Some(&requested))?.into_owned()))
            }
            _ => Ok(None),
        }
    }

    /// Runs `work` on the tokio runtime for the request `call_id` that needs the scopes `needed`
    /// (`None`: `requiredScopes`), and delivers its outcome to `done`; a panic becomes a 500.
    fn run<W, F>(&self, call_id: u32, needed: Option<Vec<String>>, work: W)
    where
        W: FnOnce(Arc<Guard>, Judge, Option<Vec<String>>) -> F + Send + 'static,
        F: Future<Output = Outcome> + Send + 'static,
    {
        let guard = self.guard.clone();
        let done = self.done.clone();
        let judge = self.judge.clone();
        spawn(async move {
            let work = work(guard.clone(), judge, needed);
            // A bug must answer the request with a 500, not leave it (and Node) waiting forever.
            let outcome = CatchUnwind(Box::pin(work))
                .await
                .unwrap_or_else(|| Outcome::rejected(guard.reject(&AuthError::new(ErrorCode::ServerError))));
            done.deliver(call_id, outcome);
        });
    }
}

/// Linux: marks the calling worker thread `SCHED_BATCH`, so that waking it (a request handed
/// over) does not preempt Node's event loop when both share a CPU: the worker then runs when the
/// loop waits, and verifies every request of that turn in one go instead of one per preemption.
/// On other systems, and if the call fails, the thread keeps the normal policy.
fn batch_scheduling() {
    #[cfg(target_os = "linux")]
    {
        // Priority 0, the only one SCHED_BATCH takes. Zeroed rather than a struct literal: musl's
        // `sched_param` has more fields than glibc's.
        // SAFETY: `sched_param` holds only integers (and, on musl, timespecs of integers), for
        // which all-zero bytes are a valid value.
        let param: libc::sched_param = unsafe { std::mem::zeroed() };
        // SAFETY: `sched_setscheduler(0, …)` changes only the calling thread's policy; `param`
        // is a valid, initialised struct for the duration of the call.
        let _ = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    }
}

/// Starts the runtime that verifies tokens with one worker thread fewer than the machine has
/// CPUs (at least one), leaving a CPU to Node's event loop; `MCP_AUTH_NATIVE_THREADS` overrides.
/// On a 2-CPU machine one worker measured 3–5 % more requests per second than two (bench/).
#[napi_derive::module_init]
fn init_runtime() {
    let workers = std::env::var("MCP_AUTH_NATIVE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1)))
        .clamp(1, 256);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("mcp-auth-native")
        .on_thread_start(batch_scheduling)
        .enable_all()
        .build();
    // Without it napi starts its default runtime, which works too.
    if let Ok(runtime) = runtime {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}
