//! The only I/O of the client in the browser: `fetch` through gloo-net, timers through
//! gloo-timers. Dropping a future aborts its fetch and clears its timer.

use crate::codec::{HttpRequest, HttpResponse, Method};
use crate::transport::{Transport, TransportError};
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;
use gloo_net::http::{Method as GlooMethod, RequestBuilder};
use gloo_timers::future::TimeoutFuture;
use web_sys::AbortController;

/// `fetch` in a window or a worker.
#[derive(Clone, Copy, Debug, Default)]
pub struct FetchTransport;

/// Aborts the fetch when the request future is dropped (cancelled or timed out).
/// After a completed response aborting is a no-op.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(controller) = &self.0 {
            controller.abort();
        }
    }
}

fn millis(d: Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn js_message(error: gloo_net::Error) -> String {
    match error {
        gloo_net::Error::JsError(e) => e.message,
        other => other.to_string(),
    }
}

async fn fetch(
    request: &HttpRequest,
    controller: Option<&AbortController>,
) -> Result<HttpResponse, TransportError> {
    let signal = controller.map(AbortController::signal);
    let builder = RequestBuilder::new(&request.url)
        .method(match request.method {
            Method::Get => GlooMethod::GET,
            Method::Post => GlooMethod::POST,
        })
        .abort_signal(signal.as_ref());
    let built = match &request.body {
        Some(json) => builder.header("Content-Type", "application/json").body(json.as_str()),
        None => builder.build(),
    };
    let request = built.map_err(|e| TransportError::Network { message: js_message(e), not_sent: true })?;
    let response = request
        .send()
        .await
        .map_err(|e| TransportError::Network { message: js_message(e), not_sent: false })?;
    let status = response.status();
    let retry_after = response.headers().get("retry-after");
    let body = response
        .text()
        .await
        .map_err(|e| TransportError::Network { message: js_message(e), not_sent: false })?;
    let received_unix_secs = (js_sys::Date::now() / 1000.0) as u64;
    Ok(HttpResponse { status, retry_after, body, received_unix_secs })
}

impl Transport for FetchTransport {
    async fn send(&self, request: &HttpRequest, timeout: Duration) -> Result<HttpResponse, TransportError> {
        let guard = AbortOnDrop(AbortController::new().ok());
        let mut work = pin!(fetch(request, guard.0.as_ref()));
        let mut timer = pin!(TimeoutFuture::new(millis(timeout)));
        poll_fn(|cx| {
            if let Poll::Ready(result) = work.as_mut().poll(cx) {
                return Poll::Ready(result);
            }
            match timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Err(TransportError::Timeout)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await
    }

    async fn sleep(&self, duration: Duration) {
        TimeoutFuture::new(millis(duration)).await;
    }

    fn now(&self) -> Duration {
        Duration::from_secs_f64(js_sys::Date::now().max(0.0) / 1000.0)
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
