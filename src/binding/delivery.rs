//! Handing outcomes back to the JS thread in batches: every outcome that is ready when the JS
//! thread gets to them crosses in one thread-safe call, as one array.

use super::outcome::Outcome;
use napi::bindgen_prelude::ToNapiValue;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Status};
use std::sync::{Arc, Mutex, PoisonError};

/// The outcomes of one middleware that wait for the JS thread.
#[derive(Default)]
pub struct Mailbox(Mutex<Vec<Outcome>>);

/// What `done` receives: the mailbox, emptied into an array of outcomes (each with its
/// `callId`) on the JS thread, when the call runs.
pub struct Batch(Arc<Mailbox>);

impl ToNapiValue for Batch {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
        let ready = std::mem::take(&mut *val.0 .0.lock().unwrap_or_else(PoisonError::into_inner));
        // SAFETY: called by napi on the JS thread with its `env`, as `ToNapiValue` requires.
        unsafe { Vec::<Outcome>::to_napi_value(env, ready) }
    }
}

/// `done(outcomes)`: how the glue learns the outcomes of verifications that went to the tokio
/// runtime, as an array of outcomes with their `callId`. One per middleware, for all its
/// requests. Weak, so it never keeps Node alive; the glue keeps Node alive while verifications
/// are pending.
pub type DoneFn = ThreadsafeFunction<Batch, napi::bindgen_prelude::Unknown<'static>, Batch, Status, false, true>;

/// A middleware's way back to the JS thread.
pub struct Delivery {
    done: DoneFn,
    mailbox: Arc<Mailbox>,
}

impl Delivery {
    /// Delivers through `done`.
    pub fn new(done: DoneFn) -> Self {
        Self { done, mailbox: Arc::default() }
    }

    /// Queues the outcome for `call_id`; only an outcome that finds the mailbox empty calls
    /// `done` (which then takes every outcome queued by the time it runs).
    pub fn deliver(&self, call_id: u32, mut outcome: Outcome) {
        outcome.call_id = Some(call_id);
        let first = {
            let mut queue = self.mailbox.0.lock().unwrap_or_else(PoisonError::into_inner);
            queue.push(outcome);
            queue.len() == 1
        };
        if first {
            // `Closing` only while Node shuts down, when nobody waits for the answer any more.
            let _ = self.done.call(Batch(self.mailbox.clone()), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}
