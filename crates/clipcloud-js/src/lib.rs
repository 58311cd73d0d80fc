//! The npm package's wasm: JS values in, JS values out, over the core crate's
//! [`clipcloud::Client`]. No API logic lives here — only the mapping between plain JS
//! objects (camelCase) and the core's types, cancellation by `AbortSignal`, the
//! per-call time limit, and errors as plain values the package's `index.js` turns
//! into `ClipCloudError`s.
//!
//! Size matters (the whole package a page loads is budgeted at 21 KB gzipped): no
//! serde on the JS side, no `format!`, nothing that can panic on bad input.
#![cfg(target_arch = "wasm32")]

mod alloc;
mod convert;

#[global_allocator]
static ALLOCATOR: alloc::Allocator = alloc::Allocator::new();

use clipcloud::fetch::FetchTransport;
use clipcloud::{Client, Config, Error, Progress};
use convert::{call_options, create_request, creation_id, finished, status, style, CallOptions};
use core::future::{poll_fn, Future};
use core::pin::{pin, Pin};
use core::task::Poll;
use gloo_timers::future::TimeoutFuture;
use js_sys::{Array, Function, Promise};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

/// One configured client. `index.js` wraps it in the public `ClipCloud` class.
#[wasm_bindgen]
pub struct Core(Rc<Client<FetchTransport>>);

#[wasm_bindgen]
impl Core {
    /// `options`: `{ apiKey, baseUrl?, softId?, timeoutMs? }`. Throws the error value
    /// `index.js` understands when the options are unusable.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Result<Core, JsValue> {
        let build = || -> Result<Client<FetchTransport>, Error> {
            let key = convert::opt_string(options, "apiKey", clipcloud::Field::ApiKey)?.unwrap_or_default();
            let mut config = Config::new(key);
            if let Some(url) = convert::opt_string(options, "baseUrl", clipcloud::Field::BaseUrl)? {
                config = config.base_url(url);
            }
            if let Some(id) = convert::opt_u64(options, "softId", clipcloud::Field::ApiKey, "softId")? {
                config = config.soft_id(id);
            }
            if let Some(ms) = convert::opt_millis(options, "timeoutMs")? {
                config = config.request_timeout(ms);
            }
            Client::new(config)
        };
        build().map(|client| Core(Rc::new(client))).map_err(|e| error_value(&e))
    }

    /// One entry for every call (one state machine in the wasm, not six):
    /// `op` 0 create(input), 1 check(id), 2 balance(), 3 styles(), 4 generate(input),
    /// 5 wait(id). Resolves to what `index.d.ts` says; rejects with an error value.
    pub fn call(&self, op: u8, arg: JsValue, options: JsValue) -> Promise {
        let client = self.0.clone();
        match call_options(&options) {
            Ok(mut opts) => {
                let on_progress = opts.on_progress.take();
                let work = async move {
                    let mut report = reporter(on_progress);
                    let report = &mut report as &mut dyn FnMut(Progress<'_>);
                    Ok(match op {
                        0 => client.create(create_request(&arg)?).await?.into(),
                        1 => {
                            let id = creation_id(&arg);
                            status(&client.check(&id).await?, &id)
                        }
                        2 => client.balance().await?.into(),
                        3 => client.styles().await?.iter().map(style).collect::<Array>().into(),
                        4 => finished(&client.generate(create_request(&arg)?, report).await?),
                        _ => finished(&client.wait(&creation_id(&arg), report).await?),
                    })
                };
                // A timeout of `generate` may come after its create reached the service.
                let starts = op == 4;
                future_to_promise(
                    async move { guarded(opts, starts, work).await.map_err(|e| error_value(&e)) },
                )
            }
            Err(e) => Promise::reject(&error_value(&e)),
        }
    }
}

/// Calls `onProgress`; what it throws is ignored (it must not stop the polling).
fn reporter(on_progress: Option<Function>) -> impl FnMut(Progress<'_>) {
    move |p| {
        if let Some(f) = &on_progress {
            let _ = f.call1(&JsValue::UNDEFINED, &convert::progress(&p));
        }
    }
}

/// Runs `work` under the call's signal and time limit. `starts` says whether the call
/// creates (a timeout then leaves open whether the creation began).
async fn guarded(
    opts: CallOptions,
    starts: bool,
    work: impl Future<Output = Result<JsValue, Error>>,
) -> Result<JsValue, Error> {
    let mut work = pin!(work);
    if opts.signal.as_ref().is_some_and(|s| s.aborted()) {
        return Err(Error::Aborted);
    }
    // The signal's `abort` event resolves this promise; its listener is removed at the end.
    let mut listener: Option<Function> = None;
    let mut aborted = opts.signal.as_ref().map(|signal| {
        JsFuture::from(Promise::new(&mut |resolve, _reject| {
            let _ = signal.add_event_listener_with_callback("abort", &resolve);
            listener = Some(resolve);
        }))
    });
    let mut timer =
        opts.timeout.map(|d| TimeoutFuture::new(u32::try_from(d.as_millis()).unwrap_or(u32::MAX)));
    // Whichever finishes first; the others are dropped with this frame, which aborts
    // the pending fetch and clears the timers.
    let result = poll_fn(|cx| {
        if let Poll::Ready(result) = work.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        if let Some(a) = aborted.as_mut() {
            if Pin::new(a).poll(cx).is_ready() {
                return Poll::Ready(Err(Error::Aborted));
            }
        }
        if let Some(t) = timer.as_mut() {
            if Pin::new(t).poll(cx).is_ready() {
                return Poll::Ready(Err(Error::Timeout { may_have_started: starts }));
            }
        }
        Poll::Pending
    })
    .await;
    if let (Some(signal), Some(listener)) = (&opts.signal, &listener) {
        let _ = signal.remove_event_listener_with_callback("abort", listener);
    }
    result
}

/// `[code, message, status, mayHaveStarted]`: `index.js` makes a `ClipCloudError` of it.
fn error_value(e: &Error) -> JsValue {
    let status = e.status().map_or(JsValue::UNDEFINED, JsValue::from);
    Array::of4(
        &JsValue::from_str(e.code().as_str()),
        &JsValue::from_str(&e.to_string()),
        &status,
        &JsValue::from_bool(e.may_have_started()),
    )
    .into()
}
