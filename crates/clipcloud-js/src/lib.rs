//! The npm package's wasm: the core crate's operations ([`clipcloud::Operation`]), driven from JavaScript.
//!
//! `index.js` performs the steps an operation asks for — a `fetch`, a `setTimeout`, an
//! `onProgress` call — and hands back what came of them; every decision (validation, the
//! request, decoding, retries, the polling schedule) is the core's. So the wasm holds no
//! futures or executor, and no API logic lives here: only the mapping between plain JS
//! values (camelCase) and the core's types, and errors as plain values that `index.js`
//! turns into `ClipCloudError`s.
//!
//! Held checks ([`clipcloud::hold`]) are decided here too: `heldChecks: true` turns them
//! on, `false` off; unset, a client whose `baseUrl` is not the service's own asks that URL's
//! `/gateway/info` once, as the first step of its first `generate` or `wait`
//! ([`clipcloud::gateway`]), and asks for holds only if a gateway offers them there. A
//! browser then sends `Prefer` (not a CORS-safelisted header) only to a server known to
//! allow it.
//!
//! Size matters (what a page loads, printed by `cargo xtask package`, must not grow): no
//! serde on the JS side, no `format!`, nothing that can panic on bad input. The same wasm
//! serves every runtime (browsers, Node.js, Deno, Bun, workerd); only index.js's
//! `wasm-source.js` differs per bundle.
#![cfg(target_arch = "wasm32")]

mod convert;

#[global_allocator]
static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();

use clipcloud::codec::{HttpRequest, HttpResponse};
use clipcloud::{Call, Config, Error, Interrupt, Operation, Output, Session, Step, TransportError};
use convert::{check_call_options, create_request, finished, status, style};
use core::cell::{Cell, RefCell};
use core::time::Duration;
use js_sys::Array;
use wasm_bindgen::prelude::*;

/// One configured client. `index.js` wraps it in the public `ClipCloud` class.
#[wasm_bindgen]
pub struct Core {
    session: RefCell<Session>,
    probe: Cell<Probe>,
}

/// Whether this client still has to ask its server whether it holds checks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// The next `generate` or `wait` asks `/gateway/info` first.
    Due,
    /// A call is asking; others go on without holds until it knows.
    Asking,
    /// Known (or set by `heldChecks`, or the service itself): never asked again.
    Settled,
}

/// One call in progress, made by [`Core::begin`].
#[wasm_bindgen]
pub struct Run {
    op: Operation,
    /// For `check`: the id asked about (an in-progress answer names it).
    id: String,
    /// `generate` or `wait`: the calls that can use held checks.
    waits: bool,
    /// Its pending request is the `/gateway/info` probe, not the operation's.
    probing: bool,
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
    /// `options`: `{ apiKey?, baseUrl?, softId?, timeoutMs?, heldChecks?, fetch? }` (`fetch`
    /// is used by `index.js`, only checked here); without `apiKey` the requests
    /// carry no key, for a gateway that adds its own (`baseUrl` then required). Throws the
    /// error value `index.js` understands when the options are unusable.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Result<Core, JsValue> {
        convert::check_function(options, "fetch", clipcloud::Field::Fetch).map_err(|e| error_value(&e))?;
        let key = convert::opt_string(options, "apiKey", clipcloud::Field::ApiKey);
        let keyless = matches!(key, Ok(None));
        let build = || -> Result<(Session, Probe), Error> {
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
            let held = convert::opt_bool(options, "heldChecks", clipcloud::Field::HeldChecks)?;
            if held == Some(true) {
                config = config.held_checks(clipcloud::hold::MAX);
            }
            let session = Session::new(config, (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64)?;
            // Unset: ask, unless this is the service itself (which holds nothing).
            let service = session.config().base_url.eq_ignore_ascii_case(clipcloud::model::DEFAULT_BASE_URL);
            let probe = if held.is_some() || service { Probe::Settled } else { Probe::Due };
            Ok((session, probe))
        };
        build()
            .map(|(session, probe)| Core { session: RefCell::new(session), probe: Cell::new(probe) })
            .map_err(|e| match e {
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
            Ok(Run { op: Operation::new(call), id, waits: op > 3, probing: false })
        };
        build().map_err(|e| error_value(&e))
    }

    /// The first step. Steps are arrays: `[0, method, url, body?, timeoutMs, prefer?]` send
    /// (`prefer`: the `Prefer` header's value), `[1, ms, progress?]` sleep, `[2, value]`
    /// done, `[3, error]` failed. The first `generate` or `wait` of a client that asks
    /// whether its server holds checks sends that question first.
    pub fn start(&self, run: &mut Run, now: f64) -> JsValue {
        let session = &mut self.session.borrow_mut();
        if run.waits && self.probe.get() == Probe::Due {
            self.probe.set(Probe::Asking);
            run.probing = true;
            let request = clipcloud::gateway::info_request(&session.config().base_url);
            return send_value(&request, session.config().request_timeout);
        }
        step_value(run.op.start(session, clock(now)), &run.id)
    }

    /// The probe's outcome (`info`: a gateway's description of itself, `None` for any other
    /// answer or none): holds as offered, from now on; then the call itself begins.
    fn probed(&self, run: &mut Run, info: Option<clipcloud::gateway::Info>, now: f64) -> JsValue {
        run.probing = false;
        self.probe.set(Probe::Settled);
        self.session.borrow_mut().set_hold(info.and_then(|info| info.config_hold()));
        // Settled: `start` now begins the call itself (one caller of the core's start: bytes).
        self.start(run, now)
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
        if run.probing {
            return self.probed(run, clipcloud::gateway::decode_info(&response), now);
        }
        let step = run.op.answer(&mut self.session.borrow_mut(), Ok(response), clock(now));
        step_value(step, &run.id)
    }

    /// A send step that got no answer: it timed out, or `fetch` threw `message`.
    /// A probe that got no answer means no holds, as any answer but a gateway's.
    pub fn failed(&self, run: &mut Run, timed_out: bool, message: String, now: f64) -> JsValue {
        if run.probing {
            return self.probed(run, None, now);
        }
        let error = if timed_out {
            TransportError::Timeout
        } else {
            TransportError::Network { message, not_sent: false }
        };
        let step = run.op.answer(&mut self.session.borrow_mut(), Err(error), clock(now));
        step_value(step, &run.id)
    }

    /// After a sleep step.
    pub fn woke(&self, run: &mut Run, now: f64) -> JsValue {
        let step = run.op.woke(&mut self.session.borrow_mut(), clock(now));
        step_value(step, &run.id)
    }

    /// Ends a call early (its signal aborted, or its `timeoutMs` passed): the error value.
    /// A probe cut short is asked again by the next `generate` or `wait`.
    pub fn stop(&self, run: &mut Run, timed_out: bool) -> JsValue {
        if run.probing {
            run.probing = false;
            self.probe.set(Probe::Due);
        }
        error_value(&run.op.stop(if timed_out { Interrupt::TimedOut } else { Interrupt::Aborted }))
    }
}

fn step_value(step: Step<'_>, id: &str) -> JsValue {
    let step = match step {
        Step::Send { request, timeout } => return send_value(request, timeout),
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

/// `[0, method, url, body?, timeoutMs, prefer?]`.
fn send_value(request: &HttpRequest, timeout: Duration) -> JsValue {
    let body = request.body.as_deref().map_or(JsValue::UNDEFINED, JsValue::from_str);
    let millis = convert::timer_millis(timeout);
    let step = Array::of3(&0.into(), &request.method.as_str().into(), &request.url.as_str().into());
    step.push(&body);
    step.push(&millis.into());
    if let Some(prefer) = &request.prefer {
        step.push(&prefer.into());
    }
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
