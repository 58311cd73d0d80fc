//! The only I/O of the client in the browser: the global `fetch` through web-sys, timers
//! through gloo-timers. Dropping a future aborts its fetch and clears its timer.

use crate::codec::{HttpRequest, HttpResponse};
use crate::transport::{Transport, TransportError};
use core::future::{poll_fn, Future};
use core::pin::pin;
use core::task::Poll;
use core::time::Duration;
use gloo_timers::future::TimeoutFuture;
use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, in a window and in a worker alike.
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(url: &str, init: &RequestInit) -> Promise;
}

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

/// The message of a thrown JS error (`TypeError: Failed to fetch`, an `AbortError`).
fn js_message(error: JsValue) -> String {
    error
        .dyn_ref::<js_sys::Error>()
        .and_then(|e| e.message().as_string())
        .unwrap_or_else(|| "fetch failed".to_owned())
}

fn network(not_sent: bool) -> impl FnOnce(JsValue) -> TransportError {
    move |e| TransportError::Network { message: js_message(e), not_sent }
}

async fn fetch(
    request: &HttpRequest,
    controller: Option<&AbortController>,
) -> Result<HttpResponse, TransportError> {
    let init = RequestInit::new();
    init.set_method(request.method.as_str());
    if let Some(json) = &request.body {
        init.set_body(&JsValue::from_str(json));
    }
    let mut headers = None;
    for (name, value) in request.headers() {
        let _ = Reflect::set(headers.get_or_insert_with(Object::new), &name.into(), &value.into());
    }
    if let Some(headers) = &headers {
        init.set_headers(headers);
    }
    init.set_signal(controller.map(AbortController::signal).as_ref());
    let response: Response =
        JsFuture::from(global_fetch(&request.url, &init)).await.map_err(network(false))?.unchecked_into();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").ok().flatten();
    let text = response.text().map_err(network(false))?;
    let body = JsFuture::from(text).await.map_err(network(false))?.as_string().unwrap_or_default();
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
        // Whole milliseconds, as `Date.now()` gives them (and no panicking conversion).
        Duration::from_millis(js_sys::Date::now() as u64)
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }
}
