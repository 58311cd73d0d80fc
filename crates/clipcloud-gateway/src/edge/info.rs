//! The gateway's own small endpoints: `/healthz` for load balancers, `/gateway/info` for
//! clients (what to send as the key), `/gateway/usage` for the operator (admin token),
//! `/openapi.json` for tools.

use crate::edge::cors;
use crate::edge::public_url::own_origin;
use crate::edge::state::Gateway;
use crate::refusal::Refusal;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use clipcloud::gateway::{Info, KeyNeed, Mode};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// `ok`, and how busy the held checks are (counts only: nothing about who or what).
pub async fn healthz(State(gateway): State<Arc<Gateway>>) -> Response {
    let holds = gateway.forwarder.holds.load();
    ([(header::CACHE_CONTROL, "no-store")], Json(json!({ "status": "ok", "holds": holds }))).into_response()
}

/// What a client sends as its key here, as the core spells it ([`clipcloud::gateway::Info`]).
/// Readable by the pages of the origins the operator allows, like the API.
pub async fn info(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    let (mode, apikey) = match &gateway.operator {
        None => (Mode::Relay, KeyNeed::Required),
        Some(operator) => (Mode::Operator, operator.settings.access.key_need()),
    };
    let hold_max = gateway.config.limits.hold_max;
    let hold = (!hold_max.is_zero()).then(|| u32::try_from(hold_max.as_secs()).unwrap_or(u32::MAX));
    let body = Info { version: env!("CARGO_PKG_VERSION").to_owned(), mode, apikey, hold }.to_json();
    let mut response =
        ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body)
            .into_response();
    let own = own_origin(&gateway.config, request.headers(), request.extensions());
    let origin =
        cors::check(request.headers(), own.as_deref(), &gateway.config.allowed_origins).ok().flatten();
    cors::allow(&mut response, origin);
    response
}

/// The API, this gateway's extensions included, as an OpenAPI 3.1 document (the core's).
pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], clipcloud::openapi::OPENAPI).into_response()
}

#[derive(Deserialize)]
pub struct UsageQuery {
    days: Option<u32>,
}

/// Spend per UTC day and per visitor, from this gateway's ledger.
pub async fn usage(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    query: Result<Query<UsageQuery>, QueryRejection>,
) -> Response {
    let Some(operator) = &gateway.operator else {
        return Refusal::not_found("usage is kept in operator-key mode only").into_response();
    };
    let Some(admin) = &operator.settings.admin_token else {
        return Refusal::not_found("usage is off: start the gateway with --admin-token-file").into_response();
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|token| admin.matches(token.trim().as_bytes())) {
        return Refusal::new(StatusCode::UNAUTHORIZED, "usage needs `Authorization: Bearer ADMIN_TOKEN`")
            .into_response();
    }
    // In the API's error shape, not axum's plain-text rejection (found by schemathesis).
    let Ok(Query(query)) = query else {
        return Refusal::new(StatusCode::BAD_REQUEST, "days must be a whole number of days (1 to 366)")
            .into_response();
    };
    let days = query.days.unwrap_or(31).clamp(1, 366);
    let body = operator.accounts.usage(crate::clock::unix_now(), days).await;
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}
