//! One API call relayed: the call as the gateway read it ([`Call`]), the request the core
//! builds for it with the right key, sent upstream ([`forward`], or held until ready:
//! [`check`]), and the answer for the caller, read back whole and bounded, with every secret
//! scrubbed and the image links moved to this gateway ([`respond`]). Both modes' handlers
//! (`api` for relay mode, `operator`) go through here.

use crate::refusal::Refusal;
use crate::state::Gateway;
use crate::upstream::{Answer, Failure};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::codec::{Endpoint, HttpRequest, HttpResponse};
use clipcloud::route::Route;

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

/// A check, held when it asks (`call.wait`) and there is room; else relayed at once.
pub async fn check(
    gateway: &Gateway,
    call: &Call<'_>,
    id: &str,
    key: &str,
) -> Result<(Response, HttpResponse), Refusal> {
    let links = image_links(call);
    let held = match call.wait {
        Some(wait) => gateway.holds.wait(&gateway.upstream, id, key, wait).await.map(|answer| (wait, answer)),
        None => None,
    };
    // Not held (not asked, at the caps, or nothing from upstream yet): relayed at once.
    let Some((wait, answer)) = held else {
        return forward(gateway, &call.request.upstream(key), &[key], links).await;
    };
    let (mut response, read) = respond(gateway, &answer, &[key], links)?;
    if let Ok(value) = HeaderValue::from_str(&clipcloud::hold::applied(wait)) {
        response.headers_mut().insert(clipcloud::hold::PREFERENCE_APPLIED, value);
    }
    Ok((response, read))
}

#[cfg(test)]
mod tests {
    use super::*;

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
