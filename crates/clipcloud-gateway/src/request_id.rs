//! Every request's id: the `X-Request-Id` a trusted proxy sent (so that one id follows a
//! request through the proxy's log and this one), else one made here. It is in the
//! request's log span, the answer's `X-Request-Id` header and a refusal's JSON body
//! (`request_id`), so a visitor's report can be found in the log.

use crate::forwarded::TrustedProxies;
use axum::http::{HeaderMap, HeaderValue, Request};
use std::future::Future;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tower_http::request_id::{MakeRequestId, RequestId};

pub const HEADER: &str = "x-request-id";

/// Ids made here: a random prefix per process (replicas differ), then a count.
#[derive(Clone)]
pub struct RequestIds {
    prefix: u64,
    next: Arc<AtomicU64>,
}

impl RequestIds {
    pub fn new() -> Self {
        let mut bytes = [0u8; 8];
        // Without randomness, replicas may share ids; the ids are still unique per process.
        let _ = getrandom::getrandom(&mut bytes);
        Self { prefix: u64::from_le_bytes(bytes), next: Arc::default() }
    }
}

impl Default for RequestIds {
    fn default() -> Self {
        Self::new()
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::try_from(format!("{:016x}-{n:x}", self.prefix)).ok().map(RequestId::new)
    }
}

/// Removes an `X-Request-Id` that a trusted proxy did not send, or that is not a plain id
/// (at most 64 of `A-Za-z0-9._:-`), so that one is made instead.
pub fn keep_only_trusted(headers: &mut HeaderMap, peer: Option<IpAddr>, trusted: &TrustedProxies) {
    let plain = |value: &HeaderValue| {
        (1..=64).contains(&value.len())
            && value
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
    };
    let believed = peer.is_some_and(|peer| trusted.trusts(peer))
        && headers.get_all(HEADER).iter().count() == 1
        && headers.get(HEADER).is_some_and(plain);
    if !believed {
        headers.remove(HEADER);
    }
}

tokio::task_local! {
    static CURRENT: Option<String>;
}

/// Runs `future` (a request's handling) with `id` as the current request's id.
pub fn scope<F: Future>(id: Option<String>, future: F) -> impl Future<Output = F::Output> {
    CURRENT.scope(id, future)
}

/// The id of the request being handled, if any.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_and_plain() {
        let mut ids = RequestIds::new();
        let request = Request::new(());
        let a = ids.make_request_id(&request).unwrap();
        let b = ids.clone().make_request_id(&request).unwrap();
        assert_ne!(a.header_value(), b.header_value(), "clones share the count");
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, a.header_value().clone());
        keep_only_trusted(&mut headers, None, &TrustedProxies::default());
        assert!(headers.is_empty(), "no peer, no trust");
    }

    #[test]
    fn only_a_trusted_proxys_plain_id_is_kept() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let proxy = Some("10.0.0.1".parse().unwrap());
        let stranger = Some("6.6.6.6".parse().unwrap());
        for (peer, value, kept) in [
            (proxy, "abc-123", true),
            (stranger, "abc-123", false),
            (proxy, "bad id with spaces", false),
            (proxy, &*"x".repeat(65), false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(HEADER, HeaderValue::from_str(value).unwrap());
            keep_only_trusted(&mut headers, peer, &trusted);
            assert_eq!(headers.contains_key(HEADER), kept, "{peer:?} {value}");
        }
    }

    #[tokio::test]
    async fn the_current_id_is_the_scopes() {
        assert_eq!(current(), None);
        assert_eq!(scope(Some("r-1".into()), async { current() }).await.as_deref(), Some("r-1"));
    }
}
