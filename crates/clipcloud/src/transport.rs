//! The seam between the pure client logic and the outside world. In the browser it is
//! `fetch::FetchTransport` (wasm32, feature `fetch`); tests substitute a scripted one.

use crate::codec::{HttpRequest, HttpResponse};
use core::future::Future;
use core::time::Duration;

/// Why no HTTP answer arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The per-request timeout passed first.
    Timeout,
    /// The request failed on the way (offline, DNS, CORS, reset, bad URL).
    Network {
        message: String,
        /// True only when the request certainly never left (e.g. it could not be built).
        /// Browsers do not tell a refused connection from a reset one, so usually false.
        not_sent: bool,
    },
}

/// I/O and time, as the client needs them. Single-threaded on purpose: in the browser
/// everything runs on one thread, so futures need not be `Send`.
pub trait Transport {
    /// Sends one request and reads the whole body; fails only when no answer arrived.
    /// Dropping the future must cancel the request.
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> impl Future<Output = Result<HttpResponse, TransportError>>;

    /// Resolves after `duration`; dropping it cancels the timer.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()>;

    /// Time since an arbitrary fixed origin; used for deadlines and elapsed times.
    fn now(&self) -> Duration;

    /// Uniform in [0, 1): jitter for retries.
    fn random(&self) -> f64;
}
