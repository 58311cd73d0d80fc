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
//! strings, which `index.js` makes into the objects a caller sees; one export, `next`,
//! takes every event of a call, and a client and a call are numbers, not JS objects.
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
//! serde on the JS side, no `format!`, nothing that can panic on bad input, and no
//! wasm-bindgen: the wasm's imports and exports are plain numbers and UTF-8 in its memory
//! (`host.rs`), served by `web/npm/wasm.js`, which also keeps the JSON values the core reads
//! (the core without its `bindgen` feature). The same wasm serves every runtime (browsers,
//! Node.js, Deno, Bun, workerd); only index.js's `wasm-source.js` differs per bundle.
#![cfg(target_arch = "wasm32")]
#![deny(unsafe_code)]

mod convert;
mod host;

#[global_allocator]
static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();

use clipcloud::codec::{HttpRequest, HttpResponse};
use clipcloud::{
    Call, Config, Error, Finished, Interrupt, Operation, Output, Session, Status, Step, TransportError,
};
use core::cell::RefCell;
use core::time::Duration;
use host::{clipcloud_put_none as put_none, clipcloud_put_number as put_num};

thread_local! {
    /// The clients, by the number [`new`] gave them; `None`: freed, the number free again.
    static CORES: RefCell<Vec<Option<Core>>> = const { RefCell::new(Vec::new()) };
}

/// One configured client. `index.js` wraps it in the public `ClipCloud` class.
struct Core {
    session: Session,
    probe: Probe,
    /// `heldChecks` was unset: the probe's answer decides holds.
    holds_probed: bool,
    /// The calls in progress, by the number [`begin`] gave them; `None`: ended, the number
    /// free again.
    runs: Vec<Option<Run>>,
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

/// One call in progress, made by [`begin`].
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

/// Puts `item` in the first free place of `list`: its number there.
fn slot<T>(list: &mut Vec<Option<T>>, item: T) -> usize {
    match list.iter().position(Option::is_none) {
        Some(free) => {
            list[free] = Some(item);
            free
        }
        None => {
            list.push(Some(item));
            list.len() - 1
        }
    }
}

/// A client from the arguments `[fetch, apiKey, baseUrl, softId, timeoutMs, heldChecks]`,
/// their types checked by `index.js` (which alone uses `fetch`); without `apiKey` the
/// requests carry no key, for a gateway that adds its own (`baseUrl` then required).
/// `seed` from `Math.random()`, for the retries' jitter. Gives the client's number, or -1
/// with the error value put (see [`error_value`]) when the options are unusable.
pub(crate) fn new(seed: f64) -> i32 {
    let key = convert::string(1);
    let keyless = key.is_none();
    let held = convert::boolean(5);
    let build = || -> Result<Core, Error> {
        let mut config = key.map_or_else(Config::keyless, Config::new);
        if let Some(url) = convert::string(2) {
            config = config.base_url(url);
        }
        if let Some(id) = convert::number(3) {
            config = config.soft_id(id);
        }
        if let Some(ms) = convert::millis(4) {
            config = config.request_timeout(ms);
        }
        if held == Some(true) {
            config = config.held_checks(clipcloud::hold::MAX);
        }
        let session = Session::new(config, (seed * 9_007_199_254_740_992.0) as u64)?;
        // Ask, unless this is the service itself (which holds nothing and wants the key
        // in the URL), or neither holds nor a key depend on the answer.
        let service = session.config().base_url.eq_ignore_ascii_case(clipcloud::model::DEFAULT_BASE_URL);
        let probe = if service || (held.is_some() && keyless) { Probe::Settled } else { Probe::Due };
        Ok(Core { session, probe, holds_probed: held.is_none(), runs: Vec::new() })
    };
    match build() {
        Ok(core) => CORES.with_borrow_mut(|cores| slot(cores, core)) as i32,
        Err(mut e) => {
            // The core's refusal of a keyless client, in the option's own name.
            if let Error::InvalidInput(e) = &mut e {
                if keyless && e.field == clipcloud::Field::ApiKey {
                    e.message = KEY_NEEDED.into();
                }
            }
            error_value(&e);
            -1
        }
    }
}

/// Forgets client `core` ([`new`]): its page dropped it.
pub(crate) fn free(core: u32) {
    CORES.with_borrow_mut(|cores| {
        if let Some(slot) = cores.get_mut(core as usize) {
            *slot = None;
        }
    });
}

/// A call of client `core`: `op` 0 create(input), 1 check(id), 2 balance(), 3 styles(),
/// 4 generate(input), 5 wait(id); the arguments are the id, or the input as `index.js`'s
/// `input` hands it over (checked there). Gives the call's number, for [`next`].
pub(crate) fn begin(core: u32, op: u32) -> u32 {
    let id = convert::string(0).unwrap_or_default();
    let call = match op {
        0 => Call::Create(convert::create_request()),
        1 => Call::Check(id.clone()),
        2 => Call::Balance,
        3 => Call::Styles,
        4 => Call::Generate(convert::create_request()),
        _ => Call::Wait(id.clone()),
    };
    let run = Run { op: Operation::new(call), id, waits: op > 3, probing: false, held_back: false };
    CORES.with_borrow_mut(|cores| match cores.get_mut(core as usize) {
        Some(Some(core)) => slot(&mut core.runs, run) as u32,
        _ => u32::MAX,
    })
}

/// What came of call `run`'s last step (`event`), and its next step: its kind, the values
/// put after it (as [`step_value`] writes them).
///
/// `event`: 0 start, for the first step; 1 the answer to a send step (`number` its
/// status; the arguments: its `Retry-After`, its body); 2 a send step that got no answer
/// (`number` 1: it timed out, else `fetch` threw the first argument); 3 after a sleep
/// step; 4 stop, to end the call early (`number` 1: its `timeoutMs` passed, else its
/// signal aborted), which gives the error value instead of a step; 5 end, once the call is
/// over (its number is free again), which gives [`NO_STEP`].
///
/// The first `generate` or `wait` (with a key, the first call) of a client that asks
/// whether its server is a gateway sends that question first; any answer but a gateway's,
/// or none, means no holds and the key in the URL. A probe cut short is asked again by the
/// next call that would ask.
pub(crate) fn next(core: u32, run: u32, event: u32, number: f64, now: f64) -> u32 {
    CORES.with_borrow_mut(|cores| {
        let Some(Some(core)) = cores.get_mut(core as usize) else { return NO_STEP };
        let Some(slot) = core.runs.get_mut(run as usize) else { return NO_STEP };
        if event == 5 {
            *slot = None;
            return NO_STEP;
        }
        let Some(run) = slot else { return NO_STEP };
        let session = &mut core.session;
        let timed_out = number != 0.0;
        let mut event = event;
        if event == 0 {
            // The call's first request is made (input it refuses sends nothing), then held
            // back while the server is asked whether it is a gateway, where the answer
            // changes it: where the key goes, whether a check is held.
            let first = run.op.start(session, clock(now));
            let keyed = session.config().key().is_some();
            let hold_back = matches!(first, Step::Send { .. })
                && match core.probe {
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
            3 if run.held_back => match core.probe {
                // Another call is asking: wait for its answer.
                Probe::Asking => Step::Sleep { duration: PROBE_WAIT, progress: None },
                Probe::Due => {
                    core.probe = Probe::Asking;
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
                let text = convert::string(0);
                let answer = if event == 1 {
                    let body = convert::string(1).unwrap_or_default();
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
                    core.probe = Probe::Settled;
                    let info = answer.ok().and_then(|response| clipcloud::gateway::decode_info(&response));
                    session.set_key_as_bearer(info.is_some());
                    if core.holds_probed {
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
                    core.probe = Probe::Due;
                }
                return error_value(&run.op.stop(if timed_out {
                    Interrupt::TimedOut
                } else {
                    Interrupt::Aborted
                }));
            }
        };
        step_value(step, &run.id)
    })
}

/// What [`next`] gives when there is no step: the call ended, or is not there.
const NO_STEP: u32 = 4;

fn put_str(s: &str) {
    host::clipcloud_put_string(s.as_ptr(), s.len());
}

fn put_opt_str(s: Option<&str>) {
    match s {
        Some(s) => put_str(s),
        None => put_none(),
    }
}

fn put_opt_num(n: Option<f64>) {
    match n {
        Some(n) => put_num(n),
        None => put_none(),
    }
}

// Values go to JavaScript one by one (`put_*`), into a list that `index.js` reads as a
// step, after its kind (an error value is a failed step): numbers and strings as they
// are, no JS object or array made here.

/// A step, as `index.js` reads it: `[0, method, url, body?, timeoutMs, prefer?,
/// authorization?]` send (`prefer`, `authorization`: those headers' values), `[1, ms,
/// creationId?, elapsedMs, checks, error?]` sleep (reporting progress when it has an id;
/// `error`: the failure polling rides out), `[2, output, ...]` done (see [`put_output`]), `[3, ...]` failed (see
/// [`error_value`]). Gives the kind; the values after it are put.
fn step_value(step: Step<'_>, id: &str) -> u32 {
    match step {
        Step::Send { request, timeout } => return send_value(request, timeout),
        Step::Sleep { duration, progress } => {
            put_num(convert::timer_millis(duration).into());
            if let Some(p) = progress {
                put_str(p.creation_id);
                put_num(convert::millis32(p.elapsed).into());
                put_num(p.checks.into());
                put_opt_str(p.transient_error.map(clipcloud::ErrorCode::as_str));
            }
        }
        Step::Done(Ok(output)) => {
            put_output(output, id);
            return 2;
        }
        Step::Done(Err(e)) => return error_value(&e),
    }
    1
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
fn send_value(request: &HttpRequest, timeout: Duration) -> u32 {
    put_str(request.method.as_str());
    put_str(&request.url);
    put_opt_str(request.body.as_deref());
    put_num(convert::timer_millis(timeout).into());
    put_opt_str(request.prefer.as_deref());
    put_opt_str(request.authorization.as_deref());
    0
}

/// `[3, code, message, status, mayHaveStarted]` (`mayHaveStarted` 0 or 1): `index.js`
/// makes a `ClipCloudError` of it.
fn error_value(e: &Error) -> u32 {
    put_str(e.code().as_str());
    put_str(&e.describe());
    put_opt_num(e.status().map(f64::from));
    put_num(u8::from(e.may_have_started()).into());
    3
}
