//! [`Client`]: the four calls, plus `generate` and `wait`, composed from the pure
//! parts (validate, codec, retry, poll) over a [`Transport`].

use crate::codec::{self, Endpoint, HttpRequest, HttpResponse};
use crate::config::Config;
use crate::error::{Error, ErrorCode};
use crate::model::{CreateRequest, Finished, Status, Style};
use crate::retry::{CallKind, Decision};
use crate::transport::{Transport, TransportError};
use crate::validate;
use core::cell::RefCell;
use core::future::Future;
use core::time::Duration;

/// Reported on every check while waiting for a creation.
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

pub struct Client<T> {
    config: Config,
    transport: T,
    /// The live styles list once `styles()` has fetched it, to catch unknown styles
    /// before a create is sent.
    known_styles: RefCell<Option<Vec<Style>>>,
    /// How long this client's finished creations took, per kind: the polling schedule
    /// learns from it (`PollSchedule::learn`). Memory only.
    learned: RefCell<crate::poll::Learned>,
}

impl<T> core::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client").field("config", &self.config).finish_non_exhaustive()
    }
}

#[cfg(target_arch = "wasm32")]
impl Client<crate::fetch::FetchTransport> {
    /// A client that calls the API with the browser's `fetch`.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_transport(config, crate::fetch::FetchTransport)
    }
}

impl<T: Transport> Client<T> {
    pub fn with_transport(config: Config, transport: T) -> Result<Self, Error> {
        Ok(Self {
            config: config.validated()?,
            transport,
            known_styles: RefCell::new(None),
            learned: RefCell::default(),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    fn endpoint(&self) -> Endpoint<'_> {
        Endpoint { base_url: &self.config.base_url, api_key: self.config.api_key.expose() }
    }

    /// Starts a creation (by style or advanced) and returns its id.
    /// Not retried when it may have reached the service: see [`Error::may_have_started`].
    pub async fn create(&self, request: impl Into<CreateRequest>) -> Result<String, Error> {
        let mut request = request.into();
        validate::create(&request, self.known_styles.borrow().as_deref())?;
        if request.soft_id_mut().is_none() {
            *request.soft_id_mut() = self.config.soft_id;
        }
        let http = self.endpoint().create(&request);
        self.call(CallKind::Create, http, None, codec::decode_created).await
    }

    pub async fn create_by_style(&self, request: crate::StyleRequest) -> Result<String, Error> {
        self.create(request).await
    }

    pub async fn create_advanced(&self, request: crate::AdvancedRequest) -> Result<String, Error> {
        self.create(request).await
    }

    /// Asks once whether a creation is ready.
    // Plain `fn`s returning the inner future, where they only forward: one async state
    // machine less each in the wasm (the npm package's size budget).
    pub fn check<'a>(&'a self, creation_id: &'a str) -> impl Future<Output = Result<Status, Error>> + 'a {
        self.check_before(creation_id, None)
    }

    async fn check_before(&self, creation_id: &str, deadline: Option<Duration>) -> Result<Status, Error> {
        validate::creation_id(creation_id)?;
        let http = self.endpoint().check(creation_id);
        self.call(CallKind::Read, http, deadline, |r| codec::decode_check(r, creation_id)).await
    }

    pub fn balance(&self) -> impl Future<Output = Result<f64, Error>> + '_ {
        self.call(CallKind::Read, self.endpoint().balance(), None, codec::decode_balance)
    }

    /// The live styles list; also remembered to validate later creates.
    pub async fn styles(&self) -> Result<Vec<Style>, Error> {
        let styles = self.call(CallKind::Read, self.endpoint().styles(), None, codec::decode_styles).await?;
        *self.known_styles.borrow_mut() = Some(styles.clone());
        Ok(styles)
    }

    /// Create, then wait until the images are ready.
    pub async fn generate(
        &self,
        request: impl Into<CreateRequest>,
        on_progress: impl FnMut(Progress<'_>),
    ) -> Result<Finished, Error> {
        let started = self.transport.now();
        let request = request.into();
        let kind = kind_of(&request);
        let id = self.create(request).await?;
        self.poll_until_done(&id, Some(started), Some(&kind), on_progress).await
    }

    /// Waits for a creation made earlier (the docs' "create early, collect later"):
    /// checks at once, then follows the polling schedule.
    pub fn wait<'a>(
        &'a self,
        creation_id: &'a str,
        on_progress: impl FnMut(Progress<'_>) + 'a,
    ) -> impl Future<Output = Result<Finished, Error>> + 'a {
        self.poll_until_done(creation_id, None, None, on_progress)
    }

    async fn poll_until_done(
        &self,
        id: &str,
        // `None`: from when polling begins (`wait`).
        started: Option<Duration>,
        // Known for a creation started here (`generate`): then it polls on the schedule and
        // learns; `wait` checks at once and does not learn (it may have started long ago).
        kind: Option<&str>,
        mut on_progress: impl FnMut(Progress<'_>),
    ) -> Result<Finished, Error> {
        let started = started.unwrap_or_else(|| self.transport.now());
        let schedule = self.config.poll;
        let deadline = started.saturating_add(schedule.deadline);
        let mut checks = 0u32;
        let mut last_error = None;
        let check_first = kind.is_none();
        let mut not_ready_at = None;
        loop {
            let elapsed = self.transport.now().saturating_sub(started);
            if !(check_first && checks == 0) {
                let next = {
                    let learned = self.learned.borrow();
                    let durations = kind.and_then(|k| learned.get(k));
                    schedule.next_delay_learned(
                        checks.saturating_sub(u32::from(check_first)),
                        elapsed,
                        durations,
                    )
                };
                match next {
                    Some(delay) => self.transport.sleep(delay).await,
                    // Out of time: the last transient failure explains more than "timeout".
                    None => return Err(last_error.unwrap_or(Error::Timeout { may_have_started: false })),
                }
            }
            let sent = self.transport.now().saturating_sub(started);
            let outcome = self.check_before(id, Some(deadline)).await;
            checks += 1;
            let transient_error = match outcome {
                Ok(Status::Done(finished)) => {
                    if let Some(kind) = kind {
                        let ready_by = self.transport.now().saturating_sub(started);
                        self.learned.borrow_mut().record(kind, not_ready_at, ready_by);
                    }
                    return Ok(finished);
                }
                Ok(Status::InProgress) => {
                    not_ready_at = Some(sent);
                    None
                }
                // One failed check (after its own retries) does not lose the creation:
                // it is still running on the service, so keep polling until the deadline.
                Err(e) if crate::retry::is_retryable(CallKind::Read, &e) => {
                    let code = e.code();
                    last_error = Some(e);
                    Some(code)
                }
                Err(e) => return Err(e),
            };
            let elapsed = self.transport.now().saturating_sub(started);
            on_progress(Progress { creation_id: id, checks, elapsed, transient_error });
        }
    }

    /// One call with its retries. `deadline` (on the transport's clock) bounds the retries.
    async fn call<R>(
        &self,
        kind: CallKind,
        http: HttpRequest,
        deadline: Option<Duration>,
        decode: impl Fn(&HttpResponse) -> Result<R, Error>,
    ) -> Result<R, Error> {
        // The retry loop is not generic over the result: one copy of its state machine
        // in the wasm instead of one per call (the npm package's size budget).
        let mut value = None;
        self.call_decoding(kind, &http, deadline, &mut |r| decode(r).map(|v| value = Some(v))).await?;
        // `Ok` above means `decode` succeeded, which set the value.
        value.ok_or(Error::Aborted)
    }

    async fn call_decoding(
        &self,
        kind: CallKind,
        http: &HttpRequest,
        deadline: Option<Duration>,
        decode: &mut dyn FnMut(&HttpResponse) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let mut retries = 0;
        loop {
            let error = match self.transport.send(http, self.config.request_timeout).await {
                Ok(response) => match decode(&response) {
                    Ok(()) => return Ok(()),
                    Err(e) => server_error_on_create(kind, e),
                },
                Err(e) => transport_error(kind, e),
            };
            let time_left = deadline.map(|d| d.saturating_sub(self.transport.now()));
            match self.config.retry.decide(kind, retries, &error, time_left, self.transport.random()) {
                Decision::RetryAfter(delay) => {
                    self.transport.sleep(delay).await;
                    retries += 1;
                }
                Decision::GiveUp => return Err(error.redact(self.config.api_key.expose())),
            }
        }
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
mod tests;
