//! The answer for the caller, made from what came back from upstream: read back whole and
//! bounded, every secret scrubbed, a body that is not JSON replaced by the API's error shape,
//! and a finished check's image links moved to this gateway.

use crate::forward::images::rewrite_links;
use crate::forward::upstream::{Answer, Failure, Origin};
use crate::refusal::Refusal;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::codec::{Endpoint, HttpResponse};

/// The answer for the caller from what came from upstream, with `secrets` scrubbed (and,
/// given `image_links`, the image links on the `images` host moved to this gateway's
/// `/images/`), and as the core reads it.
pub fn respond(
    images: &Origin,
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
        let shown = image_links.and_then(|own| rewrite_links(&text, images, own));
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
    fn secrets_are_scrubbed_in_every_spelling() {
        let secret = "s3cr&t key";
        let text = "echo: s3cr&t key, s3cr%26t%20key, s3cr&t+key";
        assert_eq!(scrub(text, &[secret]), "echo: [redacted], [redacted], [redacted]");
        assert_eq!(scrub("abc", &["abc"[..2].as_ref()]), "abc", "too short to scrub safely");
    }
}
