//! Custom verification across the thread boundary: the user's function, wrapped by `index.js`,
//! is called through a weak thread-safe function and answers with a plain verdict object.
//!
//! The wrapper never throws and its Promise never rejects: it reads the JS error's class and
//! `code` on the JS thread and reports them as data, so nothing is lost crossing into Rust and no
//! JS exception can reach napi's fatal-error path.

use crate::verifier::Verdict;
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;

/// `settle(token, callId)`: the glue's wrapper around the user's function. Weak, so that it never
/// keeps Node alive; a pending request is kept alive by its own Promise.
pub type VerifierFn =
    ThreadsafeFunction<FnArgs<(String, u32)>, Promise<JsVerdict>, FnArgs<(String, u32)>, Status, false, true>;

/// What the user's function did, as reported by the glue's wrapper. No field set means it threw
/// something else, which the glue keeps for the application's error handler.
#[napi(object, js_name = "Verdict")]
pub struct JsVerdict {
    /// It returned this value, as JSON text.
    pub json: Option<String>,
    /// It returned something JSON cannot carry: why.
    pub invalid: Option<String>,
    /// It threw an mcp-auth token or bearer error of this JS class...
    pub error_class: Option<String>,
    /// ...with this `code`...
    pub code: Option<String>,
    /// ...and this `cause`, as JSON text.
    pub cause: Option<String>,
    /// `cause.missingScopes`, when it is a list of strings.
    pub missing_scopes: Option<Vec<String>>,
}

impl From<JsVerdict> for Verdict {
    fn from(v: JsVerdict) -> Self {
        if let Some(json) = v.json {
            return Verdict::Returned(json);
        }
        if let Some(why) = v.invalid {
            return Verdict::Unrepresentable(why);
        }
        match v.error_class {
            Some(class) => Verdict::Threw {
                class,
                code: v.code.unwrap_or_default(),
                cause: v.cause.and_then(|c| serde_json::from_str(&c).ok()),
                missing_scopes: v.missing_scopes.unwrap_or_default(),
            },
            None => Verdict::Failed,
        }
    }
}

/// Calls the verifier for one token; `None` when it could not be called or answered nonsense.
pub async fn call(verifier: &VerifierFn, token: String, call_id: u32) -> Option<Verdict> {
    let promise = verifier.call_async_catch(FnArgs::from((token, call_id))).await.ok()?;
    promise.await.ok().map(Verdict::from)
}
