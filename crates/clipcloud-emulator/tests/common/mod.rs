//! A tiny blocking HTTP/1.1 client (one request per connection) and an emulator per test.

#![allow(dead_code)]

use clipcloud_emulator::{Config, Emulator};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

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

/// Sends one request; `headers` come after Connection and Content-Length, and a
/// `Host` among them replaces the default one.
pub fn request(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
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
    stream.write_all(head.as_bytes()).expect("write head");
    stream.write_all(body).expect("write body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
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

pub fn get(addr: SocketAddr, target: &str) -> Response {
    request(addr, "GET", target, &[], b"")
}

pub fn post_json(addr: SocketAddr, target: &str, body: &str) -> Response {
    request(addr, "POST", target, &[("Content-Type", "application/json")], body.as_bytes())
}

/// Path part of an absolute `http://host:port/path` URL.
pub fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("http://").expect("absolute http URL");
    &rest[rest.find('/').expect("path")..]
}

/// An emulator on an ephemeral port, generation time 1 s unless the create overrides it.
pub fn emulator() -> Emulator {
    emulator_with(Config { port: 0, delay: Duration::from_secs(1), log_requests: false, ..Config::default() })
}

pub fn emulator_with(config: Config) -> Emulator {
    Emulator::start(config).expect("start emulator")
}

/// A fresh key with this balance, via `POST /emulator/keys`.
pub fn fresh_key(addr: SocketAddr, balance: f64) -> String {
    let r = post_json(addr, "/emulator/keys", &format!(r#"{{"balance":{balance}}}"#));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["apikey"].as_str().expect("apikey").to_string()
}

/// Creates and returns the creation id (asserting success).
pub fn create(addr: SocketAddr, key: &str, delay_ms: u64, body: &str) -> String {
    let r = post_json(addr, &format!("/api/creation?apikey={key}&emulator_delay_ms={delay_ms}"), body);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["creation_id"].as_str().expect("creation_id").to_string()
}

pub fn balance(addr: SocketAddr, key: &str) -> f64 {
    let r = get(addr, &format!("/api/balance?apikey={key}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["balance"].as_f64().expect("balance number")
}
