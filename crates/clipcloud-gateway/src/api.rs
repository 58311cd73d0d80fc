//! `/api/...`: the four calls [`Route`] names go upstream, nothing else. A request is read
//! whole and bounded, checked (origin, then the mode's rules), rebuilt by the core
//! ([`Endpoint`]) with the right key, and the answer is read back whole and bounded, with
//! every secret scrubbed from it.

use crate::cors;
use crate::refusal::Refusal;
use crate::state::Gateway;
use crate::upstream::{Answer, Failure};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::codec::{Endpoint, HttpRequest, HttpResponse};
use clipcloud::route::{Route, API_KEY_PARAM};
use http_body_util::{BodyExt, Limited};
use std::net::SocketAddr;
use std::sync::Arc;

/// What the access log may say about a request: set by the handlers, read by the log.
#[derive(Clone, Debug, Default)]
pub struct LogNote {
    pub route: &'static str,
    pub visitor: Option<String>,
}

/// The handler of every `/api/...` request.
pub async fn handle(
    State(gateway): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let origin = match cors::check(&parts.headers, &gateway.config.allowed_origins, gateway.config.https) {
        Ok(origin) => origin,
        Err(refusal) => return refusal.into_response(),
    };
    let mut note = LogNote { route: "refused", visitor: None };
    let mut response = match route_of(&parts) {
        Err(refusal) => refusal.into_response(),
        Ok(None) => cors::preflight(origin.clone()),
        Ok(Some(route)) => {
            note.route = route.name();
            match read(&gateway, &parts, route, body).await {
                Err(refusal) => refusal.into_response(),
                Ok(call) => match &gateway.operator {
                    None => relay(&gateway, call).await,
                    Some(_) => crate::operator::handle(&gateway, call, peer, &parts.headers, &mut note).await,
                },
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

/// A request read whole and checked: the route, the key the caller gave, and (for a
/// create) the request as the core reads it.
pub struct Call<'a> {
    pub request: ApiRequest<'a>,
    pub given_key: Option<String>,
    /// `scheme://host` of this gateway as the caller reached it, for image links.
    pub own_origin: Option<String>,
    /// A check that asks to be held (`Prefer: wait=N`), within this gateway's `--hold-max`.
    pub wait: Option<std::time::Duration>,
}

/// One of the four calls, a create with its (valid) request.
pub enum ApiRequest<'a> {
    Create(clipcloud::CreateRequest),
    Check(&'a str),
    Balance,
    Styles,
}

impl ApiRequest<'_> {
    pub fn route(&self) -> Route<'_> {
        match self {
            Self::Create(_) => Route::Create,
            Self::Check(id) => Route::Check(id),
            Self::Balance => Route::Balance,
            Self::Styles => Route::Styles,
        }
    }

    /// The request to send upstream, built by the core with `key`.
    pub fn upstream(&self, key: &str) -> HttpRequest {
        let endpoint = Endpoint { base_url: "", api_key: Some(key) };
        match self {
            Self::Create(request) => endpoint.create(request),
            Self::Check(id) => endpoint.check(id),
            Self::Balance => endpoint.balance(),
            Self::Styles => endpoint.styles(),
        }
    }
}

async fn read<'a>(
    gateway: &Gateway,
    parts: &Parts,
    route: Route<'a>,
    body: Body,
) -> Result<Call<'a>, Refusal> {
    let given_key = given_key(parts.uri.query(), &parts.headers)?;
    let request = match route {
        Route::Create => ApiRequest::Create(read_create(gateway, &parts.headers, body).await?),
        Route::Check(id) => ApiRequest::Check(id),
        Route::Balance => ApiRequest::Balance,
        Route::Styles => ApiRequest::Styles,
    };
    let own_origin = own_origin(&parts.headers, gateway.config.https);
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
    Ok(Call { request, given_key, own_origin, wait })
}

/// `scheme://host` from the `Host` header, if it is a plain host name or address.
fn own_origin(headers: &HeaderMap, https: bool) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let plain = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    plain.then(|| [if https { "https://" } else { "http://" }, host].concat())
}

/// The caller's key: `?apikey=` however its name is spelled or escaped, or
/// `Authorization: Bearer`. Two different ones are refused rather than one picked.
fn given_key(query: Option<&str>, headers: &HeaderMap) -> Result<Option<String>, Refusal> {
    let mut found: Option<String> = None;
    let from_query = query.unwrap_or_default().split('&').filter_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        percent_decode(name).eq_ignore_ascii_case(API_KEY_PARAM).then(|| percent_decode(value))
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

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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

/// Relay mode: the caller's own key goes upstream.
async fn relay(gateway: &Gateway, call: Call<'_>) -> Response {
    let Some(key) = call.given_key.as_deref() else {
        return Refusal::new(
            StatusCode::UNAUTHORIZED,
            "an API key is needed: this gateway relays your own ClipCloud key (?apikey=YOUR_KEY)",
        )
        .into_response();
    };
    let sent = match &call.request {
        ApiRequest::Check(id) => crate::hold::check(gateway, &call, id, key).await,
        ApiRequest::Create(request) => {
            let started = std::time::Instant::now();
            let sent = forward(gateway, &call.request.upstream(key), &[key], None).await;
            if let Ok((_, answer)) = &sent {
                gateway.holds.created(request, answer, started);
            }
            sent
        }
        _ => forward(gateway, &call.request.upstream(key), &[key], image_links(&call)).await,
    };
    match sent {
        Ok((response, _)) => response,
        Err(refusal) => refusal.into_response(),
    }
}

/// Where a check's image links should point: this gateway, as the caller reached it.
pub fn image_links<'a>(call: &'a Call<'_>) -> Option<&'a str> {
    matches!(call.request, ApiRequest::Check(_)).then_some(call.own_origin.as_deref()).flatten()
}

/// Sends `request` upstream; the answer with `secrets` scrubbed (and, given `image_links`,
/// the image links moved to this gateway's `/images/`), and as the core reads it.
pub async fn forward(
    gateway: &Gateway,
    request: &HttpRequest,
    secrets: &[&str],
    image_links: Option<&str>,
) -> Result<(Response, HttpResponse), Refusal> {
    respond(gateway, &send(gateway, request).await, secrets, image_links)
}

/// Sends `request` upstream: the whole answer, or why none came.
pub async fn send(gateway: &Gateway, request: &HttpRequest) -> Result<Answer, Failure> {
    let method = Method::from_bytes(request.method.as_str().as_bytes()).unwrap_or(Method::GET);
    let body = request.body.clone().map(String::into_bytes);
    gateway.upstream.call(method, &request.url, body).await
}

/// The answer for the caller from what came from upstream ([`forward`]).
pub fn respond(
    gateway: &Gateway,
    answer: &Result<Answer, Failure>,
    secrets: &[&str],
    image_links: Option<&str>,
) -> Result<(Response, HttpResponse), Refusal> {
    let answer = answer.as_ref().map_err(|&failure| {
        let refusal = Refusal::new(
            match failure {
                // Surely not sent: a 503 with a time to come back tells the client so.
                Failure::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
                Failure::Timeout => StatusCode::GATEWAY_TIMEOUT,
                Failure::Broken => StatusCode::BAD_GATEWAY,
            },
            failure.message(),
        );
        if failure == Failure::Unreachable {
            refusal.retry_after(5)
        } else {
            refusal
        }
    })?;
    let status = answer.status;
    let text = scrub(&String::from_utf8_lossy(&answer.body), secrets);
    let is_json = serde_json::from_str::<serde_json::Value>(&text).is_ok();
    let retry_after = answer.retry_after.clone().filter(|v| v.len() <= 64 && v.to_str().is_ok());
    let read_back = HttpResponse {
        status: status.as_u16(),
        retry_after: retry_after.as_ref().and_then(|v| v.to_str().ok()).map(str::to_owned),
        body: text.clone(),
        received_unix_secs: crate::clock::unix_now(),
    };
    let mut response = if is_json {
        let origin = gateway.images.origin();
        let shown = image_links.and_then(|own| crate::images::rewrite_links(&text, origin, own));
        (status, shown.unwrap_or(text)).into_response()
    } else if status.is_success() {
        // What the service said cannot be read: it may have acted on the request.
        Refusal::new(StatusCode::BAD_GATEWAY, "the ClipCloud service sent an answer that is not JSON")
            .into_response()
    } else {
        let message =
            format!("the ClipCloud service answered HTTP {} without a readable message", status.as_u16());
        let mut refusal = Refusal::new(status, message).into_response();
        refusal.headers_mut().remove(header::RETRY_AFTER);
        refusal
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(value) = retry_after {
        headers.insert(header::RETRY_AFTER, value);
    }
    Ok((response, read_back))
}

/// `text` with every secret, plain or percent-encoded, replaced.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let encoded = Endpoint { base_url: "", api_key: Some(secret) }.balance().url;
        let encoded = encoded.rsplit_once('=').map(|(_, v)| v.to_owned()).unwrap_or_default();
        for form in [secret.to_string(), encoded, secret.replace(' ', "+")] {
            if !form.is_empty() && out.contains(&form) {
                out = out.replace(&form, "[redacted]");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn secrets_are_scrubbed_in_every_spelling() {
        let secret = "s3cr&t key";
        let text = "echo: s3cr&t key, s3cr%26t%20key, s3cr&t+key";
        assert_eq!(scrub(text, &[secret]), "echo: [redacted], [redacted], [redacted]");
        assert_eq!(scrub("abc", &["abc"[..2].as_ref()]), "abc", "too short to scrub safely");
    }

    #[test]
    fn the_core_builds_what_goes_upstream() {
        let request = ApiRequest::Check("ab-1").upstream("k&1");
        assert_eq!(request.url, "/api/creation/ab-1?apikey=k%261");
        let request = ApiRequest::Create(clipcloud::StyleRequest::new("a", "standard").into()).upstream("k");
        assert_eq!(request.url, "/api/creation?apikey=k");
        assert_eq!(request.body.as_deref(), Some(r#"{"prompt":"a","styleName":"standard"}"#));
    }
}
