//! Custom verification across the thread boundary: the user's function, wrapped by `lib/custom-verifier.js`,
//! is called through a weak thread-safe function; the wrapper reports its verdict back with a
//! synchronous call (`NativeGuard.settled`), which hands it to the waiting task.
//!
//! The wrapper never throws: it reads the JS error's class and `code` on the JS thread and
//! reports them as data, so nothing is lost crossing into Rust and no JS exception can reach
//! napi's fatal-error path.

use crate::verifier::Verdict;
use napi::bindgen_prelude::{FnArgs, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio::sync::oneshot;

/// `settle(token, callId)`: the glue's wrapper around the user's function. Weak, so that it never
/// keeps Node alive (the glue does, while requests wait).
pub type VerifierFn =
    ThreadsafeFunction<FnArgs<(String, u32)>, Unknown<'static>, FnArgs<(String, u32)>, Status, false, true>;

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

/// The tasks waiting for a verdict, by call id.
#[derive(Default)]
pub struct Waiting(Mutex<HashMap<u32, oneshot::Sender<Verdict>>>);

impl Waiting {
    /// Hands `verdict` to the task waiting under `call_id`; nothing if it stopped waiting.
    pub fn settle(&self, call_id: u32, verdict: Verdict) {
        let sender = self.0.lock().ok().and_then(|mut w| w.remove(&call_id));
        if let Some(sender) = sender {
            let _ = sender.send(verdict);
        }
    }

    fn forget(&self, call_id: u32) {
        if let Ok(mut w) = self.0.lock() {
            w.remove(&call_id);
        }
    }
}

/// Stops waiting for a verdict when the task ends, however it ends (a timeout drops it).
struct Forget<'a>(&'a Waiting, u32);

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.0.forget(self.1);
    }
}

/// Calls the verifier for one token and waits for its verdict; `None` when it could not be called.
pub async fn call(verifier: &VerifierFn, waiting: &Waiting, token: String, call_id: u32) -> Option<Verdict> {
    let (sender, receiver) = oneshot::channel();
    waiting.0.lock().ok()?.insert(call_id, sender);
    let _forget = Forget(waiting, call_id);
    let status = verifier.call(FnArgs::from((token, call_id)), ThreadsafeFunctionCallMode::NonBlocking);
    if status != Status::Ok {
        return None;
    }
    receiver.await.ok()
}
