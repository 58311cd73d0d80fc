//! [`Client`]: the four calls, plus `generate` and `wait`, as async functions: each
//! drives an [`Operation`] (where every rule lives) over a [`Transport`].
//!
//! In the browser, `Client::new` uses `fetch`. Anywhere, `Client::with_transport` takes
//! your own I/O; here a canned one, and a minimal executor:
//!
//! ```
//! use clipcloud::codec::{HttpRequest, HttpResponse};
//! use clipcloud::{Client, Config, Transport, TransportError};
//! use core::future::Future;
//! use core::time::Duration;
//!
//! struct Canned;
//! impl Transport for Canned {
//!     async fn send(&self, request: &HttpRequest, _timeout: Duration) -> Result<HttpResponse, TransportError> {
//!         assert_eq!(request.url, "http://127.0.0.1:8787/api/balance?apikey=KEY");
//!         let body = r#"{"success":true,"balance":97.8}"#.to_owned();
//!         Ok(HttpResponse { status: 200, retry_after: None, body, received_unix_secs: 0 })
//!     }
//!     async fn sleep(&self, _duration: Duration) {}
//!     fn now(&self) -> Duration { Duration::ZERO }
//!     fn random(&self) -> f64 { 0.5 }
//! }
//!
//! let client = Client::with_transport(Config::new("KEY").base_url("http://127.0.0.1:8787"), Canned)?;
//! let balance = std::pin::pin!(client.balance());
//! // Canned answers are ready at once: one poll finishes the call.
//! let std::task::Poll::Ready(balance) = balance.poll(&mut std::task::Context::from_waker(std::task::Waker::noop()))
//! else { unreachable!("nothing to wait for") };
//! assert_eq!(balance?, 97.8);
//! # Ok::<(), clipcloud::Error>(())
//! ```

use crate::config::Config;
use crate::error::Error;
use crate::model::{CreateRequest, Finished, Status, Style};
use crate::operation::{Call, Interrupt, Operation, Output, Progress, Session, Step};
use crate::transport::Transport;
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;

mod options;
pub use options::{Abort, CallOptions};

/// What a client keeps between calls, behind a lock natively (so that a server's tasks may
/// move between threads: `Client<NativeTransport>`'s futures are `Send`) and a `RefCell` in
/// the browser (one thread; smaller).
#[cfg(not(target_arch = "wasm32"))]
type Shared<T> = std::sync::Mutex<T>;
#[cfg(target_arch = "wasm32")]
type Shared<T> = core::cell::RefCell<T>;

/// A progress callback: `Send` natively, for the same reason; anything in the browser.
#[cfg(not(target_arch = "wasm32"))]
pub trait OnProgress: FnMut(Progress<'_>) + Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<F: FnMut(Progress<'_>) + Send> OnProgress for F {}
/// A progress callback: `Send` natively, for the same reason; anything in the browser.
#[cfg(target_arch = "wasm32")]
pub trait OnProgress: FnMut(Progress<'_>) {}
#[cfg(target_arch = "wasm32")]
impl<F: FnMut(Progress<'_>)> OnProgress for F {}

pub struct Client<T> {
    session: Shared<Session>,
    transport: T,
}

impl<T> core::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

#[cfg(all(target_arch = "wasm32", feature = "fetch"))]
impl Client<crate::fetch::FetchTransport> {
    /// A client that calls the API with the browser's `fetch`.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_transport(config, crate::fetch::FetchTransport)
    }
}

#[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
impl Client<crate::native::NativeTransport> {
    /// A client that calls the API with hyper on the caller's tokio runtime (feature
    /// `native`; `native-tls` for https).
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_transport(config, crate::native::NativeTransport::new())
    }
}

impl<T: Transport> Client<T> {
    pub fn with_transport(config: Config, transport: T) -> Result<Self, Error> {
        // The jitter's seed: only needs to differ between clients.
        let seed = (transport.random() * 9_007_199_254_740_992.0) as u64;
        Ok(Self { session: Shared::new(Session::new(config, seed)?), transport })
    }

    /// The session, for a moment (never across an await).
    fn session<R>(&self, f: impl FnOnce(&mut Session) -> R) -> R {
        #[cfg(not(target_arch = "wasm32"))]
        let mut session = self.session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        #[cfg(target_arch = "wasm32")]
        let mut session = self.session.borrow_mut();
        f(&mut session)
    }

    /// Held checks up to `max` from now on ([`Config::hold`]), e.g. once a gateway's
    /// `/gateway/info` offered them ([`crate::gateway::Info::config_hold`]); `None`: the
    /// client's own schedule.
    pub fn set_hold(&self, max: Option<Duration>) {
        self.session(|s| s.set_hold(max));
    }

    /// The key in `Authorization: Bearer` from now on, not in URLs ([`Config::key_as_bearer`]),
    /// e.g. once `/gateway/info` answered: the server is a gateway, which takes it there.
    pub fn set_key_as_bearer(&self, yes: bool) {
        self.session(|s| s.set_key_as_bearer(yes));
    }

    /// What the polling schedule learned from this client's creations, as text to keep
    /// across page loads; [`Client::restore_learned`] takes it up again.
    pub fn learned_text(&self) -> String {
        self.session(|s| s.learned_text())
    }

    /// Takes up what [`Client::learned_text`] gave in an earlier page load, so the
    /// schedule does not start cold. Text that does not read is skipped.
    pub fn restore_learned(&self, text: &str) {
        self.session(|s| s.restore_learned(text));
    }

    /// Starts a creation (by style or advanced) and returns its id.
    /// Not retried when it may have reached the service: see [`Error::may_have_started`].
    pub async fn create(&self, request: impl Into<CreateRequest>) -> Result<String, Error> {
        match self.run(Call::Create(request.into()), &CallOptions::default(), &mut |_| {}).await? {
            Output::Created(id) => Ok(id),
            _ => Err(WRONG_OUTPUT),
        }
    }

    pub async fn create_by_style(&self, request: crate::StyleRequest) -> Result<String, Error> {
        self.create(request).await
    }

    pub async fn create_advanced(&self, request: crate::AdvancedRequest) -> Result<String, Error> {
        self.create(request).await
    }

    /// Asks once whether a creation is ready.
    pub async fn check(&self, creation_id: &str) -> Result<Status, Error> {
        match self.run(Call::Check(creation_id.to_owned()), &CallOptions::default(), &mut |_| {}).await? {
            Output::Status(status) => Ok(status),
            _ => Err(WRONG_OUTPUT),
        }
    }

    pub async fn balance(&self) -> Result<f64, Error> {
        match self.run(Call::Balance, &CallOptions::default(), &mut |_| {}).await? {
            Output::Balance(balance) => Ok(balance),
            _ => Err(WRONG_OUTPUT),
        }
    }

    /// The live styles list; also remembered to validate later creates.
    pub async fn styles(&self) -> Result<Vec<Style>, Error> {
        match self.run(Call::Styles, &CallOptions::default(), &mut |_| {}).await? {
            Output::Styles(styles) => Ok(styles),
            _ => Err(WRONG_OUTPUT),
        }
    }

    /// Create, then wait until the images are ready. `on_progress` hears of the creation
    /// as soon as it is accepted (`checks` 0), then after every check ([`Progress`]).
    pub async fn generate(
        &self,
        request: impl Into<CreateRequest>,
        mut on_progress: impl OnProgress,
    ) -> Result<Finished, Error> {
        finished(self.run(Call::Generate(request.into()), &CallOptions::default(), &mut on_progress).await?)
    }

    /// Waits for a creation made earlier (the docs' "create early, collect later"):
    /// checks at once, then follows the polling schedule. A wait for a creation this client's
    /// `create` made, begun before the schedule's first check (create several, then wait for
    /// each), polls as `generate` does instead (timed from the create, and learning from it).
    pub async fn wait(&self, creation_id: &str, mut on_progress: impl OnProgress) -> Result<Finished, Error> {
        finished(
            self.run(Call::Wait(creation_id.to_owned()), &CallOptions::default(), &mut on_progress).await?,
        )
    }

    /// [`Client::generate`] with an abort handle and a time limit ([`CallOptions`]).
    pub async fn generate_with(
        &self,
        request: impl Into<CreateRequest>,
        options: &CallOptions,
        mut on_progress: impl OnProgress,
    ) -> Result<Finished, Error> {
        finished(self.run(Call::Generate(request.into()), options, &mut on_progress).await?)
    }

    /// [`Client::wait`] with an abort handle and a time limit ([`CallOptions`]).
    pub async fn wait_with(
        &self,
        creation_id: &str,
        options: &CallOptions,
        mut on_progress: impl OnProgress,
    ) -> Result<Finished, Error> {
        finished(self.run(Call::Wait(creation_id.to_owned()), options, &mut on_progress).await?)
    }

    /// Any [`Call`], with [`CallOptions`]: `create`, `check`, `balance` and `styles` with
    /// an abort handle or a time limit.
    pub async fn call(
        &self,
        call: Call,
        options: &CallOptions,
        mut on_progress: impl OnProgress,
    ) -> Result<Output, Error> {
        self.run(call, options, &mut on_progress).await
    }

    /// Performs the operation's steps. Dropping the future drops the pending request or
    /// timer with it, which cancels them; an abort or the time limit ends the operation
    /// with [`Operation::stop`].
    async fn run(
        &self,
        call: Call,
        options: &CallOptions,
        on_progress: &mut dyn OnProgress,
    ) -> Result<Output, Error> {
        let mut op = Operation::new(call);
        let began = self.transport.now();
        let deadline = options.time_limit.map(|limit| began.saturating_add(limit));
        if let Some(why) = self.interrupted(options, deadline) {
            return Err(op.stop(why));
        }
        let mut step = self.session(|s| op.start(s, began));
        loop {
            step = match step {
                Step::Send { request, timeout } => {
                    match self
                        .until_interrupted(self.transport.send(request, timeout), options, deadline)
                        .await
                    {
                        Ok(answer) => {
                            let now = self.transport.now();
                            self.session(|s| op.answer(s, answer, now))
                        }
                        Err(why) => return Err(op.stop(why)),
                    }
                }
                Step::Sleep { duration, progress } => {
                    if let Some(progress) = progress {
                        on_progress(progress);
                    }
                    if let Err(why) =
                        self.until_interrupted(self.transport.sleep(duration), options, deadline).await
                    {
                        return Err(op.stop(why));
                    }
                    let now = self.transport.now();
                    self.session(|s| op.woke(s, now))
                }
                Step::Done(result) => return result,
            };
        }
    }

    /// Why the call must end now, if it must.
    fn interrupted(&self, options: &CallOptions, deadline: Option<Duration>) -> Option<Interrupt> {
        if options.abort.as_ref().is_some_and(Abort::is_aborted) {
            return Some(Interrupt::Aborted);
        }
        deadline.filter(|d| self.transport.now() >= *d).map(|_| Interrupt::TimedOut)
    }

    /// `work`, unless the abort or the time limit comes first (then `work` is dropped).
    async fn until_interrupted<F: Future>(
        &self,
        work: F,
        options: &CallOptions,
        deadline: Option<Duration>,
    ) -> Result<F::Output, Interrupt> {
        if options.abort.is_none() && deadline.is_none() {
            return Ok(work.await);
        }
        if let Some(why) = self.interrupted(options, deadline) {
            return Err(why);
        }
        let left = deadline.map(|d| d.saturating_sub(self.transport.now()));
        let mut work = pin!(work);
        let mut timer = pin!(async {
            match left {
                Some(left) => self.transport.sleep(left).await,
                None => core::future::pending().await,
            }
        });
        poll_fn(|cx| {
            if options.abort.as_ref().is_some_and(|a| a.poll_aborted(cx)) {
                return Poll::Ready(Err(Interrupt::Aborted));
            }
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Ok(out));
            }
            match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(Interrupt::TimedOut)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }
}

/// Each call ends with its own kind of [`Output`]; another one is a bug in the core.
const WRONG_OUTPUT: Error = Error::Internal("a call ended with another kind of output");

fn finished(output: Output) -> Result<Finished, Error> {
    match output {
        Output::Finished(finished) => Ok(finished),
        _ => Err(WRONG_OUTPUT),
    }
}

#[cfg(test)]
mod tests;
