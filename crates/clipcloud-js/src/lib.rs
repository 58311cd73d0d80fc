//! The npm package's wasm: the core crate's operations ([`clipcloud::Operation`]), driven from JavaScript.
//!
//! `index.js` performs the steps an operation asks for — a `fetch`, a `setTimeout`, an
//! `onProgress` call — and hands back what came of them; every decision (validation, the
//! request, decoding, retries, the polling schedule) is the core's. So the wasm holds no
//! futures or executor, and no API logic lives here: only the mapping between plain JS
//! values and the core's types, and errors as plain values that `index.js` turns into
//! `ClipCloudError`s.
//!
//! The mapping is kept to what costs the fewest bytes, wasm and glue together (`cargo
//! xtask package`; docs/sizes.md has the figures): `index.js` checks the types of the
//! options and the input (only JavaScript can; the core checks the values) and hands
//! them over in arrays, by position; each step comes back as a flat list of numbers and
//! strings, which `index.js` makes into the objects a caller sees; one export, `Core::next`,
//! takes every event of a call, and a call is a number, not a JS object.
//!
//! Held checks ([`clipcloud::hold`]) are decided here too: `heldChecks: true` turns them
//! on, `false` off; unset, a client whose `baseUrl` is not the service's own asks that URL's
//! `/gateway/info` once, as the first step of its first `generate` or `wait`
//! ([`clipcloud::gateway`]), and asks for holds only if a gateway offers them there. A
//! browser then sends `Prefer` (not a CORS-safelisted header) only to a server known to
//! allow it.
//!
//! So is where the key goes: a client with an `apiKey` and a `baseUrl` that is not the
//! service's own asks the same question before its first call of any kind, and sends the
//! key as `Authorization: Bearer` to a gateway (out of every URL, which proxies log), as
//! `?apikey=` anywhere else. Calls begun while the question is out wait for its answer.
//!
//! Size matters (what a page loads, printed by `cargo xtask package`, must not grow): no
//! serde on the JS side, no `format!`, nothing that can panic on bad input. The same wasm
//! serves every runtime (browsers, Node.js, Deno, Bun, workerd); only index.js's
//! `wasm-source.js` differs per bundle.
#![cfg(target_arch = "wasm32")]
#![forbid(unsafe_code)]

mod convert;

#[global_allocator]
static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();

use clipcloud::codec::{HttpRequest, HttpResponse};
use clipcloud::{
    Call, Config, Error, Finished, Interrupt, Operation, Output, Session, Status, Step, TransportError,
};
use core::cell::{Cell, RefCell};
use core::time::Duration;
use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// One configured client. `index.js` wraps it in the public `ClipCloud` class.
#[wasm_bindgen]
pub struct Core {
    session: RefCell<Session>,
    probe: Cell<Probe>,
    /// `heldChecks` was unset: the probe's answer decides holds.
    holds_probed: bool,
    /// The calls in progress, by the number [`Core::begin`] gave them; `None`: ended, the
    /// number free again. (A number, not a JS object per call: less glue and wasm.)
    runs: RefCell<Vec<Option<Run>>>,
}

/// Whether this client still has to ask its server whether it is a gateway (which holds
/// checks and takes the key in a header).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Probe {
    /// The next `generate` or `wait` (any call, with a key) asks `/gateway/info` first.
    Due,
    /// A call is asking; others go on without holds until it knows (those with a key wait).
    Asking,
    /// Known (or set by `heldChecks`, or the service itself): never asked again.
    Settled,
}

/// One call in progress, made by [`Core::begin`].
struct Run {
    op: Operation,
    /// For `check`: the id asked about (an in-progress answer names it).
    id: String,
    /// `generate` or `wait`: the calls that can use held checks.
    waits: bool,
    /// Its pending request is the `/gateway/info` probe, not the operation's.
    probing: bool,
    /// Its first request waits for the probe's answer (its own or another call's).
    held_back: bool,
}

/// How long a call with a key waits between looks at another call's probe.
const PROBE_WAIT: Duration = Duration::from_millis(20);

/// Why a client without `apiKey` was refused (no `baseUrl`, or the service's own).
const KEY_NEEDED: &str =
    "apiKey is required: only a ClipCloud gateway that adds its own key can be used without one (give its URL as baseUrl)";

/// `now` from `Date.now()`: milliseconds since the Unix epoch.
fn clock(now: f64) -> Duration {
    Duration::from_millis(now as u64)
}

#[wasm_bindgen]
impl Core {
    /// `options`: `[fetch, apiKey, baseUrl, softId, timeoutMs, heldChecks]`, their types
    /// checked by `index.js` (which alone uses `fetch`); without `apiKey` the requests
    /// carry no key, for a gateway that adds its own (`baseUrl` then required). Throws the
    /// error value `index.js` understands when the options are unusable.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &Array) -> Result<Core, JsValue> {
        let key = convert::string(options, 1);
        let keyless = key.is_none();
        let held = options.get(5).as_bool();
        let build = || -> Result<(Session, Probe), Error> {
            let mut config = key.map_or_else(Config::keyless, Config::new);
            if let Some(url) = convert::string(options, 2) {
                config = config.base_url(url);
            }
            if let Some(id) = convert::number(options, 3) {
                config = config.soft_id(id);
            }
            if let Some(ms) = convert::millis(options, 4) {
                config = config.request_timeout(ms);
            }
            if held == Some(true) {
                config = config.held_checks(clipcloud::hold::MAX);
            }
            let session = Session::new(config, (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64)?;
            // Ask, unless this is the service itself (which holds nothing and wants the key
            // in the URL), or neither holds nor a key depend on the answer.
            let service = session.config().base_url.eq_ignore_ascii_case(clipcloud::model::DEFAULT_BASE_URL);
            let probe = if service || (held.is_some() && keyless) { Probe::Settled } else { Probe::Due };
            Ok((session, probe))
        };
        build()
            .map(|(session, probe)| Core {
                session: RefCell::new(session),
                probe: Cell::new(probe),
                holds_probed: held.is_none(),
                runs: RefCell::default(),
            })
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
    /// 5 wait(id); an input as `index.js`'s `input` hands it over (checked there). Gives
    /// the call's number, for [`Core::next`].
    pub fn begin(&self, op: u8, arg: &JsValue) -> usize {
        let id = arg.as_string().unwrap_or_default();
        let input = || convert::create_request(arg.unchecked_ref());
        let call = match op {
            0 => Call::Create(input()),
            1 => Call::Check(id.clone()),
            2 => Call::Balance,
            3 => Call::Styles,
            4 => Call::Generate(input()),
            _ => Call::Wait(id.clone()),
        };
        let run = Some(Run { op: Operation::new(call), id, waits: op > 3, probing: false, held_back: false });
        let runs = &mut self.runs.borrow_mut();
        match runs.iter().position(Option::is_none) {
            Some(free) => {
                runs[free] = run;
                free
            }
            None => {
                runs.push(run);
                runs.len() - 1
            }
        }
    }

    /// What came of a call's last step (`event`), and its next step (a list, as
    /// `step_value` writes it).
    ///
    /// `event`: 0 start, for the first step; 1 the answer to a send step (`number` its
    /// status, `text` its `Retry-After`); 2 a send step that got no answer (`number` 1: it
    /// timed out, else `fetch` threw `text`); 3 after a sleep step; 4 stop, to end the call
    /// early (`number` 1: its `timeoutMs` passed, else its signal aborted), which gives the
    /// error value instead of a step; 5 end, once the call is over (its number is free
    /// again).
    ///
    /// The first `generate` or `wait` (with a key, the first call) of a client that asks
    /// whether its server is a gateway sends that question first; any answer but a
    /// gateway's, or none, means no holds and the key in the URL. A probe cut short is asked
    /// again by the next call that would ask.
    pub fn next(
        &self,
        run: usize,
        event: u8,
        number: f64,
        text: Option<String>,
        body: Option<String>,
        now: f64,
    ) -> JsValue {
        let runs = &mut self.runs.borrow_mut();
        let Some(slot) = runs.get_mut(run) else { return JsValue::UNDEFINED };
        if event == 5 {
            *slot = None;
            return JsValue::UNDEFINED;
        }
        let Some(run) = slot else { return JsValue::UNDEFINED };
        let session = &mut self.session.borrow_mut();
        let timed_out = number != 0.0;
        let mut event = event;
        if event == 0 {
            // The call's first request is made (input it refuses sends nothing), then held
            // back while the server is asked whether it is a gateway, where the answer
            // changes it: where the key goes, whether a check is held.
            let first = run.op.start(session, clock(now));
            let keyed = session.config().key().is_some();
            let hold_back = matches!(first, Step::Send { .. })
                && match self.probe.get() {
                    Probe::Due => run.waits || keyed,
                    Probe::Asking => keyed,
                    Probe::Settled => false,
                };
            if !hold_back {
                return step_value(first, &run.id);
            }
            run.held_back = true;
            event = 3;
        }
        let step = match event {
            3 if run.held_back => match self.probe.get() {
                // Another call is asking: wait for its answer.
                Probe::Asking => Step::Sleep { duration: PROBE_WAIT, progress: None },
                Probe::Due => {
                    self.probe.set(Probe::Asking);
                    run.probing = true;
                    let config = session.config();
                    return send_value(
                        &clipcloud::gateway::info_request(&config.base_url),
                        config.request_timeout,
                    );
                }
                Probe::Settled => {
                    run.held_back = false;
                    run.op.resend(session, clock(now))
                }
            },
            1 | 2 => {
                let answer = if event == 1 {
                    let body = body.unwrap_or_default();
                    let received_unix_secs = (now / 1000.0) as u64;
                    Ok(HttpResponse { status: number as u16, retry_after: text, body, received_unix_secs })
                } else if timed_out {
                    Err(TransportError::Timeout)
                } else {
                    Err(TransportError::Network { message: text.unwrap_or_default(), not_sent: false })
                };
                if run.probing {
                    // Holds as offered and the key where a gateway takes it, from now on;
                    // then the call's own request goes.
                    (run.probing, run.held_back) = (false, false);
                    self.probe.set(Probe::Settled);
                    let info = answer.ok().and_then(|response| clipcloud::gateway::decode_info(&response));
                    session.set_key_as_bearer(info.is_some());
                    if self.holds_probed {
                        session.set_hold(info.and_then(|info| info.config_hold()));
                    }
                    run.op.resend(session, clock(now))
                } else {
                    run.op.answer(session, answer, clock(now))
                }
            }
            3 => run.op.woke(session, clock(now)),
            _ => {
                if run.probing {
                    run.probing = false;
                    self.probe.set(Probe::Due);
                }
                return error_value(&run.op.stop(if timed_out {
                    Interrupt::TimedOut
                } else {
                    Interrupt::Aborted
                }));
            }
        };
        step_value(step, &run.id)
    }
}

// Values go to JavaScript one by one, into a list that `index.js` reads as a step (an
// error value is a failed step): numbers and strings as they are, no JS object or array
// made here. Cheaper in wasm than building objects field by field. (Each import takes
// a value wasm-bindgen converts, so that all go through the glue's one import object,
// whose names `cargo xtask package` shortens.)
#[wasm_bindgen(
    inline_js = "let o = []; export function put(v) { o.push(v); } export function take(k) { const s = [k, ...o]; o = []; return s; }"
)]
extern "C" {
    #[wasm_bindgen(js_name = put)]
    fn put_str(s: &str);
    #[wasm_bindgen(js_name = put)]
    fn put_opt_str(s: Option<&str>);
    #[wasm_bindgen(js_name = put)]
    fn put_opt_num(n: Option<f64>);
    #[wasm_bindgen(js_name = put)]
    fn put_bool(b: bool);
    /// The values put so far, after the step's `kind`.
    fn take(kind: u32) -> JsValue;
}

fn put_num(n: f64) {
    put_opt_num(Some(n));
}

/// A step, as `index.js` reads it: `[0, method, url, body?, timeoutMs, prefer?,
/// authorization?]` send (`prefer`, `authorization`: those headers' values), `[1, ms,
/// creationId?, elapsedMs, checks, error?]` sleep (reporting progress when it has an id;
/// `error`: the failure polling rides out), `[2, output, ...]` done (see [`put_output`]),
/// `[3, ...]` failed (see [`error_value`]).
fn step_value(step: Step<'_>, id: &str) -> JsValue {
    match step {
        Step::Send { request, timeout } => return send_value(request, timeout),
        Step::Sleep { duration, progress } => {
            put_num(convert::timer_millis(duration).into());
            if let Some(p) = progress {
                put_str(p.creation_id);
                put_num(u32::try_from(p.elapsed.as_millis()).unwrap_or(u32::MAX).into());
                put_num(p.checks.into());
                put_opt_str(p.transient_error.map(clipcloud::ErrorCode::as_str));
            }
        }
        Step::Done(Ok(output)) => {
            put_output(output, id);
            return take(2);
        }
        Step::Done(Err(e)) => return error_value(&e),
    }
    take(1)
}

/// `output` after its kind: 0 created (id), 1 in progress (id), 2 done (a finished
/// creation, as a check sees it), 3 finished, 4 balance, 5 styles (name, description?,
/// width?, height? each). A finished creation: id, cost, censored, the image links.
fn put_output(output: Output, id: &str) {
    let finished = |kind: f64, f: Finished| {
        put_num(kind);
        put_str(&f.creation_id);
        put_num(f.cost);
        put_num(f.censored.into());
        for image in &f.images {
            put_str(image);
        }
    };
    match output {
        Output::Created(id) => {
            put_num(0.0);
            put_str(&id);
        }
        Output::Status(Status::InProgress) => {
            put_num(1.0);
            put_str(id);
        }
        Output::Status(Status::Done(f)) => finished(2.0, f),
        Output::Finished(f) => finished(3.0, f),
        Output::Balance(b) => {
            put_num(4.0);
            put_num(b);
        }
        Output::Styles(styles) => {
            put_num(5.0);
            for s in &styles {
                put_str(&s.name);
                put_opt_str(s.description.as_deref());
                put_opt_num(s.width.map(f64::from));
                put_opt_num(s.height.map(f64::from));
            }
        }
    }
}

/// `[0, method, url, body?, timeoutMs, prefer?, authorization?]`.
fn send_value(request: &HttpRequest, timeout: Duration) -> JsValue {
    put_str(request.method.as_str());
    put_str(&request.url);
    put_opt_str(request.body.as_deref());
    put_num(convert::timer_millis(timeout).into());
    put_opt_str(request.prefer.as_deref());
    put_opt_str(request.authorization.as_deref());
    take(0)
}

/// `[3, code, message, status, mayHaveStarted]`: `index.js` makes a `ClipCloudError` of it.
fn error_value(e: &Error) -> JsValue {
    put_str(e.code().as_str());
    put_str(&e.describe());
    put_opt_num(e.status().map(f64::from));
    put_bool(e.may_have_started());
    take(3)
}
