//! What a caller may add to one call: an abort handle and a time limit. Either ends the
//! call through [`crate::Operation::stop`], as the npm package's `signal` and `timeoutMs`
//! do, so the error says the same (`aborted`; `timeout`, and whether a create may have
//! started).

use core::task::{Context, Waker};
use core::time::Duration;
use std::sync::{Arc, Mutex, PoisonError};

/// An `AbortSignal`-like token: clone it into the call's options, keep a clone, and
/// [`Abort::abort`] ends every call that carries it, at once (the pending request or
/// timer is dropped, which cancels it).
#[derive(Clone, Debug, Default)]
pub struct Abort(Arc<Mutex<AbortState>>);

#[derive(Debug, Default)]
struct AbortState {
    aborted: bool,
    /// The calls waiting, to wake when aborted.
    wakers: Vec<Waker>,
}

impl Abort {
    pub fn new() -> Self {
        Self::default()
    }

    /// Ends the calls that carry this token (now, or as soon as they start).
    pub fn abort(&self) {
        let wakers = {
            let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            state.aborted = true;
            core::mem::take(&mut state.wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    pub fn is_aborted(&self) -> bool {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).aborted
    }

    /// Whether aborted; if not, wakes `cx`'s task when it is.
    pub(crate) fn poll_aborted(&self, cx: &Context<'_>) -> bool {
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if state.aborted {
            return true;
        }
        // One waker per waiting task, however often it polls.
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        false
    }
}

/// Options of one call ([`crate::Client::call`], `generate_with`, `wait_with`).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Ends the call with [`crate::Error::Aborted`] when aborted.
    pub abort: Option<Abort>,
    /// Ends the call with [`crate::Error::Timeout`] once this long has passed since it
    /// began (the whole call: every request, retry and sleep).
    pub time_limit: Option<Duration>,
}

impl CallOptions {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn abort(mut self, abort: &Abort) -> Self {
        self.abort = Some(abort.clone());
        self
    }

    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }
}
