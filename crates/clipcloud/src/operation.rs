//! One call — or a whole `generate` / `wait` — as a state machine that does no I/O. It
//! says what to send and how long to sleep, and is told what came back and when.
//!
//! Every rule lives here: validation, the request, the decoding, the retries and the
//! polling schedule. A driver only performs the steps: the async [`crate::Client`] over a
//! [`crate::Transport`], and the npm package from JavaScript with the page's own `fetch`
//! and timers (which keeps futures, and their weight, out of its wasm).
//!
//! A driver, with canned answers in place of HTTP and a clock that only moves when it
//! sleeps:
//!
//! ```
//! use clipcloud::codec::HttpResponse;
//! use clipcloud::{Call, Config, Operation, Output, Session, Step, StyleRequest};
//! use core::time::Duration;
//!
//! let mut session = Session::new(Config::new("KEY").base_url("http://127.0.0.1:8787"), 1)?;
//! let mut op = Operation::new(Call::Generate(StyleRequest::new("a red apple", "standard").into()));
//! let id = "12345678-abcd-ef12-3456-7890abcdef12";
//! let answers = [
//!     format!(r#"{{"success":true,"creation_id":"{id}"}}"#),
//!     format!(r#"{{"success":true,"message":"In progress","creation_id":"{id}"}}"#),
//!     format!(r#"{{"success":true,"creation_id":"{id}","cost":1.1,"censored":0,"results":["http://127.0.0.1:8787/images/a.webp"]}}"#),
//! ];
//! let (mut answers, mut now, mut reports) = (answers.into_iter(), Duration::ZERO, Vec::new());
//! let mut step = op.start(&mut session, now);
//! let result = loop {
//!     step = match step {
//!         Step::Send { request, timeout: _ } => {
//!             // Send `request.method` to `request.url` with `request.body`, give up after
//!             // `timeout`; here the next canned answer arrives at once.
//!             assert!(request.url.starts_with("http://127.0.0.1:8787/api/creation"));
//!             let body = answers.next().expect("one answer per request");
//!             let answer = HttpResponse { status: 200, retry_after: None, body, received_unix_secs: 0 };
//!             op.answer(&mut session, Ok(answer), now)
//!         }
//!         Step::Sleep { duration, progress } => {
//!             reports.extend(progress.map(|p| p.checks));
//!             now += duration;
//!             op.woke(&mut session, now)
//!         }
//!         Step::Done(result) => break result,
//!     };
//! };
//! let Output::Finished(done) = result? else { unreachable!("generate ends with the images") };
//! assert_eq!((done.images.len(), done.cost), (1, 1.1));
//! // Reported on acceptance (0 checks), then after the check that found it running.
//! assert_eq!(reports, [0, 1]);
//! # Ok::<(), clipcloud::Error>(())
//! ```

use crate::codec::{self, Endpoint, HttpRequest, HttpResponse};
use crate::config::Config;
use crate::error::{Error, ErrorCode};
use crate::model::{CreateRequest, Finished, Status, Style};
use crate::poll::{nanos, Learned, Nanos};
use crate::retry::{CallKind, Decision};
use crate::transport::TransportError;
use crate::validate;
use core::time::Duration;

/// What one configured client keeps between calls: its settings, the live styles list
/// once fetched (to catch an unknown style before a create is sent), what its finished
/// creations took (the polling schedule learns from it) and its jitter source. Memory only.
#[derive(Debug)]
pub struct Session {
    config: Config,
    known_styles: Option<Vec<Style>>,
    learned: Learned,
    /// Creations made here with `create` and not waited for yet, newest last, at most
    /// [`Session::KEEP_CREATED`]: a `wait` for one of them polls like `generate`.
    created: Vec<Created>,
    /// xorshift64 state; never 0.
    random: u64,
}

/// A creation made by `create`: its id, what the schedule learns it as, and when it was
/// started (the driver's clock).
#[derive(Debug)]
struct Created {
    id: String,
    kind: String,
    started: Nanos,
}

impl Session {
    /// `seed`: any number; different clients should get different ones (retry jitter).
    pub fn new(config: Config, seed: u64) -> Result<Self, Error> {
        Ok(Self {
            config: config.validated()?,
            known_styles: None,
            learned: Learned::default(),
            created: Vec::new(),
            random: seed | 1,
        })
    }

    /// Creations made with `create` remembered for a `wait`.
    pub const KEEP_CREATED: usize = 16;

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What the polling schedule learned, as text to keep across page loads
    /// ([`Learned::to_text`]).
    pub fn learned_text(&self) -> String {
        self.learned.to_text()
    }

    /// Held checks up to `max` from now on, or none ([`Config::hold`]): for a client that
    /// learns only after it was made that its server offers them (a gateway's info).
    pub fn set_hold(&mut self, max: Option<Duration>) {
        self.config.hold = max.map(|m| m.min(crate::hold::MAX));
    }

    /// Takes up what an earlier session learned ([`Session::learned_text`]) in place of
    /// what this one learned so far.
    pub fn restore_learned(&mut self, text: &str) {
        self.learned = Learned::from_text(text);
    }

    /// Whether the key goes in `Authorization` from now on ([`Config::key_as_bearer`]):
    /// for a client that learns only after it was made that its server is a gateway.
    pub fn set_key_as_bearer(&mut self, yes: bool) {
        self.config.key_as_bearer = yes;
    }

    /// Where requests go, with the key in their URL ([`Session::place_key`] moves it).
    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint { base_url: &self.config.base_url, api_key: self.config.key() }
    }

    /// The key where this session sends it now: the URL as built, or, for a gateway
    /// ([`Config::key_as_bearer`]), moved to `Authorization` (the key is a URL's only
    /// query: [`Endpoint`]'s base URL and paths carry none).
    fn place_key(&self, http: &mut HttpRequest) {
        let Some(key) = self.config.key().filter(|_| self.config.key_as_bearer) else { return };
        // Bytes, not `str::find`: no char searcher in the wasm.
        if let Some(query) = http.url.bytes().position(|b| b == b'?') {
            http.url.truncate(query);
        }
        http.authorization = Some(["Bearer ", key].concat());
    }

    /// A creation `create` just made, remembered for a `wait`; the oldest is forgotten
    /// past [`Session::KEEP_CREATED`].
    fn remember_created(&mut self, created: Created) {
        if self.created.len() == Self::KEEP_CREATED {
            self.created.remove(0);
        }
        self.created.push(created);
    }

    /// The creation `id`, forgotten here, if `create` made it here and a wait for it
    /// begins `now`, before the schedule's first check (a batch: create several, then wait
    /// for each): from there on the wait sees it as `generate` would. Later it may be
    /// ready already: the wait checks at once and does not learn from it.
    fn take_created(&mut self, id: &str, now: Nanos) -> Option<Created> {
        let i = self.created.iter().position(|c| c.id == id)?;
        let created = self.created.remove(i);
        (now.saturating_sub(created.started) < nanos(self.config.poll.first_delay)).then_some(created)
    }

    /// Uniform in [0, 1).
    fn next_random(&mut self) -> f64 {
        let mut x = self.random;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// What to do.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Call {
    Create(CreateRequest),
    Check(String),
    Balance,
    Styles,
    /// Create, then wait until the images are ready.
    Generate(CreateRequest),
    /// Wait for a creation made earlier (the docs' "create early, collect later"):
    /// checks at once, then follows the polling schedule. A wait for a creation this client's
    /// `create` made, begun before the schedule's first check (create several, then wait for
    /// each), polls as `generate` does instead (timed from the create, and learning from it).
    Wait(String),
}

/// What a finished [`Call`] gives: `Created` for create, `Status` for check, `Balance`,
/// `Styles`, and `Finished` for generate and wait.
#[derive(Clone, Debug, PartialEq)]
pub enum Output {
    Created(String),
    Status(Status),
    Balance(f64),
    Styles(Vec<Style>),
    Finished(Finished),
}

/// Reported while waiting for a creation: once `generate`'s create is accepted (`checks`
/// 0: the id is known from here on, to wait for it later should this page go away; also
/// when a `wait` polls as `generate` does), then after every check that found it not ready.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Progress<'a> {
    pub creation_id: &'a str,
    /// Checks made so far.
    pub checks: u32,
    /// Since the creation was accepted (or since `wait` began).
    pub elapsed: Duration,
    /// Set when the last check failed in a way that polling rides out.
    pub transient_error: Option<ErrorCode>,
}

/// What the driver must do next.
#[derive(Debug, PartialEq)]
pub enum Step<'a> {
    /// Send this request, give up on it after `timeout`, then call [`Operation::answer`].
    Send { request: &'a HttpRequest, timeout: Duration },
    /// Report `progress` if there is one, sleep, then call [`Operation::woke`].
    Sleep { duration: Duration, progress: Option<Progress<'a>> },
    /// The end; later calls return an [`Error::Internal`] (a driver bug).
    Done(Result<Output, Error>),
}

/// Why the driver stops an operation early ([`Operation::stop`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interrupt {
    /// The caller cancelled it.
    Aborted,
    /// The caller's own time limit for the whole call passed.
    TimedOut,
}

/// A step the operation's state does not expect: a bug in its driver.
const OUT_OF_ORDER: Error = Error::Internal("an operation was driven out of order");

/// Where an operation is. Each state holds what it needs, and nothing else. Times are
/// [`Nanos`] (as the polling schedule computes), `Duration`s only where a driver sees them.
#[derive(Debug)]
enum State {
    /// Not started yet.
    New(Call),
    /// The request is out; waiting for its answer.
    Sent(Request),
    /// Backing off before sending the request again.
    Retrying(Request),
    /// Sleeping before the next check of a creation being waited for.
    Sleeping { check: HttpRequest, poll: Waiting },
    /// Finished (or stopped); further steps are a driver's bug.
    Done,
}

/// A request and what it is for.
#[derive(Debug)]
struct Request {
    http: HttpRequest,
    purpose: Purpose,
    /// Retries so far (a new check of a poll starts again at 0).
    retries: u32,
}

/// What a request is for: how to read its answer and what comes next.
#[derive(Debug)]
enum Purpose {
    Create(Creating),
    /// One check (`check`): its answer is the result.
    Check(String),
    /// A check while waiting for a creation (`generate` once created, `wait`).
    Poll(Waiting),
    Balance,
    Styles,
}

/// A create under way (`create`, or the start of `generate`).
#[derive(Debug)]
struct Creating {
    /// On the driver's clock.
    started: Nanos,
    /// What the schedule learns its duration as ([`kind_of`]).
    kind: String,
    /// `generate`: wait for the images once it is accepted.
    then_wait: bool,
}

/// Waiting for a creation: `generate` and `wait`.
#[derive(Debug)]
struct Waiting {
    id: String,
    /// On the driver's clock: when the creation was started (`generate`) or the wait began.
    started: Nanos,
    /// For a creation started here: the kind of creation, whose learned durations the
    /// schedule follows, and which its duration is learned as (it was watched from its
    /// start). `None` for a `wait` on a creation made elsewhere or long ago: checked at
    /// once, then on the cold schedule.
    kind: Option<String>,
    checks: u32,
    /// Since `started`: when the last check was sent (each retry anew), and the last one
    /// that found it running.
    sent_at: Nanos,
    not_ready_at: Option<Nanos>,
    /// The last failure polling rode out; reported if the deadline passes.
    last_error: Option<Error>,
    /// The hold the last check asked for ([`crate::hold`]), when the server offers them.
    wait: Option<Duration>,
}

/// One call in progress. See the module docs for how to drive it.
#[derive(Debug)]
pub struct Operation {
    state: State,
}

impl Operation {
    pub fn new(call: Call) -> Self {
        Self { state: State::New(call) }
    }

    /// The first step. `now`: the driver's clock (any fixed origin, e.g. `Date.now()`).
    pub fn start(&mut self, session: &mut Session, now: Duration) -> Step<'_> {
        let now = nanos(now);
        let State::New(call) = core::mem::replace(&mut self.state, State::Done) else {
            return Step::Done(Err(OUT_OF_ORDER));
        };
        if let Call::Wait(id) = &call {
            if let Some(created) = session.take_created(id, now) {
                // Made here moments ago: polled as `generate` polls, from its start.
                let poll = Waiting::new(created.id, created.started, Some(created.kind));
                return match check_of(&session.endpoint(), poll) {
                    Ok((check, poll)) => self.next_check(session, check, poll, now, false, None),
                    Err(e) => self.finish(Err(e)),
                };
            }
        }
        let endpoint = session.endpoint();
        let request = match call {
            Call::Create(request) => create(session, request, now, false),
            Call::Generate(request) => create(session, request, now, true),
            Call::Check(id) => validate::creation_id(&id)
                .map(|()| Request::new(endpoint.check(&id), Purpose::Check(id)))
                .map_err(Error::from),
            Call::Wait(id) => check_of(&endpoint, Waiting::new(id, now, None))
                .map(|(check, poll)| Request::new(check, Purpose::Poll(poll))),
            Call::Balance => Ok(Request::new(endpoint.balance(), Purpose::Balance)),
            Call::Styles => Ok(Request::new(endpoint.styles(), Purpose::Styles)),
        };
        match request {
            Ok(request) => self.send(session, request, now),
            Err(e) => self.finish(Err(e)),
        }
    }

    /// The answer to the last [`Step::Send`], or why none came. `now` as in [`Self::start`].
    pub fn answer(
        &mut self,
        session: &mut Session,
        answer: Result<HttpResponse, TransportError>,
        now: Duration,
    ) -> Step<'_> {
        let now = nanos(now);
        let State::Sent(mut request) = core::mem::replace(&mut self.state, State::Done) else {
            return Step::Done(Err(OUT_OF_ORDER));
        };
        let kind = request.kind();
        let decoded = match answer {
            Ok(response) => request.decode(session, &response),
            Err(e) => Err(transport_error(kind, e)),
        };
        let error = match decoded {
            Ok(output) => return self.decoded(session, request, output, now),
            Err(e) => server_error_on_create(kind, e),
        };
        let time_left = match &request.purpose {
            Purpose::Poll(p) => {
                let end = p.started.saturating_add(nanos(session.config.poll.deadline));
                Some(Duration::from_nanos(end.saturating_sub(now)))
            }
            _ => None,
        };
        let random = session.next_random();
        match session.config.retry.decide(kind, request.retries, &error, time_left, random) {
            Decision::RetryAfter(duration) => {
                request.retries += 1;
                self.state = State::Retrying(request);
                Step::Sleep { duration, progress: None }
            }
            Decision::GiveUp => {
                let error = error.redact(session.config.key().unwrap_or_default());
                match request.purpose {
                    // One failed check (after its own retries) does not lose the creation:
                    // it is still running on the service, so keep polling until the deadline.
                    Purpose::Poll(mut poll) if crate::retry::is_retryable(CallKind::Read, &error) => {
                        let code = error.code();
                        poll.last_error = Some(error);
                        self.next_check(session, request.http, poll, now, true, Some(code))
                    }
                    _ => self.finish(Err(error)),
                }
            }
        }
    }

    /// The request of the last [`Step::Send`] again, not yet sent: for a driver that held it
    /// back while it learned something that changes it (whether the server is a gateway,
    /// which takes the key in a header and may hold checks). `now` as in [`Self::start`].
    pub fn resend(&mut self, session: &Session, now: Duration) -> Step<'_> {
        match core::mem::replace(&mut self.state, State::Done) {
            State::Sent(request) => self.send(session, request, nanos(now)),
            _ => Step::Done(Err(OUT_OF_ORDER)),
        }
    }

    /// After a [`Step::Sleep`].
    pub fn woke(&mut self, session: &mut Session, now: Duration) -> Step<'_> {
        let now = nanos(now);
        match core::mem::replace(&mut self.state, State::Done) {
            State::Retrying(request) => self.send(session, request, now),
            State::Sleeping { check, poll } => {
                self.send(session, Request::new(check, Purpose::Poll(poll)), now)
            }
            _ => Step::Done(Err(OUT_OF_ORDER)),
        }
    }

    /// Ends the operation early and says with which error. A time limit that passes
    /// after a create was sent leaves open whether the creation started.
    pub fn stop(&mut self, why: Interrupt) -> Error {
        let may_have_started = match &self.state {
            State::Sent(Request { purpose: Purpose::Create(_), .. }) => true,
            State::Sent(Request { purpose: Purpose::Poll(poll), .. })
            | State::Retrying(Request { purpose: Purpose::Poll(poll), .. })
            | State::Sleeping { poll, .. } => poll.kind.is_some(),
            _ => false,
        };
        self.state = State::Done;
        match why {
            Interrupt::Aborted => Error::Aborted,
            Interrupt::TimedOut => Error::Timeout { may_have_started },
        }
    }

    fn send(&mut self, session: &Session, mut request: Request, now: Nanos) -> Step<'_> {
        let mut timeout = session.config.request_timeout;
        session.place_key(&mut request.http);
        if let Purpose::Poll(p) = &mut request.purpose {
            p.sent_at = now.saturating_sub(p.started);
            // Held checks, when the server offers them: at most until the deadline.
            let left = Duration::from_nanos(nanos(session.config.poll.deadline).saturating_sub(p.sent_at));
            p.wait = session.config.hold.map(|max| max.min(left)).filter(|w| *w >= Duration::from_secs(1));
            request.http.prefer = p.wait.map(crate::hold::prefer);
            timeout = timeout.saturating_add(p.wait.unwrap_or_default());
        }
        self.state = State::Sent(request);
        match &self.state {
            State::Sent(request) => Step::Send { request: &request.http, timeout },
            _ => Step::Done(Err(OUT_OF_ORDER)),
        }
    }

    fn finish(&mut self, result: Result<Output, Error>) -> Step<'_> {
        self.state = State::Done;
        Step::Done(result)
    }

    fn decoded(&mut self, session: &mut Session, request: Request, output: Output, now: Nanos) -> Step<'_> {
        match (request.purpose, output) {
            // `generate`: the creation was accepted; from here on it polls.
            (Purpose::Create(Creating { started, kind, then_wait: true }), Output::Created(id)) => {
                // Cannot fail: decode_created accepts only ids that pass this check.
                match check_of(&session.endpoint(), Waiting::new(id, started, Some(kind))) {
                    Ok((check, poll)) => self.next_check(session, check, poll, now, false, None),
                    Err(e) => self.finish(Err(e)),
                }
            }
            // `create`: remembered, for a `wait` to poll it as `generate` would.
            (Purpose::Create(Creating { started, kind, then_wait: false }), Output::Created(id)) => {
                session.remember_created(Created { id: id.clone(), kind, started });
                self.finish(Ok(Output::Created(id)))
            }
            (Purpose::Poll(mut poll), Output::Status(status)) => match status {
                Status::Done(finished) => {
                    // A held check's send time says nothing about when the creation ended:
                    // the server that held it learns durations, not this client.
                    if let (Some(kind), None) = (&poll.kind, poll.wait) {
                        session.learned.record_nanos(kind, poll.not_ready_at, poll.sent_at);
                    }
                    self.finish(Ok(Output::Finished(finished)))
                }
                Status::InProgress => {
                    poll.not_ready_at = Some(poll.sent_at);
                    self.next_check(session, request.http, poll, now, true, None)
                }
            },
            (_, output) => self.finish(Ok(output)),
        }
    }

    /// Counts the check just `answered` (none after the create), then sleeps until the
    /// next one, or ends at the deadline.
    fn next_check(
        &mut self,
        session: &mut Session,
        check: HttpRequest,
        mut poll: Waiting,
        now: Nanos,
        answered: bool,
        transient: Option<ErrorCode>,
    ) -> Step<'_> {
        if answered {
            poll.checks += 1;
        }
        let elapsed = now.saturating_sub(poll.started);
        let schedule = &session.config.poll;
        // Held checks follow each other at once: the first one as soon as the creation is
        // accepted, the next when one was held and found it running. A check answered early
        // (a server that did not hold it) or a failure: the schedule decides.
        let held_again = match poll.wait {
            None => !answered,
            Some(wait) => {
                let answered_after = Duration::from_nanos(elapsed.saturating_sub(poll.sent_at));
                transient.is_none() && crate::hold::was_held(wait, answered_after)
            }
        };
        let time_left = elapsed < nanos(schedule.deadline);
        let learned = poll.kind.as_deref().and_then(|k| session.learned.get_mut(k));
        // A `wait` on a creation made elsewhere made its first check at once, off the schedule.
        let scheduled_checks = poll.checks.saturating_sub(u32::from(poll.kind.is_none()));
        let next = if session.config.hold.is_some() && held_again && time_left {
            Some(0)
        } else {
            schedule.next_delay_nanos(scheduled_checks, elapsed, learned)
        };
        let Some(duration) = next else {
            // Out of time: the last transient failure explains more than "timeout".
            let started_here = poll.kind.is_some();
            let error = poll.last_error.unwrap_or(Error::Timeout { may_have_started: started_here });
            return self.finish(Err(error));
        };
        self.state = State::Sleeping { check, poll };
        match &self.state {
            State::Sleeping { poll, .. } => {
                let progress = Progress {
                    creation_id: &poll.id,
                    checks: poll.checks,
                    elapsed: Duration::from_nanos(elapsed),
                    transient_error: transient,
                };
                Step::Sleep { duration: Duration::from_nanos(duration), progress: Some(progress) }
            }
            _ => Step::Done(Err(OUT_OF_ORDER)),
        }
    }
}

/// The create request for `request`, checked; `then_wait` for `generate`.
fn create(
    session: &Session,
    mut request: CreateRequest,
    now: Nanos,
    then_wait: bool,
) -> Result<Request, Error> {
    validate::create(&request, session.known_styles.as_deref())?;
    request.default_soft_id(session.config.soft_id);
    let creating = Creating { started: now, kind: kind_of(&request), then_wait };
    Ok(Request::new(session.endpoint().create(&request), Purpose::Create(creating)))
}

impl Request {
    fn new(http: HttpRequest, purpose: Purpose) -> Self {
        Self { http, purpose, retries: 0 }
    }

    /// Whether it may be repeated ([`CallKind`]).
    fn kind(&self) -> CallKind {
        match self.purpose {
            Purpose::Create(_) => CallKind::Create,
            _ => CallKind::Read,
        }
    }

    fn decode(&self, session: &mut Session, response: &HttpResponse) -> Result<Output, Error> {
        Ok(match &self.purpose {
            Purpose::Create(_) => Output::Created(codec::decode_created(response)?),
            Purpose::Check(id) | Purpose::Poll(Waiting { id, .. }) => {
                Output::Status(codec::decode_check(response, id)?)
            }
            Purpose::Balance => Output::Balance(codec::decode_balance(response)?),
            Purpose::Styles => {
                let styles = codec::decode_styles(response)?;
                session.known_styles = Some(styles.clone());
                Output::Styles(styles)
            }
        })
    }
}

impl Waiting {
    fn new(id: String, started: Nanos, kind: Option<String>) -> Self {
        Self { id, started, kind, checks: 0, sent_at: 0, not_ready_at: None, last_error: None, wait: None }
    }
}

/// The check request of a wait, once its creation id passed the rules.
fn check_of(endpoint: &Endpoint<'_>, poll: Waiting) -> Result<(HttpRequest, Waiting), Error> {
    validate::creation_id(&poll.id)?;
    Ok((endpoint.check(&poll.id), poll))
}

/// What the polling schedule learns durations per: the style and the image count, or
/// the advanced request's model and size. (A gateway learns per the same kinds.)
pub fn kind_of(request: &CreateRequest) -> String {
    let number = |n: Option<u32>| n.map(|n| crate::error::decimal(u64::from(n))).unwrap_or_default();
    match request {
        CreateRequest::ByStyle(r) => [&r.style_name, " *", &number(r.count)].concat(),
        CreateRequest::Advanced(r) => [
            "advanced ",
            r.model.as_deref().unwrap_or_default(),
            " ",
            &number(r.width),
            "x",
            &number(r.height),
            " *",
            &number(r.count),
        ]
        .concat(),
    }
}

/// A server error or an unreadable answer to a create does not prove the creation was
/// refused, unless the server named a time to come back (a refusal, and retried).
fn server_error_on_create(kind: CallKind, mut error: Error) -> Error {
    if kind == CallKind::Create {
        if let Error::Api { status: 500..=599, retry_after: None, may_have_started, .. }
        | Error::BadResponse { may_have_started, .. } = &mut error
        {
            *may_have_started = true;
        }
    }
    error
}

fn transport_error(kind: CallKind, error: TransportError) -> Error {
    let is_create = kind == CallKind::Create;
    match error {
        TransportError::Timeout => Error::Timeout { may_have_started: is_create },
        TransportError::Network { message, not_sent } => {
            Error::Network { message, may_have_started: is_create && !not_sent }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::StyleRequest;

    const ID: &str = "12345678-abcd-ef12-3456-7890abcdef12";

    fn session() -> Session {
        Session::new(Config::new("key").base_url("http://e.test"), 7).unwrap()
    }

    fn reply(status: u16, body: &str) -> Result<HttpResponse, TransportError> {
        Ok(HttpResponse { status, retry_after: None, body: body.into(), received_unix_secs: 0 })
    }

    fn created() -> Result<HttpResponse, TransportError> {
        reply(200, &[r#"{"success":true,"creation_id":""#, ID, r#""}"#].concat())
    }

    fn running() -> Result<HttpResponse, TransportError> {
        reply(200, &[r#"{"success":true,"message":"In progress","creation_id":""#, ID, r#""}"#].concat())
    }

    fn generate() -> Operation {
        Operation::new(Call::Generate(StyleRequest::new("a red apple", "standard").into()))
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn generate_sends_the_create_then_sleeps_then_checks_and_reports_progress() {
        let mut s = session();
        let mut op = generate();
        let Step::Send { request, .. } = op.start(&mut s, ms(1_000)) else { panic!("a create first") };
        assert!(request.url.starts_with("http://e.test/api/creation?apikey="));
        // Accepted: the first sleep reports the id, before any check.
        let step = op.answer(&mut s, created(), ms(1_050));
        let progress = Progress { creation_id: ID, checks: 0, elapsed: ms(50), transient_error: None };
        assert_eq!(step, Step::Sleep { duration: ms(500), progress: Some(progress) });
        let Step::Send { request, .. } = op.woke(&mut s, ms(1_550)) else {
            panic!("a check after the sleep")
        };
        assert!(request.url.starts_with(&["http://e.test/api/creation/", ID, "?"].concat()));
        let Step::Sleep { progress: Some(p), .. } = op.answer(&mut s, running(), ms(1_600)) else {
            panic!("a sleep with progress")
        };
        assert_eq!((p.creation_id, p.checks, p.elapsed, p.transient_error), (ID, 1, ms(600), None));
    }

    fn done() -> Result<HttpResponse, TransportError> {
        let body = [
            r#"{"success":true,"creation_id":""#,
            ID,
            r#"","cost":1.1,"censored":0,"results":["http://e.test/i.webp"]}"#,
        ];
        reply(200, &body.concat())
    }

    /// `create` at `at` ms, accepted 50 ms later.
    fn create_at(s: &mut Session, at: u64) {
        let mut op = Operation::new(Call::Create(StyleRequest::new("a red apple", "standard").into()));
        op.start(s, ms(at));
        assert_eq!(op.answer(s, created(), ms(at + 50)), Step::Done(Ok(Output::Created(ID.into()))));
    }

    #[test]
    fn a_wait_soon_after_a_create_here_polls_as_generate_does_and_learns() {
        let mut s = session();
        create_at(&mut s, 1_000);
        let mut op = Operation::new(Call::Wait(ID.into()));
        // No check at once: it cannot be ready yet. The cold schedule's first sleep, and the
        // time since the create began.
        let progress = Progress { creation_id: ID, checks: 0, elapsed: ms(100), transient_error: None };
        assert_eq!(op.start(&mut s, ms(1_100)), Step::Sleep { duration: ms(500), progress: Some(progress) });
        assert!(matches!(op.woke(&mut s, ms(1_600)), Step::Send { .. }));
        assert!(matches!(op.answer(&mut s, done(), ms(1_650)), Step::Done(Ok(Output::Finished(_)))));
        assert_eq!(s.learned.get("standard *").map(crate::poll::Durations::len), Some(1));

        // Each creation is taken up once: a second wait for it checks at once.
        let mut again = Operation::new(Call::Wait(ID.into()));
        assert!(matches!(again.start(&mut s, ms(1_700)), Step::Send { .. }));
    }

    #[test]
    fn a_wait_that_begins_late_checks_at_once_and_does_not_learn() {
        let mut s = session();
        create_at(&mut s, 1_000);
        let mut op = Operation::new(Call::Wait(ID.into()));
        // 10 s later: it may well be ready; its duration is unknown.
        assert!(matches!(op.start(&mut s, ms(11_000)), Step::Send { .. }));
        assert!(matches!(op.answer(&mut s, done(), ms(11_050)), Step::Done(Ok(Output::Finished(_)))));
        assert!(s.learned.get("standard *").is_none());
    }

    #[test]
    fn stopping_says_whether_the_creation_may_have_started() {
        let mut s = session();
        let mut op = generate();
        assert_eq!(op.stop(Interrupt::TimedOut), Error::Timeout { may_have_started: false });

        // The create is out and unanswered: it may have started.
        let mut op = generate();
        op.start(&mut s, ms(0));
        assert_eq!(op.stop(Interrupt::TimedOut), Error::Timeout { may_have_started: true });

        // Refused with 429, waiting to try again: it did not start.
        let mut op = generate();
        op.start(&mut s, ms(0));
        let step = op.answer(&mut s, reply(429, r#"{"success":false,"message":"slow down"}"#), ms(10));
        assert!(matches!(step, Step::Sleep { progress: None, .. }), "{step:?}");
        assert_eq!(op.stop(Interrupt::TimedOut), Error::Timeout { may_have_started: false });

        // Accepted and polling: it started (and is charged).
        let mut op = generate();
        op.start(&mut s, ms(0));
        op.answer(&mut s, created(), ms(10));
        assert_eq!(op.stop(Interrupt::TimedOut), Error::Timeout { may_have_started: true });
        assert_eq!(op.stop(Interrupt::Aborted), Error::Aborted);
    }

    #[test]
    fn steps_out_of_order_end_the_operation_without_a_panic() {
        let mut s = session();
        let mut op = Operation::new(Call::Balance);
        assert_eq!(op.answer(&mut s, reply(200, "{}"), ms(0)), Step::Done(Err(OUT_OF_ORDER)));
        let mut op = Operation::new(Call::Balance);
        op.start(&mut s, ms(0));
        assert_eq!(op.woke(&mut s, ms(0)), Step::Done(Err(OUT_OF_ORDER)));
        assert_eq!(op.start(&mut s, ms(0)), Step::Done(Err(OUT_OF_ORDER)));
        let mut op = Operation::new(Call::Balance);
        op.start(&mut s, ms(0));
        let done = op.answer(&mut s, reply(200, r#"{"success":true,"balance":5}"#), ms(1));
        assert_eq!(done, Step::Done(Ok(Output::Balance(5.0))));
        assert_eq!(op.answer(&mut s, reply(200, "{}"), ms(2)), Step::Done(Err(OUT_OF_ORDER)));
    }

    #[test]
    fn only_a_create_answered_by_a_server_error_or_unreadably_may_have_started() {
        let api = |status, retry_after| Error::Api {
            status,
            message: "m".into(),
            retry_after,
            may_have_started: false,
        };
        let bad = Error::BadResponse {
            status: 200,
            reason: "r".into(),
            excerpt: "e".into(),
            may_have_started: false,
        };
        let wait = Some(Duration::from_secs(1));
        let cases = [
            (api(500, None), true),
            (api(599, None), true),
            (api(503, wait), false),
            (api(429, None), false),
        ];
        for (error, started) in cases.into_iter().chain([(bad, true), (Error::Aborted, false)]) {
            assert!(!server_error_on_create(CallKind::Read, error.clone()).may_have_started(), "{error:?}");
            let on_create = server_error_on_create(CallKind::Create, error.clone());
            assert_eq!(on_create.may_have_started(), started, "{error:?}");
            assert_eq!(
                (on_create.code(), on_create.describe().starts_with(&error.describe())),
                (error.code(), true)
            );
        }
    }

    #[test]
    fn a_creation_id_unfit_for_a_url_is_a_bad_response() {
        let mut s = session();
        let mut op = generate();
        op.start(&mut s, ms(0));
        let step = op.answer(&mut s, reply(200, r#"{"success":true,"creation_id":"../balance"}"#), ms(1));
        let Step::Done(Err(e)) = step else { panic!("{step:?}") };
        assert_eq!((e.code(), e.may_have_started()), (ErrorCode::BadResponse, true), "{e}");
    }
}
