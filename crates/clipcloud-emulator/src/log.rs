//! One line per request on stderr, with the time since start and without the API key.
//!
//! Format: `[   12.345s] GET /api/creation/<id>?apikey=*** -> 200 (3 ms)`.
//! It also counts the requests in flight (now and at most, overall and per key) for the
//! benchmark's `GET /emulator/stats`.

use crate::clock::Clock;
use crate::inject::api_key;
use crate::traffic::Traffic;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// What the middleware needs: where to count, and whether and on which clock to log.
#[derive(Clone, Debug)]
pub struct RequestLog {
    pub traffic: Traffic,
    /// Log timestamps are this clock's uptime.
    pub clock: Clock,
    /// One line per request on stderr (`--quiet` turns it off).
    pub enabled: bool,
}

pub async fn layer(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    let key = api_key(&request);
    log.traffic.request_started(key.as_deref());
    // Counted off when the answer's body has been sent, or when the request is dropped
    // unanswered (the client gave up).
    let finished = Finished(log.traffic.clone(), key);
    let response = logged(&log, request, next).await;
    response.map(|inner| Body::new(CountedBody { inner, _finished: finished }))
}

async fn logged(log: &RequestLog, request: Request, next: Next) -> Response {
    if !log.enabled {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let target = redact(request.uri().path(), request.uri().query());
    let started = Instant::now();
    let response = next.run(request).await;
    eprintln!(
        "[{:>10.3}s] {method} {target} -> {} ({} ms)",
        log.clock.uptime().as_secs_f64(),
        response.status().as_u16(),
        started.elapsed().as_millis()
    );
    response
}

struct Finished(Traffic, Option<String>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.request_finished(self.1.as_deref());
    }
}

/// A response body that keeps its request counted in flight until it is sent or dropped.
struct CountedBody {
    inner: Body,
    _finished: Finished,
}

impl http_body::Body for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The path and query with the value of every `apikey` parameter replaced by `***`.
pub fn redact(path: &str, query: Option<&str>) -> String {
    let Some(query) = query else { return path.to_string() };
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            if is_apikey_name(name) {
                format!("{name}=***")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

/// `apikey` however the client spelled it: any case, percent-encoded letters, `+` for space.
fn is_apikey_name(name: &str) -> bool {
    clipcloud::percent::decode_query(name).eq_ignore_ascii_case("apikey")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apikey_never_logged() {
        assert_eq!(redact("/api/balance", Some("apikey=secret")), "/api/balance?apikey=***");
        assert_eq!(
            redact("/api/creation", Some("emulator_delay_ms=0&api%6Bey=secret&x")),
            "/api/creation?emulator_delay_ms=0&api%6Bey=***&x"
        );
        assert_eq!(redact("/", None), "/");
    }
}
