//! Fault injection: the failures a client meets on a busy service and a flaky network.
//!
//! A fault replaces the whole answer, *before* the endpoint runs: the request never
//! reaches the "service", so an injected failure never starts (or charges) a creation.
//! That keeps the books exact for the chaos test: what the balance lost is what the
//! client was told it cost. (`slow` is the exception: it delays, then serves — unless
//! the client gave up first, which drops the request unserved.)
//!
//! Sources, first match wins: the header `x-emulator-fault: KIND` or the query parameter
//! `emulator_fault=KIND` (forces one fault on one request); the key's own plan (set by
//! `POST /emulator/keys`); the global plan (`--fault-rate`, `--faults`, `--slow-ms`).

use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

pub const HEADER: &str = "x-emulator-fault";
pub const QUERY_PARAM: &str = "emulator_fault";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// 500, 502 or 503 with the API's JSON error body (503 carries `Retry-After: 1`).
    Status(u16),
    /// 429 with `Retry-After: 1`.
    RateLimited,
    /// The connection closes without an answer.
    Drop,
    /// The answer comes only after the plan's `slow` delay.
    Slow,
    /// 200 with JSON cut off in the middle.
    Truncated,
    /// 200 with a proxy's HTML error page.
    HtmlPage,
    /// 200 with a body that is not JSON and says so in its content type.
    WrongContentType,
    /// An image link that has expired: 404.
    ExpiredImage,
}

/// Every fault that applies to API calls (`/api/...`).
pub const API_FAULTS: [Fault; 9] = [
    Fault::Status(500),
    Fault::Status(502),
    Fault::Status(503),
    Fault::RateLimited,
    Fault::Drop,
    Fault::Slow,
    Fault::Truncated,
    Fault::HtmlPage,
    Fault::WrongContentType,
];

impl Fault {
    pub fn name(self) -> &'static str {
        match self {
            Self::Status(500) => "500",
            Self::Status(502) => "502",
            Self::Status(_) => "503",
            Self::RateLimited => "429",
            Self::Drop => "drop",
            Self::Slow => "slow",
            Self::Truncated => "truncated",
            Self::HtmlPage => "html",
            Self::WrongContentType => "content-type",
            Self::ExpiredImage => "expired-image",
        }
    }

    pub fn parse(name: &str) -> Result<Self, String> {
        Ok(match name.trim() {
            "500" => Self::Status(500),
            "502" => Self::Status(502),
            "503" => Self::Status(503),
            "429" => Self::RateLimited,
            "drop" => Self::Drop,
            "slow" => Self::Slow,
            "truncated" => Self::Truncated,
            "html" => Self::HtmlPage,
            "content-type" => Self::WrongContentType,
            "expired-image" => Self::ExpiredImage,
            other => {
                return Err(format!(
                    "unknown fault {other:?}; known: 500, 502, 503, 429, drop, slow, truncated, html, content-type, expired-image"
                ))
            }
        })
    }

    /// Comma-separated names, e.g. `500,429,drop`.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, String> {
        text.split(',').filter(|s| !s.trim().is_empty()).map(Self::parse).collect()
    }

    fn applies_to(self, path: &str) -> bool {
        if path.starts_with("/images/") {
            self == Self::ExpiredImage
        } else {
            path.starts_with("/api/") && self != Self::ExpiredImage
        }
    }
}

/// How often and which faults to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultPlan {
    /// Share of requests that get a fault, 0.0..=1.0.
    pub rate: f64,
    /// The faults drawn from, uniformly (only those that apply to the path).
    pub kinds: Vec<Fault>,
    /// Delay of a `slow` answer.
    pub slow: Duration,
}

impl Default for FaultPlan {
    fn default() -> Self {
        let mut kinds = API_FAULTS.to_vec();
        kinds.push(Fault::ExpiredImage);
        Self { rate: 0.0, kinds, slow: Duration::from_secs(10) }
    }
}

impl FaultPlan {
    /// Picks a fault for `path` given a uniform `random` in [0, 1) and a second draw.
    fn pick(&self, path: &str, random: f64, which: u64) -> Option<Fault> {
        if self.rate <= 0.0 || random >= self.rate {
            return None;
        }
        let applicable: Vec<Fault> = self.kinds.iter().copied().filter(|f| f.applies_to(path)).collect();
        if applicable.is_empty() {
            return None;
        }
        applicable.get((which % applicable.len() as u64) as usize).copied()
    }
}

fn forced(request: &Request) -> Option<Fault> {
    let from_header = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let from_query = request.uri().query().and_then(|q| {
        q.split('&').find_map(|pair| {
            pair.strip_prefix(QUERY_PARAM).and_then(|v| v.strip_prefix('=')).map(str::to_owned)
        })
    });
    from_header.or(from_query).and_then(|name| Fault::parse(&name).ok())
}

fn api_key(request: &Request) -> Option<String> {
    request.uri().query()?.split('&').find_map(|pair| pair.strip_prefix("apikey=").map(str::to_owned))
}

/// The middleware: answers with a fault instead of the endpoint, now and then.
pub async fn layer(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    // Whose plan: the key in the URL, or for an image, the key that created it.
    let owner = api_key(&request).or_else(|| state.image_owner(&path));
    let plan = state.fault_plan(owner.as_deref());
    let fault = forced(&request).or_else(|| {
        let (random, which) = state.random_draw();
        plan.pick(&path, random, which)
    });
    let Some(fault) = fault else { return next.run(request).await };
    state.count_fault(owner.as_deref(), fault);
    if fault == Fault::Slow {
        tokio::time::sleep(plan.slow).await;
        return next.run(request).await;
    }
    respond(fault)
}

const TRUNCATED_JSON: &str = r#"{"success":true,"message":"In progr"#;
const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
<body><h1>Bad Gateway</h1><p>The upstream server did not answer in time.</p></body></html>\n";

fn error_json(status: StatusCode, message: &str, retry_after: Option<u64>) -> Response {
    let mut error = crate::ApiError::new(status, message);
    error.retry_after = retry_after;
    error.into_response()
}

fn respond(fault: Fault) -> Response {
    match fault {
        Fault::Status(503) => {
            error_json(StatusCode::SERVICE_UNAVAILABLE, "service busy (injected fault)", Some(1))
        }
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error_json(status, "server trouble (injected fault)", None)
        }
        Fault::RateLimited => crate::ApiError::too_many_requests(1).into_response(),
        Fault::ExpiredImage => {
            error_json(StatusCode::NOT_FOUND, "this image link has expired (injected fault)", None)
        }
        Fault::Truncated => ([(header::CONTENT_TYPE, "application/json")], TRUNCATED_JSON).into_response(),
        Fault::HtmlPage => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], HTML_PAGE).into_response(),
        Fault::WrongContentType => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Service temporarily unavailable")
                .into_response()
        }
        Fault::Drop | Fault::Slow => {
            let mut response = Response::new(Body::new(BrokenBody));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }
}

/// A body that fails at once: the server closes the connection instead of answering.
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault: drop",
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for fault in API_FAULTS.into_iter().chain([Fault::ExpiredImage]) {
            assert_eq!(Fault::parse(fault.name()), Ok(fault));
        }
        assert!(Fault::parse("teapot").is_err());
        assert_eq!(Fault::parse_list("500, drop,").unwrap(), [Fault::Status(500), Fault::Drop]);
    }

    #[test]
    fn plans_pick_only_applicable_faults_at_their_rate() {
        let plan = FaultPlan { rate: 0.5, ..FaultPlan::default() };
        assert_eq!(plan.pick("/api/balance", 0.6, 0), None);
        assert_eq!(plan.pick("/images/x.webp", 0.1, 3), Some(Fault::ExpiredImage));
        assert_eq!(plan.pick("/emulator/keys", 0.1, 3), None);
        for which in 0..20 {
            assert_ne!(plan.pick("/api/balance", 0.1, which), Some(Fault::ExpiredImage));
        }
    }
}
