//! The client's I/O on servers (cargo feature `native`): HTTP/1.1 through hyper, the
//! stack the gateway already uses, and tokio's timers, so that a server drives the same
//! [`crate::Operation`]s and polling schedule as the browser. `https://` needs the
//! feature `native-tls` (rustls with the webpki roots).
//!
//! ```no_run
//! # async fn demo() -> Result<(), clipcloud::Error> {
//! use clipcloud::{Abort, CallOptions, Client, Config, StyleRequest};
//! use std::time::Duration;
//!
//! let client = Client::new(Config::new("YOUR_API_KEY"))?; // a NativeTransport
//! let abort = Abort::new();
//! let options = CallOptions::new().abort(&abort).time_limit(Duration::from_secs(120));
//! let done = client.generate_with(StyleRequest::new("A ripe red apple", "HD-HQ"), &options, |_| {}).await?;
//! println!("{:?}", done.images);
//! # Ok(()) }
//! ```

use crate::codec::{HttpRequest, HttpResponse};
use crate::transport::{Transport, TransportError};
use core::time::Duration;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[cfg(not(feature = "native-tls"))]
type Connector = HttpConnector;
#[cfg(feature = "native-tls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// The most an answer may weigh: the API's answers are small JSON (a check lists a few
/// image links); anything larger is not one of them.
pub const MAX_ANSWER: usize = 1024 * 1024;

/// hyper with a connection pool, on the tokio runtime the caller runs (a multi-threaded
/// one is fine: the client's futures are `Send`). Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct NativeTransport {
    client: HyperClient<Connector, Full<Bytes>>,
    started: Instant,
    random: std::sync::Arc<AtomicU64>,
}

impl core::fmt::Debug for NativeTransport {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NativeTransport").finish_non_exhaustive()
    }
}

impl Default for NativeTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl NativeTransport {
    pub fn new() -> Self {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        http.set_nodelay(true);
        http.enforce_http(false);
        #[cfg(feature = "native-tls")]
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        #[cfg(not(feature = "native-tls"))]
        let connector = http;
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        // Only needs to differ between clients and runs: the time, and a count of clients.
        static CLIENTS: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64);
        let seed = nanos ^ CLIENTS.fetch_add(1, Ordering::Relaxed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Self { client, started: Instant::now(), random: std::sync::Arc::new(AtomicU64::new(seed | 1)) }
    }
}

/// A failure's text: fixed words, never the URL (it carries the key) nor hyper's own text.
fn network(message: &str, not_sent: bool) -> TransportError {
    TransportError::Network { message: message.to_owned(), not_sent }
}

impl Transport for NativeTransport {
    async fn send(&self, request: &HttpRequest, timeout: Duration) -> Result<HttpResponse, TransportError> {
        let mut builder = hyper::Request::builder().method(request.method.as_str()).uri(request.url.as_str());
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let body = Full::new(Bytes::from(request.body.clone().unwrap_or_default()));
        let http =
            builder.body(body).map_err(|_| network("the request could not be built (bad URL?)", true))?;
        let exchange = async {
            let response = self.client.request(http).await.map_err(|e| {
                if e.is_connect() {
                    network("could not connect to the server", true)
                } else {
                    network("the connection failed before an answer came", false)
                }
            })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|_| network("the answer broke off or was too large", false))?
                .to_bytes();
            let received_unix_secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let body = String::from_utf8_lossy(&bytes).into_owned();
            Ok(HttpResponse { status, retry_after, body, received_unix_secs })
        };
        tokio::time::timeout(timeout, exchange).await.unwrap_or(Err(TransportError::Timeout))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }

    fn now(&self) -> Duration {
        self.started.elapsed()
    }

    fn random(&self) -> f64 {
        // xorshift64, shared by clones (the order of draws does not matter).
        let mut x = self.random.load(Ordering::Relaxed);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.random.store(x, Ordering::Relaxed);
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
