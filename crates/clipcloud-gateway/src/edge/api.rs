//! `/api/...`: the four calls [`Route`] names go upstream, nothing else. A request's origin
//! is checked and the request read whole and bounded into a [`Call`]; then the mode's
//! policy takes it through the pipeline's phases ([`crate::pipeline`]).

use crate::edge::access_log::LogNote;
use crate::edge::cors;
use crate::edge::public_url::own_origin;
use crate::edge::state::Gateway;
use crate::forward::call::{ApiRequest, Call};
use crate::forwarded::client_ip;
use crate::operator::visitor::{network, VisitorId};
use crate::pipeline::operator_mode::OperatorMode;
use crate::pipeline::relay_mode::RelayMode;
use crate::pipeline::{self, Caller};
use crate::refusal::Refusal;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::percent::decode_query;
use clipcloud::route::{Route, API_KEY_PARAM};
use http_body_util::{BodyExt, Limited};
use std::net::SocketAddr;
use std::sync::Arc;

/// The handler of every `/api/...` request.
pub async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let own_origin = own_origin(&gateway.config, &parts.headers, &parts.extensions);
    let origin = match cors::check(&parts.headers, own_origin.as_deref(), &gateway.config.allowed_origins) {
        Ok(origin) => origin,
        Err(refusal) => return refusal.into_response(),
    };
    let mut note = LogNote { route: "refused", visitor: None };
    let mut response = match route_of(&parts) {
        Err(refusal) => refusal.into_response(),
        Ok(None) => cors::preflight(origin.clone()),
        Ok(Some(route)) => {
            note.route = route.name();
            match read(&gateway, peer, &parts, route, body, own_origin).await {
                Err(refusal) => refusal.into_response(),
                Ok(call) => {
                    let caller = Caller { peer, headers: &parts.headers };
                    let forwarder = &gateway.forwarder;
                    let mut response = match &gateway.operator {
                        None => pipeline::run(&RelayMode, forwarder, &call, &caller).await,
                        Some(operator) => {
                            let mode = OperatorMode::new(operator, &gateway.config);
                            pipeline::run(&mode, forwarder, &call, &caller).await
                        }
                    };
                    note.visitor = response.extensions_mut().remove::<VisitorId>().map(|id| id.0);
                    response
                }
            }
        }
    };
    cors::allow(&mut response, origin);
    response.extensions_mut().insert(note);
    response
}

/// The call a request names; `Ok(None)` for a preflight of one.
fn route_of(parts: &Parts) -> Result<Option<Route<'_>>, Refusal> {
    let uri = &parts.uri;
    // Absolute-form (`GET http://other/...`) and authority-form targets are a proxy's business.
    if uri.scheme().is_some() || uri.authority().is_some() {
        return Err(Refusal::new(StatusCode::BAD_REQUEST, "request targets must be a path"));
    }
    let path = uri.path();
    if parts.method == Method::OPTIONS {
        let known = Route::parse("GET", path).or_else(|| Route::parse("POST", path));
        return known.map(|_| None).ok_or_else(|| unknown_endpoint(path));
    }
    match Route::parse(parts.method.as_str(), path) {
        Some(route) => Ok(Some(route)),
        None if Route::parse("GET", path).or_else(|| Route::parse("POST", path)).is_some() => {
            Err(Refusal::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!(
                    "{} is not a method of this endpoint",
                    parts.method.as_str().chars().take(16).collect::<String>()
                ),
            ))
        }
        None => Err(unknown_endpoint(path)),
    }
}

fn unknown_endpoint(path: &str) -> Refusal {
    let shown: String = path.chars().take(80).collect();
    Refusal::not_found(format!(
        "no such endpoint: {shown} (this gateway relays POST /api/creation, GET /api/creation/{{id}}, \
         GET /api/balance and GET /api/styles)"
    ))
}

async fn read<'a>(
    gateway: &Gateway,
    peer: SocketAddr,
    parts: &Parts,
    route: Route<'a>,
    body: Body,
    own_origin: Option<String>,
) -> Result<Call<'a>, Refusal> {
    let given_key = given_key(parts.uri.query(), &parts.headers)?;
    let request = match route {
        Route::Create => ApiRequest::Create(read_create(gateway, &parts.headers, body).await?),
        Route::Check(id) => ApiRequest::Check(id),
        Route::Balance => ApiRequest::Balance,
        Route::Styles => ApiRequest::Styles,
    };
    let wait = match request {
        ApiRequest::Check(_) => parts
            .headers
            .get(clipcloud::hold::PREFER)
            .and_then(|v| v.to_str().ok())
            .and_then(clipcloud::hold::requested)
            .map(|wait| wait.min(gateway.config.limits.hold_max))
            .filter(|wait| !wait.is_zero()),
        _ => None,
    };
    let config = &gateway.config;
    let network = network(client_ip(peer.ip(), &parts.headers, &config.trusted_proxies), config.prefixes);
    Ok(Call { request, given_key, own_origin, wait, network })
}

/// The caller's key: `?apikey=` however its name is spelled or escaped, or
/// `Authorization: Bearer`. Two different ones are refused rather than one picked.
fn given_key(query: Option<&str>, headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let mut found: Option<String> = None;
    let from_query = query.unwrap_or_default().split('&').filter_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        decode_query(name).eq_ignore_ascii_case(API_KEY_PARAM).then(|| decode_query(value))
    });
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_owned());
    for key in from_query.chain(bearer).filter(|k| !k.is_empty()) {
        match &found {
            Some(other) if *other != key => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "the request carries two different API keys",
                ));
            }
            _ => found = Some(key),
        }
    }
    Ok(found)
}

/// A create's body: JSON, at most `--max-body` bytes, within `--header-timeout`, and
/// valid by the core's rules, so a bad one costs neither budget nor an upstream call.
async fn read_create(
    gateway: &Gateway,
    headers: &HeaderMap,
    body: Body,
) -> Result<clipcloud::CreateRequest, Refusal> {
    let limits = &gateway.config.limits;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if !is_json {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a create's body must be application/json",
        ));
    }
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {} bytes", limits.max_body),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        return Err(too_large());
    }
    let collect = Limited::new(body, limits.max_body).collect();
    let bytes = match tokio::time::timeout(limits.header_timeout, collect).await {
        Err(_) => return Err(Refusal::new(StatusCode::REQUEST_TIMEOUT, "the request body came too slowly")),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
        Ok(Err(_)) => return Err(Refusal::new(StatusCode::BAD_REQUEST, "the request body broke off")),
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    let request = clipcloud::server::decode_create_body(&bytes)
        .map_err(|m| Refusal::new(StatusCode::BAD_REQUEST, m))?;
    clipcloud::validate::create(&request, None)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_key_is_found_however_it_is_spelled() {
        let none = HeaderMap::new();
        for query in ["apikey=k1", "APIKEY=k1", "api%6Bey=k1", "x=1&ApiKey=k%31", "apikey=k1&apikey=k1"] {
            assert_eq!(given_key(Some(query), &none).unwrap().as_deref(), Some("k1"), "{query}");
        }
        assert_eq!(given_key(Some("x=1"), &none).unwrap(), None);
        assert_eq!(given_key(None, &none).unwrap(), None);
        assert!(given_key(Some("apikey=a&APIKEY=b"), &none).is_err());
        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer tok"));
        assert_eq!(given_key(None, &bearer).unwrap().as_deref(), Some("tok"));
        assert!(given_key(Some("apikey=other"), &bearer).is_err());
    }
}
