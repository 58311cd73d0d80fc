//! Requests per second from one address — one network, as `--ipv4-prefix` and `--ipv6-prefix`
//! say; behind a `--trust-proxy`, the visitor's own address it forwards — within
//! `--request-rate-per-address`, in bursts of up to five seconds' worth. Beyond it a request
//! is answered 429 and its connection closed, so the requests a client pipelined after it
//! are never read: a flood of pipelined requests costs the gateway a burst per address, not
//! an answer per request.
//!
//! The buckets live in a map strangers cannot grow past a bound ([`RateLimiter`]).

use crate::config::Prefixes;
use crate::forwarded::{client_ip, TrustedProxies};
use crate::operator::rate_limit::{RateLimiter, Verdict};
use crate::operator::visitor::network;
use crate::refusal::Refusal;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A burst: this many seconds' worth of requests.
const BURST_SECS: u32 = 5;
/// Addresses tracked at once (some 100 bytes each); when all of them asked within the last
/// five seconds, a new address is refused until one has waited that long.
const TRACKED: usize = 20_000;

pub struct RequestRate {
    limiter: Option<RateLimiter>,
    prefixes: Prefixes,
    trusted: TrustedProxies,
}

impl RequestRate {
    /// `per_second` 0: no limit.
    pub fn new(per_second: u32, prefixes: Prefixes, trusted: TrustedProxies) -> Self {
        let limiter = (per_second > 0).then(|| {
            RateLimiter::with_burst(
                per_second.saturating_mul(60),
                per_second.saturating_mul(BURST_SECS),
                TRACKED,
            )
        });
        Self { limiter, prefixes, trusted }
    }
}

/// The layer: a request over its address's rate is refused, and its connection closed.
pub async fn layer(State(rate): State<Arc<RequestRate>>, request: Request, next: Next) -> Response {
    let (Some(limiter), Some(ConnectInfo(peer))) =
        (&rate.limiter, request.extensions().get::<ConnectInfo<SocketAddr>>())
    else {
        return next.run(request).await;
    };
    let ip = client_ip(peer.ip(), request.headers(), &rate.trusted);
    match limiter.take(&network(ip, rate.prefixes), Instant::now()) {
        Verdict::Allowed => next.run(request).await,
        Verdict::Wait(wait) => {
            let secs = wait.max(Duration::from_secs(1)).as_secs();
            let mut response = Refusal::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from your address; slow down and try again",
            )
            .retry_after(secs)
            .into_response();
            // hyper ends the connection after this answer: what was pipelined behind it is
            // never read.
            response.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}
