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
    /// xorshift64 state; never 0.
    random: u64,
}

impl Session {
    /// `seed`: any number; different clients should get different ones (retry jitter).
    pub fn new(config: Config, seed: u64) -> Result<Self, Error> {
        Ok(Self {
            config: config.validated()?,
            known_styles: None,
            learned: Learned::default(),
            random: seed | 1,
        })
    }

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
        Endpoint { base_url: &self.config.base_url, api_key: self.config.api_key.expose() }
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
pub enum Call {
    Create(CreateRequest),
    Check(String),
    Balance,
    Styles,
    /// Create, then wait until the images are ready.
    Generate(CreateRequest),
    /// Wait for a creation made earlier (the docs' "create early, collect later"):
    /// checks at once, then follows the polling schedule.
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
/// 0: the id is known from here on, to wait for it later should this page go away), then
/// after every check that found it not ready.
#[derive(Clone, Debug, PartialEq)]
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
    /// The end; later calls return an [`Error::Aborted`].
    Done(Result<Output, Error>),
}

/// Why the driver stops an operation early ([`Operation::stop`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// The caller cancelled it.
    Aborted,
    /// The caller's own time limit for the whole call passed.
    TimedOut,
}

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
    /// For a creation started here: the kind the schedule learns durations per. `wait`
    /// does not learn (its creation may have started long ago).
    learn_as: Option<String>,
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
    /// `generate` only: when it began and what it learns as, until polling takes them over.
    generate: Option<(Duration, String)>,
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
            generate: None,
            polling: None,
        }
    }

    /// The first step. `now`: the driver's clock (any fixed origin, e.g. `Date.now()`).
    pub fn start(&mut self, session: &mut Session, now: Duration) -> Step<'_> {
        if self.state != State::New {
            return self.finish(Err(Error::Aborted));
        }
        let endpoint = session.endpoint();
        let sent = match core::mem::replace(&mut self.call, Call::Balance) {
            Call::Create(request) => self.create(session, request),
            Call::Generate(request) => {
                self.generate = Some((now, kind_of(&request)));
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
            return self.finish(Err(Error::Aborted));
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
                let error = error.redact(session.config.api_key.expose());
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
            _ => self.finish(Err(Error::Aborted)),
        }
    }

    /// Ends the operation early and says with which error. A time limit that passes
    /// after a create was sent leaves open whether the creation started.
    pub fn stop(&mut self, why: Interrupt) -> Error {
        let create_unanswered = self.kind == CallKind::Create && self.state == State::Sent;
        let created_here = self.polling.as_ref().is_some_and(|p| p.learn_as.is_some());
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
        match (output, self.generate.take()) {
            // `generate`: the creation was accepted; from here on it polls.
            (Output::Created(id), Some((started, learn_as))) => {
                self.kind = CallKind::Read;
                // Cannot fail: decode_created accepts only ids that pass this check.
                if let Err(e) = self.check(&session.endpoint(), id) {
                    return self.finish(Err(e));
                }
                self.polling = Some(Polling::new(started, Some(learn_as)));
                self.next_check(session, now, false, None)
            }
            (Output::Status(status), _) if self.polling.is_some() => match status {
                Status::Done(finished) => {
                    if let Some(p) = &self.polling {
                        if let Some(kind) = &p.learn_as {
                            session.learned.record(kind, p.not_ready_at, p.sent_at);
                        }
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
        session: &Session,
        now: Duration,
        answered: bool,
        transient: Option<ErrorCode>,
    ) -> Step<'_> {
        let Some(p) = &mut self.polling else { return self.finish(Err(Error::Aborted)) };
        if answered {
            p.checks += 1;
        }
        let elapsed = now.saturating_sub(p.started);
        let schedule = &session.config.poll;
        let learned = p.learn_as.as_deref().and_then(|k| session.learned.get(k));
        // `wait` made its first check at once, off the schedule.
        let scheduled_checks = p.checks.saturating_sub(u32::from(p.learn_as.is_none()));
        match schedule.next_delay_learned(scheduled_checks, elapsed, learned) {
            Some(duration) => {
                self.state = State::Polling;
                let progress = Progress { creation_id: &self.id, checks: p.checks, elapsed, transient_error: transient };
                Step::Sleep { duration, progress: Some(progress) }
            }
            None => {
                // Out of time: the last transient failure explains more than "timeout".
                let started_here = p.learn_as.is_some();
                let error = p.last_error.take().unwrap_or(Error::Timeout { may_have_started: started_here });
                self.finish(Err(error))
            }
        }
    }
}

impl Polling {
    fn new(started: Duration, learn_as: Option<String>) -> Self {
        Self { started, learn_as, checks: 0, sent_at: Duration::ZERO, not_ready_at: None, last_error: None }
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
        assert_eq!(op.answer(&mut s, reply(200, "{}"), ms(0)), Step::Done(Err(Error::Aborted)));
        let mut op = Operation::new(Call::Balance);
        op.start(&mut s, ms(0));
        assert_eq!(op.woke(&mut s, ms(0)), Step::Done(Err(Error::Aborted)));
        assert_eq!(op.start(&mut s, ms(0)), Step::Done(Err(Error::Aborted)));
        let mut op = Operation::new(Call::Balance);
        op.start(&mut s, ms(0));
        let done = op.answer(&mut s, reply(200, r#"{"success":true,"balance":5}"#), ms(1));
        assert_eq!(done, Step::Done(Ok(Output::Balance(5.0))));
        assert_eq!(op.answer(&mut s, reply(200, "{}"), ms(2)), Step::Done(Err(Error::Aborted)));
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
