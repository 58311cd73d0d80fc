//! `/readyz`: whether this gateway can serve calls now — its ledger answers a query, its
//! Redis answers `PING`, its upstream answers `HEAD /` (any status: it can be reached) —
//! for a load balancer or an orchestrator to send it traffic or not. `/healthz` stays the
//! liveness answer (the process is there). On the admin listener and the main one.

use crate::edge::state::Gateway;
use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long each check may take; a slower answer counts as none.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// 200 `{"status":"ready"}`, or 503 `{"status":"not ready","failing":["upstream",...]}`.
pub async fn readyz(State(gateway): State<Arc<Gateway>>) -> Response {
    let failing = unreachable(&gateway).await;
    let (status, body) = if failing.is_empty() {
        (StatusCode::OK, json!({ "status": "ready" }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, json!({ "status": "not ready", "failing": failing }))
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// What this gateway needs and cannot reach now: `ledger`, `redis`, `upstream`, all
/// checked at once.
pub async fn unreachable(gateway: &Gateway) -> Vec<&'static str> {
    let accounts = gateway.operator.as_ref().map(|operator| &operator.accounts);
    let ledger = async {
        match accounts {
            Some(accounts) => accounts.ledger().ping().await.is_ok(),
            None => true,
        }
    };
    let redis = async {
        match accounts.and_then(|accounts| accounts.shared()) {
            Some(redis) => redis.ping().await.is_ok(),
            None => true,
        }
    };
    let upstream = async { gateway.forwarder.upstream.send(Method::HEAD, "/", None).await.is_ok() };
    let (ledger, redis, upstream) = tokio::join!(within(ledger), within(redis), within(upstream));
    [("ledger", ledger), ("redis", redis), ("upstream", upstream)]
        .into_iter()
        .filter_map(|(name, ok)| (!ok).then_some(name))
        .collect()
}

async fn within(check: impl Future<Output = bool>) -> bool {
    tokio::time::timeout(CHECK_TIMEOUT, check).await.unwrap_or(false)
}
