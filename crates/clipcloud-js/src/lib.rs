//! The npm package's wasm: the core crate's operations ([`clipcloud::Operation`]), driven from JavaScript.
//!
//! `index.js` performs the steps an operation asks for — a `fetch`, a `setTimeout`, an
//! `onProgress` call — and hands back what came of them; every decision (validation, the
//! request, decoding, retries, the polling schedule) is the core's. So the wasm holds no
//! futures or executor, and no API logic lives here: only the mapping between plain JS
//! values (camelCase) and the core's types, and errors as plain values that `index.js`
//! turns into `ClipCloudError`s.
//!
//! Size matters (what a page loads, printed by `cargo xtask package`, must not grow): no
//! serde on the JS side, no `format!`, nothing that can panic on bad input. The same wasm
//! serves every runtime (browsers, Node.js, Deno, Bun, workerd); only index.js's
//! `wasm-source.js` differs per bundle.
#![cfg(target_arch = "wasm32")]

mod convert;

#[global_allocator]
static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();

use clipcloud::codec::HttpResponse;
use clipcloud::{Call, Config, Error, Interrupt, Operation, Output, Session, Step, TransportError};
use convert::{check_call_options, create_request, finished, status, style};
use core::cell::RefCell;
use core::time::Duration;
use js_sys::Array;
use wasm_bindgen::prelude::*;

/// One configured client. `index.js` wraps it in the public `ClipCloud` class.
#[wasm_bindgen]
pub struct Core(RefCell<Session>);

/// One call in progress, made by [`Core::begin`].
#[wasm_bindgen]
pub struct Run {
    op: Operation,
    /// For `check`: the id asked about (an in-progress answer names it).
    id: String,
}

/// Why a client without `apiKey` was refused (no `baseUrl`, or the service's own).
const KEY_NEEDED: &str =
    "apiKey is required: only a ClipCloud gateway that adds its own key can be used without one (give its URL as baseUrl)";

/// `now` from `Date.now()`: milliseconds since the Unix epoch.
fn clock(now: f64) -> Duration {
    Duration::from_millis(now as u64)
}

#[wasm_bindgen]
impl Core {
    /// `options`: `{ apiKey?, baseUrl?, softId?, timeoutMs?, fetch? }` (`fetch` is used by
    /// `index.js`, only checked here); without `apiKey` the requests
    /// carry no key, for a gateway that adds its own (`baseUrl` then required). Throws the
    /// error value `index.js` understands when the options are unusable.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Result<Core, JsValue> {
        convert::check_function(options, "fetch", clipcloud::Field::Fetch).map_err(|e| error_value(&e))?;
        let key = convert::opt_string(options, "apiKey", clipcloud::Field::ApiKey);
        let keyless = matches!(key, Ok(None));
        let build = || -> Result<Session, Error> {
            let mut config = key?.map_or_else(Config::keyless, Config::new);
            if let Some(url) = convert::opt_string(options, "baseUrl", clipcloud::Field::BaseUrl)? {
                config = config.base_url(url);
            }
            if let Some(id) = convert::opt_u64(options, "softId", clipcloud::Field::SoftId, "softId")? {
                config = config.soft_id(id);
            }
            if let Some(ms) = convert::opt_millis(options, "timeoutMs")? {
                config = config.request_timeout(ms);
            }
            Session::new(config, (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64)
        };
        build().map(|session| Core(RefCell::new(session))).map_err(|e| match e {
            // The core's refusal of a keyless client, in the option's own name.
            Error::InvalidInput(e) if keyless && e.field == clipcloud::Field::ApiKey => {
                error_value(&Error::InvalidInput(clipcloud::error::InvalidInput {
                    field: e.field,
                    message: KEY_NEEDED.into(),
                }))
            }
            e => error_value(&e),
        })
    }

    /// A call: `op` 0 create(input), 1 check(id), 2 balance(), 3 styles(), 4 generate(input),
    /// 5 wait(id). Throws an error value when the input or the per-call options
    /// (`{ signal?, timeoutMs?, onProgress? }`) are not usable.
    pub fn begin(&self, op: u8, arg: &JsValue, options: &JsValue) -> Result<Run, JsValue> {
        let build = || -> Result<Run, Error> {
            check_call_options(options)?;
            let id = arg.as_string().unwrap_or_default();
            let call = match op {
                0 => Call::Create(create_request(arg)?),
                1 => Call::Check(id.clone()),
                2 => Call::Balance,
                3 => Call::Styles,
                4 => Call::Generate(create_request(arg)?),
                _ => Call::Wait(id.clone()),
            };
            Ok(Run { op: Operation::new(call), id })
        };
        build().map_err(|e| error_value(&e))
    }

    /// The first step. Steps are arrays: `[0, method, url, body?, timeoutMs]` send,
    /// `[1, ms, progress?]` sleep, `[2, value]` done, `[3, error]` failed.
    pub fn start(&self, run: &mut Run, now: f64) -> JsValue {
        let step = run.op.start(&mut self.0.borrow_mut(), clock(now));
        step_value(step, &run.id)
    }

    /// The answer to a send step.
    pub fn answer(
        &self,
        run: &mut Run,
        status: u16,
        retry_after: Option<String>,
        body: String,
        now: f64,
    ) -> JsValue {
        let response = HttpResponse { status, retry_after, body, received_unix_secs: (now / 1000.0) as u64 };
        let step = run.op.answer(&mut self.0.borrow_mut(), Ok(response), clock(now));
        step_value(step, &run.id)
    }

    /// A send step that got no answer: it timed out, or `fetch` threw `message`.
    pub fn failed(&self, run: &mut Run, timed_out: bool, message: String, now: f64) -> JsValue {
        let error = if timed_out {
            TransportError::Timeout
        } else {
            TransportError::Network { message, not_sent: false }
        };
        let step = run.op.answer(&mut self.0.borrow_mut(), Err(error), clock(now));
        step_value(step, &run.id)
    }

    /// After a sleep step.
    pub fn woke(&self, run: &mut Run, now: f64) -> JsValue {
        let step = run.op.woke(&mut self.0.borrow_mut(), clock(now));
        step_value(step, &run.id)
    }

    /// Ends a call early (its signal aborted, or its `timeoutMs` passed): the error value.
    pub fn stop(&self, run: &mut Run, timed_out: bool) -> JsValue {
        error_value(&run.op.stop(if timed_out { Interrupt::TimedOut } else { Interrupt::Aborted }))
    }
}

fn step_value(step: Step<'_>, id: &str) -> JsValue {
    let step = match step {
        Step::Send { request, timeout } => {
            let body = request.body.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
            let millis = convert::timer_millis(timeout);
            let step = Array::of3(&0.into(), &request.method.as_str().into(), &request.url.as_str().into());
            step.push(&body);
            step.push(&millis.into());
            step
        }
        Step::Sleep { duration, progress } => {
            let millis = convert::timer_millis(duration);
            let progress = progress.as_ref().map_or(JsValue::UNDEFINED, convert::progress);
            Array::of3(&1.into(), &millis.into(), &progress)
        }
        Step::Done(Ok(output)) => {
            let value = match output {
                Output::Created(id) => id.into(),
                Output::Status(s) => status(&s, id),
                Output::Balance(b) => b.into(),
                Output::Styles(styles) => styles.iter().map(style).collect::<Array>().into(),
                Output::Finished(f) => finished(&f),
            };
            Array::of2(&2.into(), &value)
        }
        Step::Done(Err(e)) => Array::of2(&3.into(), &error_value(&e)),
    };
    step.into()
}

/// `[code, message, status, mayHaveStarted]`: `index.js` makes a `ClipCloudError` of it.
fn error_value(e: &Error) -> JsValue {
    let status = e.status().map_or(JsValue::UNDEFINED, JsValue::from);
    Array::of4(
        &JsValue::from_str(e.code().as_str()),
        &JsValue::from_str(&e.describe()),
        &status,
        &JsValue::from_bool(e.may_have_started()),
    )
    .into()
}
