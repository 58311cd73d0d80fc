//! The admin listener (`--admin-listen`): `GET /metrics` (Prometheus's text format:
//! [`crate::metrics`]), `/readyz` and `/healthz`, for the operator's monitoring, on an
//! address of its own that visitors never reach (and whose scrapes are not counted as
//! visitors' requests).

use crate::edge::state::Gateway;
use crate::edge::{info, readiness};
use crate::refusal::Refusal;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;

pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/readyz", get(readiness::readyz))
        .route("/healthz", get(info::healthz))
        .fallback(|| async { Refusal::not_found("the admin listener serves /metrics, /readyz and /healthz") })
        .with_state(gateway)
}

/// Every metric, the spend read from the accounts now.
async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    if let Some(operator) = &gateway.operator {
        // Unreadable storage leaves the last figures (and counts as a storage error).
        if let Ok((day, month)) = operator.accounts.spent(crate::clock::unix_now()).await {
            gateway.metrics.set_spend(day, month);
        }
    }
    let headers = [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE), (header::CACHE_CONTROL, "no-store")];
    (headers, gateway.metrics.encode()).into_response()
}

/// The first line a gateway prints about its admin listener.
pub fn ready_line(addr: std::net::SocketAddr) -> String {
    format!("clipcloud-gateway admin on http://{addr}")
}
