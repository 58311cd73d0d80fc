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
use crate::operation::{Call, Operation, Output, Progress, Session, Step};
use crate::transport::Transport;
use core::cell::RefCell;

pub struct Client<T> {
    session: RefCell<Session>,
    transport: T,
}

impl<T> core::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client").field("session", &self.session).finish_non_exhaustive()
    }
}

#[cfg(all(target_arch = "wasm32", feature = "fetch"))]
impl Client<crate::fetch::FetchTransport> {
    /// A client that calls the API with the browser's `fetch`.
    pub fn new(config: Config) -> Result<Self, Error> {
        Self::with_transport(config, crate::fetch::FetchTransport)
    }
}

impl<T: Transport> Client<T> {
    pub fn with_transport(config: Config, transport: T) -> Result<Self, Error> {
        // The jitter's seed: only needs to differ between clients.
        let seed = (transport.random() * 9_007_199_254_740_992.0) as u64;
        Ok(Self { session: RefCell::new(Session::new(config, seed)?), transport })
    }

    /// What the polling schedule learned from this client's creations, as text to keep
    /// across page loads; [`Client::restore_learned`] takes it up again.
    pub fn learned_text(&self) -> String {
        self.session.borrow().learned_text()
    }

    /// Takes up what [`Client::learned_text`] gave in an earlier page load, so the
    /// schedule does not start cold. Text that does not read is skipped.
    pub fn restore_learned(&self, text: &str) {
        self.session.borrow_mut().restore_learned(text);
    }

    /// Starts a creation (by style or advanced) and returns its id.
    /// Not retried when it may have reached the service: see [`Error::may_have_started`].
    pub async fn create(&self, request: impl Into<CreateRequest>) -> Result<String, Error> {
        match self.run(Call::Create(request.into()), &mut |_| {}).await? {
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
        match self.run(Call::Check(creation_id.to_owned()), &mut |_| {}).await? {
            Output::Status(status) => Ok(status),
            _ => Err(WRONG_OUTPUT),
        }
    }

    pub async fn balance(&self) -> Result<f64, Error> {
        match self.run(Call::Balance, &mut |_| {}).await? {
            Output::Balance(balance) => Ok(balance),
            _ => Err(WRONG_OUTPUT),
        }
    }

    /// The live styles list; also remembered to validate later creates.
    pub async fn styles(&self) -> Result<Vec<Style>, Error> {
        match self.run(Call::Styles, &mut |_| {}).await? {
            Output::Styles(styles) => Ok(styles),
            _ => Err(WRONG_OUTPUT),
        }
    }

    /// Create, then wait until the images are ready. `on_progress` hears of the creation
    /// as soon as it is accepted (`checks` 0), then after every check ([`Progress`]).
    pub async fn generate(
        &self,
        request: impl Into<CreateRequest>,
        mut on_progress: impl FnMut(Progress<'_>),
    ) -> Result<Finished, Error> {
        finished(self.run(Call::Generate(request.into()), &mut on_progress).await?)
    }

    /// Waits for a creation made earlier (the docs' "create early, collect later"):
    /// checks at once, then follows the polling schedule. A wait for a creation this client's
    /// `create` made, begun before the schedule's first check (create several, then wait for
    /// each), polls as `generate` does instead (timed from the create, and learning from it).
    pub async fn wait(
        &self,
        creation_id: &str,
        mut on_progress: impl FnMut(Progress<'_>),
    ) -> Result<Finished, Error> {
        finished(self.run(Call::Wait(creation_id.to_owned()), &mut on_progress).await?)
    }

    /// Performs the operation's steps. Dropping the future drops the pending request or
    /// timer with it, which cancels them.
    async fn run(&self, call: Call, on_progress: &mut dyn FnMut(Progress<'_>)) -> Result<Output, Error> {
        let mut op = Operation::new(call);
        let mut step = op.start(&mut self.session.borrow_mut(), self.transport.now());
        loop {
            step = match step {
                Step::Send { request, timeout } => {
                    let answer = self.transport.send(request, timeout).await;
                    op.answer(&mut self.session.borrow_mut(), answer, self.transport.now())
                }
                Step::Sleep { duration, progress } => {
                    if let Some(progress) = progress {
                        on_progress(progress);
                    }
                    self.transport.sleep(duration).await;
                    op.woke(&mut self.session.borrow_mut(), self.transport.now())
                }
                Step::Done(result) => return result,
            };
        }
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
