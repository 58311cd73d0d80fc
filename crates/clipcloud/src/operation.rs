//! One call — or a whole `generate` / `wait` — as a state machine that does no I/O. It
//! says what to send and how long to sleep, and is told what came back and when.
//!
//! Every rule lives here: validation, the request, the decoding, the retries and the
//! polling schedule. A driver only performs the steps: the async [`crate::Client`] over a
//! [`crate::Transport`], and the npm package from JavaScript with the page's own `fetch`
//! and timers (which keeps futures, and their weight, out of its wasm).
//!
//! ```text
//! let mut op = Operation::new(Call::Generate(request));
//! let mut step = op.start(&mut session, now);
//! loop {
//!     step = match step {
//!         Step::Send { request, timeout } => op.answer(&mut session, send(request, timeout), now),
//!         Step::Sleep { duration, progress } => { report(progress); sleep(duration); op.woke(&mut session, now) }
//!         Step::Done(result) => return result,
//!     }
//! }
//! ```

use crate::codec::{self, Endpoint, HttpRequest, HttpResponse};
use crate::config::Config;
use crate::error::{Error, ErrorCode};
use crate::model::{CreateRequest, Finished, Status, Style};
use crate::poll::Learned;
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
    started: Duration,
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

    /// Takes up what an earlier session learned ([`Session::learned_text`]) in place of
    /// what this one learned so far.
    pub fn restore_learned(&mut self, text: &str) {
        self.learned = Learned::from_text(text);
    }

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint { base_url: &self.config.base_url, api_key: self.config.key() }
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
    fn take_created(&mut self, id: &str, now: Duration) -> Option<Created> {
        let i = self.created.iter().position(|c| c.id == id)?;
        let created = self.created.remove(i);
        (now.saturating_sub(created.started) < self.config.poll.first_delay).then_some(created)
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
/// Polling without a creation to poll: a bug in the operation.
const NOT_POLLING: Error = Error::Internal("polling without a creation");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    New,
    /// `request` is out; waiting for its answer.
    Sent,
    /// Backing off before sending `request` again.
    Retrying,
    /// Sleeping before the next check.
    Polling,
    Done,
}

/// How to read the answer to `request`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decode {
    Created,
    Check,
    Balance,
    Styles,
}

/// The polling part of `generate` and `wait`.
#[derive(Debug)]
struct Polling {
    /// On the driver's clock: when the creation was started (`generate`) or the wait began.
    started: Duration,
    /// For a creation started here: the kind of creation, whose learned durations the
    /// schedule follows. `None` for a `wait` on a creation made elsewhere or long ago:
    /// checked at once, then on the cold schedule.
    /// Its duration is learned from, as it was watched from its start.
    kind: Option<String>,
    checks: u32,
    /// Since `started`: when the last check was sent (each retry anew), and the last one
    /// that found it running.
    sent_at: Duration,
    not_ready_at: Option<Duration>,
    /// The last failure polling rode out; reported if the deadline passes.
    last_error: Option<Error>,
}

/// One call in progress. See the module docs for how to drive it.
#[derive(Debug)]
pub struct Operation {
    call: Call,
    state: State,
    request: HttpRequest,
    kind: CallKind,
    decode: Decode,
    retries: u32,
    /// The creation checked (check, wait, generate once created).
    id: String,
    /// `create` and `generate`: when the call began and the kind of creation, until
    /// polling (`generate`) or the session (`create`) takes them over.
    creating: Option<(Duration, String)>,
    /// `generate`: polls once the creation is accepted.
    then_wait: bool,
    polling: Option<Polling>,
}

impl Operation {
    pub fn new(call: Call) -> Self {
        Self {
            call,
            state: State::New,
            request: HttpRequest { method: codec::Method::Get, url: String::new(), body: None },
            kind: CallKind::Read,
            decode: Decode::Balance,
            retries: 0,
            id: String::new(),
            creating: None,
            then_wait: false,
            polling: None,
        }
    }

    /// The first step. `now`: the driver's clock (any fixed origin, e.g. `Date.now()`).
    pub fn start(&mut self, session: &mut Session, now: Duration) -> Step<'_> {
        if self.state != State::New {
            return self.finish(Err(OUT_OF_ORDER));
        }
        let call = core::mem::replace(&mut self.call, Call::Balance);
        if let Call::Wait(id) = &call {
            if let Some(created) = session.take_created(id, now) {
                // Made here moments ago: polled as `generate` polls, from its start.
                if let Err(e) = self.check(&session.endpoint(), created.id) {
                    return self.finish(Err(e));
                }
                self.polling = Some(Polling::new(created.started, Some(created.kind)));
                return self.next_check(session, now, false, None);
            }
        }
        let endpoint = session.endpoint();
        let sent = match call {
            Call::Create(request) => {
                self.creating = Some((now, kind_of(&request)));
                self.create(session, request)
            }
            Call::Generate(request) => {
                self.creating = Some((now, kind_of(&request)));
                self.then_wait = true;
                self.create(session, request)
            }
            Call::Check(id) => self.check(&endpoint, id),
            Call::Wait(id) => self.check(&endpoint, id).map(|()| {
                self.polling = Some(Polling::new(now, None));
            }),
            Call::Balance => {
                self.request = endpoint.balance();
                Ok(())
            }
            Call::Styles => {
                self.request = endpoint.styles();
                self.decode = Decode::Styles;
                Ok(())
            }
        };
        match sent {
            Ok(()) => self.send(session, now),
            Err(e) => self.finish(Err(e)),
        }
    }

    fn check(&mut self, endpoint: &Endpoint<'_>, id: String) -> Result<(), Error> {
        validate::creation_id(&id)?;
        self.request = endpoint.check(&id);
        self.decode = Decode::Check;
        self.id = id;
        Ok(())
    }

    fn create(&mut self, session: &Session, mut request: CreateRequest) -> Result<(), Error> {
        validate::create(&request, session.known_styles.as_deref())?;
        if request.soft_id_mut().is_none() {
            *request.soft_id_mut() = session.config.soft_id;
        }
        self.request = session.endpoint().create(&request);
        self.kind = CallKind::Create;
        self.decode = Decode::Created;
        Ok(())
    }

    /// The answer to the last [`Step::Send`], or why none came. `now` as in [`Self::start`].
    pub fn answer(
        &mut self,
        session: &mut Session,
        answer: Result<HttpResponse, TransportError>,
        now: Duration,
    ) -> Step<'_> {
        if self.state != State::Sent {
            return self.finish(Err(OUT_OF_ORDER));
        }
        let decoded = match answer {
            Ok(response) => self.decode(session, &response),
            Err(e) => Err(transport_error(self.kind, e)),
        };
        let error = match decoded {
            Ok(output) => return self.decoded(session, output, now),
            Err(e) => server_error_on_create(self.kind, e),
        };
        let time_left = self
            .polling
            .as_ref()
            .map(|p| p.started.saturating_add(session.config.poll.deadline).saturating_sub(now));
        let random = session.next_random();
        match session.config.retry.decide(self.kind, self.retries, &error, time_left, random) {
            Decision::RetryAfter(duration) => {
                self.retries += 1;
                self.state = State::Retrying;
                Step::Sleep { duration, progress: None }
            }
            Decision::GiveUp => {
                let error = error.redact(session.config.key().unwrap_or_default());
                match &mut self.polling {
                    // One failed check (after its own retries) does not lose the creation:
                    // it is still running on the service, so keep polling until the deadline.
                    Some(polling) if crate::retry::is_retryable(CallKind::Read, &error) => {
                        let code = error.code();
                        polling.last_error = Some(error);
                        self.next_check(session, now, true, Some(code))
                    }
                    _ => self.finish(Err(error)),
                }
            }
        }
    }

    /// After a [`Step::Sleep`].
    pub fn woke(&mut self, session: &mut Session, now: Duration) -> Step<'_> {
        match self.state {
            State::Retrying => self.send(session, now),
            State::Polling => {
                self.retries = 0;
                self.send(session, now)
            }
            _ => self.finish(Err(OUT_OF_ORDER)),
        }
    }

    /// Ends the operation early and says with which error. A time limit that passes
    /// after a create was sent leaves open whether the creation started.
    pub fn stop(&mut self, why: Interrupt) -> Error {
        let create_unanswered = self.kind == CallKind::Create && self.state == State::Sent;
        let created_here = self.polling.as_ref().is_some_and(|p| p.kind.is_some());
        self.state = State::Done;
        match why {
            Interrupt::Aborted => Error::Aborted,
            Interrupt::TimedOut => Error::Timeout { may_have_started: create_unanswered || created_here },
        }
    }

    fn send(&mut self, session: &Session, now: Duration) -> Step<'_> {
        if let Some(polling) = &mut self.polling {
            polling.sent_at = now.saturating_sub(polling.started);
        }
        self.state = State::Sent;
        Step::Send { request: &self.request, timeout: session.config.request_timeout }
    }

    fn finish(&mut self, result: Result<Output, Error>) -> Step<'_> {
        self.state = State::Done;
        Step::Done(result)
    }

    fn decode(&self, session: &mut Session, response: &HttpResponse) -> Result<Output, Error> {
        Ok(match self.decode {
            Decode::Created => Output::Created(codec::decode_created(response)?),
            Decode::Check => Output::Status(codec::decode_check(response, &self.id)?),
            Decode::Balance => Output::Balance(codec::decode_balance(response)?),
            Decode::Styles => {
                let styles = codec::decode_styles(response)?;
                session.known_styles = Some(styles.clone());
                Output::Styles(styles)
            }
        })
    }

    fn decoded(&mut self, session: &mut Session, output: Output, now: Duration) -> Step<'_> {
        match (output, self.creating.take()) {
            // `generate`: the creation was accepted; from here on it polls.
            (Output::Created(id), Some((started, kind))) if self.then_wait => {
                self.kind = CallKind::Read;
                // Cannot fail: decode_created accepts only ids that pass this check.
                if let Err(e) = self.check(&session.endpoint(), id) {
                    return self.finish(Err(e));
                }
                self.polling = Some(Polling::new(started, Some(kind)));
                self.next_check(session, now, false, None)
            }
            // `create`: remembered, for a `wait` to poll it as `generate` would.
            (Output::Created(id), Some((started, kind))) => {
                session.remember_created(Created { id: id.clone(), kind, started });
                self.finish(Ok(Output::Created(id)))
            }
            (Output::Status(status), _) if self.polling.is_some() => match status {
                Status::Done(finished) => {
                    if let Some(Polling { kind: Some(kind), not_ready_at, sent_at, .. }) = &self.polling {
                        session.learned.record(kind, *not_ready_at, *sent_at);
                    }
                    self.finish(Ok(Output::Finished(finished)))
                }
                Status::InProgress => {
                    if let Some(p) = &mut self.polling {
                        p.not_ready_at = Some(p.sent_at);
                    }
                    self.next_check(session, now, true, None)
                }
            },
            (output, _) => self.finish(Ok(output)),
        }
    }

    /// Counts the check just `answered` (none after the create), then sleeps until the
    /// next one, or ends at the deadline.
    fn next_check(
        &mut self,
        session: &mut Session,
        now: Duration,
        answered: bool,
        transient: Option<ErrorCode>,
    ) -> Step<'_> {
        let Some(p) = &mut self.polling else { return self.finish(Err(NOT_POLLING)) };
        if answered {
            p.checks += 1;
        }
        let elapsed = now.saturating_sub(p.started);
        let schedule = &session.config.poll;
        let learned = p.kind.as_deref().and_then(|k| session.learned.get_mut(k));
        // A `wait` on a creation made elsewhere made its first check at once, off the schedule.
        let scheduled_checks = p.checks.saturating_sub(u32::from(p.kind.is_none()));
        match schedule.next_delay_learned(scheduled_checks, elapsed, learned) {
            Some(duration) => {
                self.state = State::Polling;
                let progress =
                    Progress { creation_id: &self.id, checks: p.checks, elapsed, transient_error: transient };
                Step::Sleep { duration, progress: Some(progress) }
            }
            None => {
                // Out of time: the last transient failure explains more than "timeout".
                let started_here = p.kind.is_some();
                let error = p.last_error.take().unwrap_or(Error::Timeout { may_have_started: started_here });
                self.finish(Err(error))
            }
        }
    }
}

impl Polling {
    fn new(started: Duration, kind: Option<String>) -> Self {
        Self { started, kind, checks: 0, sent_at: Duration::ZERO, not_ready_at: None, last_error: None }
    }
}

/// What the polling schedule learns durations per: the style and the image count, or
/// the advanced request's model and size.
fn kind_of(request: &CreateRequest) -> String {
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
fn server_error_on_create(kind: CallKind, error: Error) -> Error {
    if kind != CallKind::Create {
        return error;
    }
    match error {
        Error::Api { status: status @ 500..=599, message, retry_after: None, .. } => {
            Error::Api { status, message, retry_after: None, may_have_started: true }
        }
        Error::BadResponse { status, reason, excerpt, .. } => {
            Error::BadResponse { status, reason, excerpt, may_have_started: true }
        }
        other => other,
    }
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
    fn a_creation_id_unfit_for_a_url_is_a_bad_response() {
        let mut s = session();
        let mut op = generate();
        op.start(&mut s, ms(0));
        let step = op.answer(&mut s, reply(200, r#"{"success":true,"creation_id":"../balance"}"#), ms(1));
        let Step::Done(Err(e)) = step else { panic!("{step:?}") };
        assert_eq!((e.code(), e.may_have_started()), (ErrorCode::BadResponse, true), "{e}");
    }
}
