//! The emulator as each test needs it: in-process through the router (`Router::oneshot`)
//! on a clock the test moves, or served on a real socket (faults that cut connections,
//! real time). One small HTTP/1.1 client for the socket, the same helpers for both.

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use clipcloud_emulator::{AppState, Clock, Config, Emulator};
use serde_json::Value;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

/// Longer than any answer of a test takes: a request past it is a bug, not a slow machine.
const NO_ANSWER: Duration = Duration::from_secs(30);

/// The `Host` of in-process requests (sockets send their address).
pub const HOST: &str = "emulator.test";

pub struct Response {
    pub status: u16,
    /// Names lowercased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

#[derive(Clone)]
enum Transport {
    Router(Router),
    Socket(SocketAddr),
}

/// An emulator and the way to reach it. Cheap to clone (held checks run in tasks).
#[derive(Clone)]
pub struct App {
    transport: Transport,
    /// The emulator's clock: manual in-process, real when served.
    pub clock: Clock,
    _served: Option<Arc<Emulator>>,
}

/// Generation time 1 s unless the create overrides it; no log lines.
pub fn config() -> Config {
    Config { port: 0, delay: Duration::from_secs(1), log_requests: false, ..Config::default() }
}

impl App {
    /// In-process with [`config`], on a manual clock.
    pub fn new() -> Self {
        Self::with(config())
    }

    /// In-process with this configuration, on a manual clock.
    pub fn with(config: Config) -> Self {
        let clock = Clock::manual();
        let router = clipcloud_emulator::router(AppState::with_clock(&config, clock.clone()));
        Self { transport: Transport::Router(router), clock, _served: None }
    }

    /// Served on an ephemeral port (a thread of its own), on real time.
    pub fn served(config: Config) -> Self {
        let emulator = Emulator::start(Config { port: 0, ..config }).expect("start emulator");
        Self {
            transport: Transport::Socket(emulator.addr()),
            clock: Clock::real(),
            _served: Some(Arc::new(emulator)),
        }
    }

    /// An emulator someone else started (the binary), at this address.
    pub fn at(addr: SocketAddr) -> Self {
        Self { transport: Transport::Socket(addr), clock: Clock::real(), _served: None }
    }

    /// The socket's address; panics in-process.
    pub fn addr(&self) -> SocketAddr {
        match self.transport {
            Transport::Socket(addr) => addr,
            Transport::Router(_) => panic!("an in-process emulator has no address"),
        }
    }

    /// What the requests send as `Host` unless they say otherwise.
    pub fn host(&self) -> String {
        match self.transport {
            Transport::Socket(addr) => addr.to_string(),
            Transport::Router(_) => HOST.to_owned(),
        }
    }

    /// Sends one request; a `Host` among `headers` replaces the default one.
    pub async fn request(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let answer = match &self.transport {
            Transport::Router(router) => {
                tokio::time::timeout(NO_ANSWER, oneshot(router, method, target, headers, body)).await
            }
            Transport::Socket(addr) => {
                tokio::time::timeout(NO_ANSWER, over_socket(*addr, method, target, headers, body)).await
            }
        };
        answer.unwrap_or_else(|_| panic!("no answer to {method} {target} in {NO_ANSWER:?}"))
    }

    pub async fn get(&self, target: &str) -> Response {
        self.request("GET", target, &[], b"").await
    }

    pub async fn post_json(&self, target: &str, body: &str) -> Response {
        self.request("POST", target, &[("Content-Type", "application/json")], body.as_bytes()).await
    }

    /// A fresh key with this balance, via `POST /emulator/keys`.
    pub async fn fresh_key(&self, balance: f64) -> String {
        self.key_with(&format!(r#"{{"balance":{balance}}}"#)).await
    }

    /// A fresh key from this `POST /emulator/keys` body.
    pub async fn key_with(&self, body: &str) -> String {
        let r = self.post_json("/emulator/keys", body).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["apikey"].as_str().expect("apikey").to_string()
    }

    /// Creates and returns the creation id (asserting success).
    pub async fn create(&self, key: &str, delay_ms: u64, body: &str) -> String {
        let r =
            self.post_json(&format!("/api/creation?apikey={key}&emulator_delay_ms={delay_ms}"), body).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["creation_id"].as_str().expect("creation_id").to_string()
    }

    pub async fn balance(&self, key: &str) -> f64 {
        let r = self.get(&format!("/api/balance?apikey={key}")).await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["balance"].as_f64().expect("balance number")
    }

    /// The answer to a check of `id`.
    pub async fn check(&self, key: &str, id: &str) -> Value {
        self.get(&format!("/api/creation/{id}?apikey={key}")).await.json()
    }

    /// `GET /emulator/stats` of this key.
    pub async fn stats(&self, key: &str) -> Value {
        self.get(&format!("/emulator/stats?apikey={key}")).await.json()
    }
}

async fn oneshot(
    router: &Router,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut request = Request::builder().method(method).uri(target);
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        request = request.header("host", HOST);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Body::from(body.to_vec())).expect("a valid request");
    let response = router.clone().oneshot(request).await.unwrap_or_else(|never| match never {});
    let status: StatusCode = response.status();
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("the whole body");
    Response { status: status.as_u16(), headers, body: body.to_vec() }
}

/// One request per connection (`Connection: close`); `headers` come after Connection and
/// Content-Length.
async fn over_socket(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write head");
    stream.write_all(body).await.expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    parse(&raw)
}

fn parse(raw: &[u8]) -> Response {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of head");
    let head = std::str::from_utf8(&raw[..end]).expect("head is text");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line.split(' ').nth(1).expect("status").parse().expect("status code");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_vec() };
    Response { status, headers, body }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
        let size_text = std::str::from_utf8(&rest[..line_end]).expect("chunk size");
        let size =
            usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16).expect("hex size");
        rest = &rest[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Path part of an absolute `http://host:port/path` URL.
pub fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").expect("absolute http URL");
    &rest[rest.find('/').expect("path")..]
}
