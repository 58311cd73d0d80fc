//! `GET /images/{name}`: a creation's image for the pages the origin rules allow, fetched
//! by the forward layer ([`crate::forward::images`]).

use crate::edge::cors;
use crate::edge::public_url::own_origin;
use crate::edge::state::Gateway;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub async fn relay(
    State(gateway): State<Arc<Gateway>>,
    name: Result<Path<String>, PathRejection>,
    request: Request,
) -> Response {
    // A name that is not UTF-8 once decoded names no image (not axum's plain-text 400).
    let name = name.map(|Path(name)| name).unwrap_or_default();
    let own = own_origin(&gateway.config, request.headers(), request.extensions());
    let origin = match cors::check(request.headers(), own.as_deref(), &gateway.config.allowed_origins) {
        Ok(origin) => origin,
        Err(refusal) => return refusal.into_response(),
    };
    let mut response = match gateway.forwarder.image(&name, request.method()).await {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    };
    cors::allow(&mut response, origin);
    response
}
