//! Proxy mode (`--upstream URL --key-file F`): the emulator stands in front of the real
//! service and forwards `/api/...` to it, adding the API key itself and the CORS headers.
//! An `https://` service needs the build feature `tls`.
//!
//! Why: a public deployment of the SPA should not ask every visitor for the key, nor ship
//! it to their browsers. Behind the proxy, the browser sends any placeholder key (the
//! client requires a non-empty one); the proxy drops it and adds the real one, which
//! lives only in the key file on the server.

use crate::error::ApiError;
use crate::state::AppState;
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;

/// Requests larger than this are refused rather than buffered.
const MAX_BODY: usize = 2 * 1024 * 1024;

/// Where to forward to, and with which key.
#[derive(Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `http://host:port` without a trailing slash.
    pub origin: String,
    pub api_key: String,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream").field("origin", &self.origin).field("api_key", &"[redacted]").finish()
    }
}

impl Upstream {
    /// From `--upstream URL` and the contents of `--key-file` (first non-empty line).
    pub fn new(url: &str, key_file_text: &str) -> Result<Self, String> {
        let origin = url.trim().trim_end_matches('/').to_owned();
        if origin.starts_with("https://") && !cfg!(feature = "tls") {
            return Err(
                "--upstream: an https:// service needs the emulator built with `--features tls`".into()
            );
        }
        let host = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
        if host.is_none_or(str::is_empty) {
            return Err(format!("--upstream: not an http(s):// URL: {url}"));
        }
        let api_key = key_file_text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#'));
        let api_key = api_key.ok_or("--key-file: the file holds no key")?.to_owned();
        Ok(Self { origin, api_key })
    }

    /// The upstream URL for this path and query: the caller's `apikey` dropped, ours added.
    fn target(&self, uri: &Uri) -> String {
        let mut url = format!("{}{}?", self.origin, uri.path());
        for pair in uri.query().unwrap_or_default().split('&') {
            if !pair.is_empty() && pair.split('=').next() != Some("apikey") {
                url.push_str(pair);
                url.push('&');
            }
        }
        url.push_str("apikey=");
        url.push_str(&percent_encode(&self.api_key));
        url
    }
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(not(feature = "tls"))]
pub type HttpClient = Client<HttpConnector, Body>;
#[cfg(feature = "tls")]
pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Body>;

#[cfg(not(feature = "tls"))]
pub fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Trusts the Mozilla root certificates (webpki-roots), as browsers do.
#[cfg(feature = "tls")]
pub fn client() -> HttpClient {
    let connector =
        hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().build();
    Client::builder(TokioExecutor::new()).build(connector)
}

/// Forwards one `/api/...` request upstream.
pub async fn forward(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let Some((upstream, client)) = state.upstream() else {
        return ApiError::not_found("proxy mode is off").into_response();
    };
    match send(upstream, client, request).await {
        Ok(response) => response,
        // The error text never holds the key: it names the origin only.
        Err(message) => ApiError::new(axum::http::StatusCode::BAD_GATEWAY, message).into_response(),
    }
}

async fn send(upstream: &Upstream, client: &HttpClient, request: Request) -> Result<Response, String> {
    let (parts, body) = request.into_parts();
    let body =
        to_bytes(body, MAX_BODY).await.map_err(|_| "the request body is too large or broken".to_owned())?;
    let mut outgoing = axum::http::Request::builder().method(parts.method).uri(upstream.target(&parts.uri));
    if let Some(content_type) = parts.headers.get(header::CONTENT_TYPE) {
        outgoing = outgoing.header(header::CONTENT_TYPE, content_type);
    }
    let outgoing =
        outgoing.body(Body::from(body)).map_err(|_| "could not build the upstream request".to_owned())?;
    let answer = client
        .request(outgoing)
        .await
        .map_err(|_| format!("the upstream service {} did not answer", upstream.origin))?;
    let (answer_parts, answer_body) = answer.into_parts();
    let bytes = to_bytes(Body::new(answer_body), MAX_BODY)
        .await
        .map_err(|_| format!("the upstream service {} broke off its answer", upstream.origin))?;
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = answer_parts.status;
    for name in [header::CONTENT_TYPE, header::RETRY_AFTER] {
        if let Some(value) = answer_parts.headers.get(&name) {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callers_key_is_replaced() {
        let upstream = Upstream::new("http://up.test:9/", "# key\n\n s3cr&t \n").unwrap();
        assert_eq!(upstream.api_key, "s3cr&t");
        let uri: Uri = "/api/creation/abc?apikey=placeholder&x=1".parse().unwrap();
        assert_eq!(upstream.target(&uri), "http://up.test:9/api/creation/abc?x=1&apikey=s3cr%26t");
        let uri: Uri = "/api/balance".parse().unwrap();
        assert_eq!(upstream.target(&uri), "http://up.test:9/api/balance?apikey=s3cr%26t");
        assert!(!format!("{upstream:?}").contains("s3cr"));
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Upstream::new("ftp://x", "k").is_err());
        assert!(Upstream::new("http://x", "\n# only a comment\n").is_err());
        let https = Upstream::new("https://clipcloud.clipai.pro", "k");
        assert_eq!(https.is_ok(), cfg!(feature = "tls"), "{https:?}");
    }
}
