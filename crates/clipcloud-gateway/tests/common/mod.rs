//! What the gateway's HTTP tests share: a raw HTTP/1.1 client (so malformed and hostile
//! request targets reach the server as written), an upstream that records what reached it,
//! starting an emulator and a gateway on free ports, and visitors of an operator-key gateway.
#![allow(dead_code)]

use clipcloud_gateway::config::{self, Config, Limits};
use clipcloud_gateway::forward::upstream::Origin;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

/// A whole answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    /// A header's value (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn message(&self) -> String {
        self.json()["message"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends `raw` (a whole request, as bytes on the wire) and reads the answer to the end.
pub fn raw(addr: SocketAddr, raw: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(raw).expect("send");
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Answer { status, head: head.to_owned(), body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A request with `Connection: close` and the given extra header lines.
pub fn request(addr: SocketAddr, method: &str, target: &str, headers: &[&str], body: Option<&str>) -> Answer {
    let mut text = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for header in headers {
        text.push_str(header);
        text.push_str("\r\n");
    }
    if let Some(body) = body {
        text.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body.unwrap_or_default());
    raw(addr, text.as_bytes())
}

pub fn get(addr: SocketAddr, target: &str) -> Answer {
    request(addr, "GET", target, &[], None)
}

pub fn post(addr: SocketAddr, target: &str, body: &str) -> Answer {
    request(addr, "POST", target, &[], Some(body))
}

/// An emulator on a free port with quick creations.
pub fn emulator(delay_ms: u64) -> clipcloud_emulator::Emulator {
    clipcloud_emulator::Emulator::start(clipcloud_emulator::Config {
        port: 0,
        delay: Duration::from_millis(delay_ms),
        log_requests: false,
        ..clipcloud_emulator::Config::default()
    })
    .expect("emulator")
}

/// A fresh emulator key with this balance.
pub fn fresh_key(emulator: &clipcloud_emulator::Emulator, balance: f64) -> String {
    let answer = post(emulator.addr(), "/emulator/keys", &format!("{{\"balance\": {balance}}}"));
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()["apikey"].as_str().unwrap().to_owned()
}

pub fn balance(emulator: &clipcloud_emulator::Emulator, key: &str) -> f64 {
    let answer = get(emulator.addr(), &format!("/api/balance?apikey={key}"));
    answer.json()["balance"].as_f64().unwrap_or(f64::NAN)
}

/// Relay-mode settings in front of `upstream`, with short limits for tests.
pub fn relay_config(upstream: &str) -> Config {
    let mut config = Config::relay(Origin::parse(upstream).unwrap());
    config.limits = Limits { header_timeout: Duration::from_secs(2), ..Limits::default() };
    config
}

/// What a [`Recorder`] saw: method and target of every request.
pub type Seen = Arc<Mutex<Vec<String>>>;

/// An upstream that records each request and answers with `status` and `body` (where
/// `{target}` is replaced by the request's target, as a careless service's echo would).
pub struct Recorder {
    pub url: String,
    pub seen: Seen,
    _runtime: tokio::runtime::Runtime,
}

impl Recorder {
    pub fn start(status: u16, content_type: &'static str, body: &'static str) -> Self {
        Self::slow(status, content_type, body, Duration::ZERO)
    }

    /// [`Recorder::start`], answering each request after `delay`.
    pub fn slow(status: u16, content_type: &'static str, body: &'static str, delay: Duration) -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let seen: Seen = Arc::default();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let record = seen.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let record = record.clone();
            async move {
                let target = request.uri().to_string();
                record.lock().unwrap().push(format!("{} {target}", request.method()));
                tokio::time::sleep(delay).await;
                let status = axum::http::StatusCode::from_u16(status).unwrap();
                (status, [("content-type", content_type)], body.replace("{target}", &target))
            }
        });
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self { url, seen, _runtime: runtime }
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `count` requests have reached this upstream (each is recorded before
    /// its answer's delay); panics after 10 s.
    pub fn wait_until_seen(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.seen.lock().unwrap().len() < count {
            assert!(
                Instant::now() < deadline,
                "{count} requests never reached the upstream: {:?}",
                self.seen()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// A key file (or any one-line secret file) in a fresh temporary folder.
pub fn secret_file(name: &str, value: &str) -> String {
    let dir = temp_dir(name);
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).unwrap();
    path.to_string_lossy().into_owned()
}

/// A new empty folder for this test.
pub fn temp_dir(tag: &str) -> std::path::PathBuf {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("clipcloud-gateway-test-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A `redis-server` of our own, stopped on drop.
pub struct RedisServer {
    child: Child,
    pub port: u16,
}

impl RedisServer {
    pub fn start(extra: &[&str]) -> RedisServer {
        // A free port: bind, learn it, release it. Redis's `--port 0` would turn TCP off.
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            if let Some(server) = Self::start_on(port, extra) {
                return server;
            }
        }
        panic!("redis-server did not start on any of 5 free ports");
    }

    /// `None` if the server exited at once (the port was taken meanwhile).
    pub fn start_on(port: u16, extra: &[&str]) -> Option<RedisServer> {
        Self::launch(port, &["--port", &port.to_string()], extra)
    }

    /// A server that speaks TLS only (`--port 0` turns plain TCP off), with `tls`'s
    /// certificate and key; clients need no certificate of their own.
    pub fn start_tls(tls: &TestPki, extra: &[&str]) -> RedisServer {
        for _ in 0..5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let listen = [
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cert-file",
                &tls.server_cert,
                "--tls-key-file",
                &tls.server_key,
                "--tls-ca-cert-file",
                &tls.ca,
                "--tls-auth-clients",
                "no",
            ];
            if let Some(server) = Self::launch(port, &listen, extra) {
                return server;
            }
        }
        panic!("redis-server (TLS) did not start on any of 5 free ports");
    }

    fn launch(port: u16, listen: &[&str], extra: &[&str]) -> Option<RedisServer> {
        let child = Command::new("redis-server")
            .args(listen)
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--dir", std::env::temp_dir().to_str().unwrap()])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match child {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
                "redis-server is not installed, and these tests need a real one: \
                 run `cargo xtask setup` (or `apt-get install -y redis-server`)"
            ),
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                return None;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(RedisServer { child, port });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        panic!("redis-server on port {port} did not accept connections within 10 s");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    pub fn stop(mut self) -> u16 {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.port
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A certificate authority made for one test, a server certificate it signed for
/// `127.0.0.1`, and a second CA that signed nothing here: PEM files, made with the
/// `openssl` command (`cargo xtask setup` installs it).
pub struct TestPki {
    pub ca: String,
    pub server_cert: String,
    pub server_key: String,
    pub other_ca: String,
}

impl TestPki {
    pub fn make() -> TestPki {
        let dir = temp_dir("pki");
        let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl").args(args).current_dir(&dir).output().unwrap_or_else(|e| {
                panic!("cannot run openssl ({e}): run `cargo xtask setup` (or `apt-get install -y openssl`)")
            });
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        for (name, subject) in [("ca", "/CN=clipcloud test CA"), ("other-ca", "/CN=some other CA")] {
            let (key_out, cert_out) = (format!("{name}.key"), format!("{name}.pem"));
            let files = ["-keyout", &key_out, "-out", &cert_out, "-days", "2", "-subj", subject];
            openssl(&[&["req", "-x509"], &key[..], &files[..]].concat());
        }
        openssl(
            &[&["req"], &key[..], &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]]
                .concat(),
        );
        std::fs::write(
            dir.join("server.ext"),
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nkeyUsage=digitalSignature\n\
             extendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ]);
        TestPki {
            ca: path("ca.pem"),
            server_cert: path("server.pem"),
            server_key: path("server.key"),
            other_ca: path("other-ca.pem"),
        }
    }
}

/// Operator-key settings as the command line gives them, in front of `upstream`, with the
/// key in a file, a fresh ledger, no access log, a page to load (where visitors get their
/// cookie), and `127.0.0.1` as a trusted proxy (so tests can speak for many client
/// addresses with `X-Forwarded-For`).
pub fn operator(upstream: &str, key: &str, extra: &[&str]) -> (Config, String) {
    let ledger = temp_dir("ledger").join("ledger.sqlite3").to_string_lossy().into_owned();
    let key_file = secret_file("key", key);
    let site = temp_dir("site");
    let page = "<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" \
                content=\"default-src 'self'\"></head><body></body></html>";
    std::fs::write(site.join("index.html"), page).unwrap();
    let site = site.to_string_lossy().into_owned();
    let mut args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        upstream,
        "--key-file",
        &key_file,
        "--ledger",
        &ledger,
        "--log-format",
        "off",
        "--trust-proxy",
        "127.0.0.1",
        "--allow-origin",
        "https://blog.example",
        "--header-timeout",
        "2",
        "--static-dir",
        &site,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    (config::parse(args).expect("settings"), ledger)
}

/// For the tests written when every image was reserved at 1.1: the emulator's price of a
/// `standard` image as the most an image may cost (so no create reserves more).
pub const ONE_PRICE: &[&str] = &["--max-price-per-image", "1.1"];
/// For the tests of the global caps: one address may spend all of them.
pub const WHOLE_CAP: &[&str] = &["--address-share", "100"];

/// A visitor speaking through the trusted proxy from its own address, with its cookie once
/// the gateway has given one.
pub struct Visitor {
    pub forwarded_for: String,
    pub cookie: Option<String>,
}

impl Visitor {
    pub fn from(ip: &str) -> Self {
        Self { forwarded_for: format!("X-Forwarded-For: {ip}"), cookie: None }
    }

    pub fn send(&mut self, addr: SocketAddr, method: &str, target: &str, body: Option<&str>) -> Answer {
        let cookie = self.cookie.as_ref().map(|c| format!("Cookie: {c}"));
        let mut headers = vec![self.forwarded_for.as_str()];
        headers.extend(cookie.as_deref());
        let answer = request(addr, method, target, &headers, body);
        if let Some(set) = answer.header("set-cookie") {
            self.cookie = set.split(';').next().map(str::to_owned);
        }
        answer
    }

    /// The app's page, as a browser loads it first: the visitor's cookie comes with it.
    pub fn load_page(&mut self, addr: SocketAddr) -> Answer {
        self.send(addr, "GET", "/", None)
    }

    pub fn create(&mut self, addr: SocketAddr) -> Answer {
        self.send(addr, "POST", "/api/creation", Some(r#"{"prompt":"a red apple","styleName":"standard"}"#))
    }
}

pub fn wait_done(visitor: &mut Visitor, addr: SocketAddr, id: &str) -> Answer {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let check = visitor.send(addr, "GET", &format!("/api/creation/{id}"), None);
        assert_eq!(check.status, 200, "{check:?}");
        if check.json()["results"].is_array() {
            return check;
        }
        assert!(Instant::now() < deadline, "never finished");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A fresh emulator key whose creations take `delay_ms`.
pub fn key_taking(emulator: &clipcloud_emulator::Emulator, delay_ms: u64) -> String {
    let answer =
        post(emulator.addr(), "/emulator/keys", &format!(r#"{{"balance": 50, "delay_ms": {delay_ms}}}"#));
    answer.json()["apikey"].as_str().expect("a key").to_owned()
}

/// The emulator's count of checks of `id` (what reached the service).
pub fn upstream_checks(emulator: &clipcloud_emulator::Emulator, key: &str, id: &str) -> usize {
    let answer = get(emulator.addr(), &format!("/emulator/creations?apikey={key}"));
    let creations = answer.json()["creations"].as_array().cloned().unwrap_or_default();
    let creation = creations.iter().find(|c| c["creation_id"] == id).expect("the creation");
    creation["checks_ms"].as_array().map_or(0, Vec::len)
}

pub fn holds(gateway: SocketAddr) -> serde_json::Value {
    get(gateway, "/healthz").json()["holds"].clone()
}

/// Waits (at most 20 s) until `holds` says what `done` wants: state, never timing.
pub fn until(gateway: SocketAddr, what: &str, done: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let now = holds(gateway);
        if done(&now) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: still {now}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The built `clipcloud-gateway` binary, started with `--listen 127.0.0.1:0` and these
/// settings; its stderr (the access log) in a file; killed on drop.
pub struct GatewayProcess {
    child: Child,
    pub addr: SocketAddr,
    log: std::path::PathBuf,
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GatewayProcess {
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        let log = temp_dir("log").join("stderr.log");
        let mut child = Command::new(env!("CARGO_BIN_EXE_clipcloud-gateway"))
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start the gateway");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let addr = first
            .strip_prefix("clipcloud-gateway listening on http://")
            .unwrap_or_else(|| {
                panic!("first line: {first:?}; log: {}", std::fs::read_to_string(&log).unwrap_or_default())
            })
            .parse()
            .unwrap();
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, addr, log }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap()
    }

    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// The file descriptors it has open now (Linux): its sockets among them.
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id())).map(|dir| dir.count()).unwrap_or(0)
    }

    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
        self.child.wait().unwrap()
    }
}
