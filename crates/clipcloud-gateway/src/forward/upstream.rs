//! The one service the gateway talks to: its origin (credentials kept apart and never
//! shown), an HTTP client with bounded connect, answer and size, and the answer read back
//! in a form that cannot leak a secret.

use crate::metrics::UpstreamTimes;
use crate::secret::Secret;
use axum::body::Body;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use std::fmt;
use std::time::{Duration, Instant};

/// `scheme://host[:port]` of the upstream, with any `user:password@` held apart as a
/// secret. `Display` shows the origin without the credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    authority: String,
    credentials: Option<Secret>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", if self.https { "https" } else { "http" }, self.authority)
    }
}

impl fmt::Debug for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Origin({self}")?;
        if self.credentials.is_some() {
            f.write_str(", credentials: [redacted]")?;
        }
        f.write_str(")")
    }
}

impl Origin {
    /// An `http(s)://[user:password@]host[:port]` URL; a path other than `/`, a query or a
    /// fragment is refused (the gateway builds every path itself). Errors never repeat
    /// the credentials.
    pub fn parse(url: &str) -> Result<Self, String> {
        let url = url.trim();
        let (https, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else {
            return Err("--upstream: not an http:// or https:// URL".into());
        };
        if https && !cfg!(feature = "tls") {
            return Err(
                "--upstream: an https:// service needs the gateway built with `--features tls`".into()
            );
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (credentials, authority) = match rest.rsplit_once('@') {
            Some((user_info, authority)) => (Some(Secret::new(user_info)), authority),
            None => (None, rest),
        };
        let ok = !authority.is_empty()
            && authority
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
        if !ok {
            return Err(format!(
                "--upstream: expected scheme://host[:port] with no path or query (host part: {:?})",
                clip(authority)
            ));
        }
        Ok(Self { https, authority: authority.to_ascii_lowercase(), credentials })
    }

    /// The URL of `path_and_query` (which starts with `/`) on this origin.
    pub fn url(&self, path_and_query: &str) -> String {
        format!("{self}{path_and_query}")
    }

    /// `host[:port]`, lowercase.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host without the port (an IPv6 address keeps its brackets).
    pub fn host(&self) -> &str {
        match self.authority.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && !port.contains(']') => host,
            _ => &self.authority,
        }
    }

    /// The `user:password` given in the URL, as written there.
    pub fn credentials(&self) -> Option<&Secret> {
        self.credentials.as_ref()
    }

    /// `Authorization: Basic` for credentials given in the URL.
    fn authorization(&self) -> Option<HeaderValue> {
        let credentials = self.credentials.as_ref()?;
        let mut value =
            HeaderValue::try_from(format!("Basic {}", clipcloud::base64::encode(credentials.expose())))
                .ok()?;
        value.set_sensitive(true);
        Some(value)
    }
}

fn clip(text: &str) -> String {
    text.chars().take(40).collect()
}

#[cfg(not(feature = "tls"))]
type Connector = HttpConnector;
#[cfg(feature = "tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// Why an upstream call gave no usable answer. The texts are for visitors: they name
/// neither the upstream's address nor any secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No connection was made: the request surely did not reach the service.
    Unreachable,
    /// Sent, but no complete answer in time: the service may have acted on it.
    Timeout,
    /// Sent, but the answer broke off or was too large.
    Broken,
}

impl Failure {
    pub fn message(self) -> &'static str {
        match self {
            Self::Unreachable => "the gateway could not reach the ClipCloud service; try again shortly",
            Self::Timeout => "the ClipCloud service did not answer in time",
            Self::Broken => "the ClipCloud service's answer broke off or was too large",
        }
    }
}

/// A whole, bounded answer.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: Option<HeaderValue>,
    pub retry_after: Option<HeaderValue>,
    pub body: Vec<u8>,
}

impl Answer {
    /// As the core reads an answer, for the gateway's own use (never shown as is: the
    /// body is not scrubbed).
    pub fn as_core(&self) -> clipcloud::codec::HttpResponse {
        clipcloud::codec::HttpResponse {
            status: self.status.as_u16(),
            retry_after: None,
            body: String::from_utf8_lossy(&self.body).into_owned(),
            received_unix_secs: 0,
        }
    }
}

#[derive(Clone)]
pub struct Upstream {
    origin: Origin,
    client: HyperClient<Connector, Body>,
    timeout: Duration,
    times: UpstreamTimes,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream").field("origin", &self.origin).field("timeout", &self.timeout).finish()
    }
}

/// The most an API answer may weigh (a check lists at most a few image links).
const MAX_ANSWER: usize = 256 * 1024;

impl Upstream {
    pub fn new(origin: Origin, timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(timeout.min(Duration::from_secs(10))));
        http.set_nodelay(true);
        http.enforce_http(false);
        #[cfg(feature = "tls")]
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        #[cfg(not(feature = "tls"))]
        let connector = http;
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(256)
            .build(connector);
        Self { origin, client, timeout, times: UpstreamTimes::default() }
    }

    /// Records how long each call's answer took in `times` (the gateway's metrics).
    pub fn timed(mut self, times: UpstreamTimes) -> Self {
        self.times = times;
        self
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Sends `method path_and_query` with an optional JSON body; the answer's head within
    /// the time limit, unread.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        json_body: Option<Vec<u8>>,
    ) -> Result<Response<Incoming>, Failure> {
        let mut request = Request::builder().method(method).uri(self.origin.url(path_and_query));
        if let Some(value) = self.origin.authorization() {
            request = request.header(AUTHORIZATION, value);
        }
        let body = match json_body {
            Some(bytes) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Body::from(bytes)
            }
            None => Body::empty(),
        };
        let call = call_name(request.method_ref(), path_and_query);
        let request = request.body(body).map_err(|_| Failure::Unreachable)?;
        let sent = Instant::now();
        match tokio::time::timeout(self.timeout, self.client.request(request)).await {
            Err(_) => Err(Failure::Timeout),
            Ok(Err(e)) if e.is_connect() => Err(Failure::Unreachable),
            Ok(Err(_)) => Err(Failure::Broken),
            Ok(Ok(response)) => {
                if let Some(call) = call {
                    self.times.observe(call, sent.elapsed());
                }
                Ok(response)
            }
        }
    }

    /// [`Self::send`], then the whole answer, at most 256 KiB, within the
    /// same time limit.
    pub async fn call(
        &self,
        method: Method,
        path_and_query: &str,
        json_body: Option<Vec<u8>>,
    ) -> Result<Answer, Failure> {
        let read = async {
            let response = self.send(method, path_and_query, json_body).await?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_ANSWER).collect().await.map_err(|_| Failure::Broken)?;
            Ok(Answer {
                status: parts.status,
                content_type: parts.headers.get(CONTENT_TYPE).cloned(),
                retry_after: parts.headers.get(hyper::header::RETRY_AFTER).cloned(),
                body: bytes.to_bytes().to_vec(),
            })
        };
        tokio::time::timeout(self.timeout, read).await.unwrap_or(Err(Failure::Timeout))
    }
}

/// What an upstream request is, as the metrics name it: one of the four calls or an image;
/// `None` for anything else (the readiness probe).
fn call_name(method: Option<&Method>, path_and_query: &str) -> Option<&'static str> {
    let path = path_and_query.split('?').next().unwrap_or_default();
    if path.starts_with(clipcloud::gateway::IMAGES_PATH) {
        return Some("image");
    }
    clipcloud::route::Route::parse(method?.as_str(), path).map(clipcloud::route::Route::name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_named_for_the_metrics() {
        assert_eq!(call_name(Some(&Method::POST), "/api/creation?apikey=k"), Some("create"));
        assert_eq!(call_name(Some(&Method::GET), "/api/balance"), Some("balance"));
        assert_eq!(call_name(Some(&Method::GET), "/images/ab.webp"), Some("image"));
        assert_eq!(call_name(Some(&Method::HEAD), "/"), None);
    }

    #[test]
    fn credentials_are_kept_apart_and_never_shown() {
        let origin = Origin::parse("http://user:pa%24%24@Up.Example:8080/").unwrap();
        assert_eq!(origin.to_string(), "http://up.example:8080");
        assert_eq!(origin.url("/api/balance?apikey=k"), "http://up.example:8080/api/balance?apikey=k");
        let debug = format!("{origin:?}");
        assert!(!debug.contains("pa%24") && debug.contains("[redacted]"), "{debug}");
        assert_eq!(origin.authorization().unwrap(), "Basic dXNlcjpwYSUyNCUyNA==");
        for bad in ["ftp://x", "http://", "http://host/path", "http://host?q", "http://a b", "x"] {
            let err = Origin::parse(bad).unwrap_err();
            assert!(!err.contains("pa%24"), "{err}");
        }
        assert_eq!((origin.authority(), origin.host()), ("up.example:8080", "up.example"));
        assert_eq!(Origin::parse("http://[::1]:81").unwrap().host(), "[::1]");
        assert_eq!(Origin::parse("http://[::1]").unwrap().host(), "[::1]");
        assert_eq!(
            Origin::parse("https://a.example").map(|o| o.host().to_owned()).ok(),
            cfg!(feature = "tls").then(|| "a.example".to_owned())
        );
        let err = Origin::parse("http://user:secret@host/path").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }
}
