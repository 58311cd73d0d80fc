//! The gateway over real sockets in relay mode (visitors bring their own key): the four
//! calls reach the emulator; nothing else reaches any upstream; answers carry no secret;
//! sizes and times are bounded.

mod common;

use clipcloud_gateway::Running;
use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[test]
fn the_four_calls_reach_the_service_with_the_visitors_key() {
    let emulator = emulator(300);
    let key = fresh_key(&emulator, 10.0);
    let gateway = Running::start(relay_config(&emulator.base_url())).unwrap();
    let addr = gateway.addr();

    let balance = get(addr, &format!("/api/balance?apikey={key}"));
    assert_eq!((balance.status, balance.json()["balance"].as_f64()), (200, Some(10.0)), "{balance:?}");
    assert_eq!(balance.header("cache-control").as_deref(), Some("no-store"));
    assert!(get(addr, &format!("/api/styles?apikey={key}")).json()["styles"].is_array());

    let created = post(
        addr,
        &format!("/api/creation?apikey={key}"),
        r#"{"prompt":"a red apple","styleName":"standard"}"#,
    );
    assert_eq!(created.status, 200, "{created:?}");
    let id = created.json()["creation_id"].as_str().unwrap().to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let check = get(addr, &format!("/api/creation/{id}?apikey={key}"));
        assert_eq!(check.status, 200, "{check:?}");
        if check.json()["results"].is_array() {
            break check;
        }
        assert!(Instant::now() < deadline, "never finished");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done.json()["cost"].as_f64(), Some(1.1));

    // The image link points at the gateway, which relays the emulator's image unchanged.
    let link = done.json()["results"][0].as_str().unwrap().to_owned();
    let name = link.strip_prefix(&format!("http://{addr}/images/")).unwrap_or_else(|| panic!("{link}"));
    let relayed = get(addr, &format!("/images/{name}"));
    let direct = get(emulator.addr(), &format!("/images/{name}"));
    assert_eq!((relayed.status, relayed.header("content-type").as_deref()), (200, Some("image/webp")));
    assert!(relayed.body.len() > 100 && relayed.body == direct.body, "the same image");
    for bad in ["/images/..%2Fapi%2Fbalance.webp", "/images/x.exe", "/images/a/b.webp", "/images/%FF.webp"] {
        let refused = get(addr, bad);
        assert_eq!(refused.status, 404, "{bad}");
        assert_eq!(refused.header("content-type").as_deref(), Some("application/json"), "{bad}");
    }
    assert_eq!(request(addr, "POST", &format!("/images/{name}"), &[], Some("{}")).status, 405);

    let no_key = get(addr, "/api/balance");
    assert_eq!(no_key.status, 401);
    assert!(no_key.message().contains("API key is needed"), "{no_key:?}");
}

#[test]
fn images_over_the_size_cap_are_not_relayed() {
    let emulator = emulator(0);
    let key = fresh_key(&emulator, 10.0);
    let mut config = relay_config(&emulator.base_url());
    config.limits.max_image_bytes = 64;
    let gateway = Running::start(config).unwrap();
    let created = post(
        gateway.addr(),
        &format!("/api/creation?apikey={key}"),
        r#"{"prompt":"a","styleName":"standard"}"#,
    );
    let id = created.json()["creation_id"].as_str().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(100));
    let done = get(gateway.addr(), &format!("/api/creation/{id}?apikey={key}")).json();
    let link = done["results"][0].as_str().expect("finished").to_owned();
    let path = &link[link.find("/images/").unwrap()..];
    let answer = get(gateway.addr(), path);
    assert!(answer.status == 502 || answer.body.len() <= 64, "{}", answer.head);
}

#[test]
fn nothing_but_the_four_calls_goes_upstream() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"balance":1}"#);
    let gateway = Running::start(relay_config(&upstream.url)).unwrap();
    let addr = gateway.addr();
    let refused = [
        ("GET", "/api/../../x?apikey=k"),
        ("GET", "/api/%2e%2e/%2e%2e/x?apikey=k"),
        ("GET", "/api/creation/..;/x?apikey=k"),
        ("GET", "/api/creation/..%3B/balance?apikey=k"),
        ("GET", "/api/creation/a%2F..%2Fb?apikey=k"),
        ("GET", "/api\\..\\balance?apikey=k"),
        ("GET", "//evil.example/api/balance?apikey=k"),
        ("GET", "http://evil.example/api/balance?apikey=k"),
        ("GET", "http://127.0.0.1:1/api/balance?apikey=k"),
        ("DELETE", "/api/creation/abc?apikey=k"),
        ("PUT", "/api/balance?apikey=k"),
        ("POST", "/api/balance?apikey=k"),
        ("GET", "/api/admin?apikey=k"),
        ("GET", "/emulator/keys"),
        ("GET", "/images/../api/balance"),
        ("CONNECT", "evil.example:443"),
    ];
    for (method, target) in refused {
        let answer = request(addr, method, target, &[], None);
        assert!((400..500).contains(&answer.status), "{method} {target}: {answer:?}");
    }
    assert!(upstream.seen().is_empty(), "reached the upstream: {:?}", upstream.seen());
    // The allowed ones do, with exactly one key parameter and nothing else of the query.
    let answer = get(addr, "/api/balance?apikey=k1&x-emulator-fault=500&emulator_fault=drop&callback=evil");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(upstream.seen(), ["GET /api/balance?apikey=k1"]);
}

#[test]
fn fault_injection_headers_are_not_forwarded() {
    let emulator = emulator(300);
    let key = fresh_key(&emulator, 10.0);
    let gateway = Running::start(relay_config(&emulator.base_url())).unwrap();
    let direct = request(
        emulator.addr(),
        "GET",
        &format!("/api/balance?apikey={key}"),
        &["x-emulator-fault: 500"],
        None,
    );
    assert_eq!(direct.status, 500, "the header does inject a fault when sent straight to the emulator");
    let relayed = request(
        gateway.addr(),
        "GET",
        &format!("/api/balance?apikey={key}"),
        &["x-emulator-fault: 500"],
        None,
    );
    assert_eq!(relayed.status, 200, "{relayed:?}");
}

#[test]
fn an_echoing_upstream_echoes_no_key() {
    let upstream = Recorder::start(500, "text/html", "<h1>error at {target}</h1>");
    let gateway = Running::start(relay_config(&upstream.url)).unwrap();
    let answer = get(gateway.addr(), "/api/balance?apikey=sk-live-123456");
    assert_eq!(answer.status, 500);
    assert!(!answer.head.contains("sk-live") && !answer.body.contains("sk-live"), "{answer:?}");
    assert_eq!(answer.message(), "Internal server error", "the status's meaning, not the page");
    assert!(!answer.body.contains(&upstream.url[7..]), "names the upstream: {answer:?}");

    let json_echo =
        Recorder::start(400, "application/json", r#"{"success":false,"message":"bad key in {target}"}"#);
    let gateway = Running::start(relay_config(&json_echo.url)).unwrap();
    let answer = get(gateway.addr(), "/api/balance?apikey=sk-live-123456");
    assert_eq!(answer.status, 400);
    assert!(!answer.body.contains("sk-live") && answer.body.contains("[redacted]"), "{answer:?}");
}

#[test]
fn an_unreachable_upstream_is_named_by_nobody() {
    // A port nobody listens on, with credentials in the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let gateway = Running::start(relay_config(&format!("http://user:hunter2@{closed}"))).unwrap();
    let answer = get(gateway.addr(), "/api/balance?apikey=k");
    assert_eq!(answer.status, 503, "{answer:?}");
    assert!(answer.header("retry-after").is_some(), "not sent: the client may retry");
    for secret in ["hunter2", "user:", &closed.port().to_string()] {
        assert!(!answer.body.contains(secret), "{secret}: {answer:?}");
    }
}

#[test]
fn large_bodies_get_413_not_a_maybe_charged_5xx() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"creation_id":"x"}"#);
    let gateway = Running::start(relay_config(&upstream.url)).unwrap();
    let prompt = "a".repeat(70_000);
    let answer = post(
        gateway.addr(),
        "/api/creation?apikey=k",
        &format!(r#"{{"prompt":"{prompt}","styleName":"standard"}}"#),
    );
    assert_eq!(answer.status, 413, "{}", answer.head);
    // Sent without a length (chunked), it is cut off the same way.
    let mut text = String::from("POST /api/creation?apikey=k HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    for _ in 0..40 {
        text.push_str(&format!("800\r\n{}\r\n", "a".repeat(0x800)));
    }
    text.push_str("0\r\n\r\n");
    assert_eq!(raw(gateway.addr(), text.as_bytes()).status, 413);
    let wrong_type = request(
        gateway.addr(),
        "POST",
        "/api/creation?apikey=k",
        &["Content-Type: text/plain", "Content-Length: 2"],
        None,
    );
    assert!(matches!(wrong_type.status, 400 | 408 | 415), "{wrong_type:?}");
    let invalid =
        post(gateway.addr(), "/api/creation?apikey=k", r#"{"prompt":"a","styleName":"standard","count":9}"#);
    assert_eq!(invalid.status, 400, "{invalid:?}");
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
    // The core reads 413 as a refusal of bad input: nothing was started.
    let read = clipcloud::server::create_outcome(&clipcloud::codec::HttpResponse {
        status: 413,
        retry_after: None,
        body: answer.body.clone(),
        received_unix_secs: 0,
    });
    assert_eq!(read, clipcloud::server::CreateOutcome::Refused);
}

#[test]
fn slow_and_idle_clients_are_cut_off() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"balance":1}"#);
    let gateway = Running::start(relay_config(&upstream.url)).unwrap();
    let started = Instant::now();
    // Half a request line, then nothing; a whole request's headers but half its body; and a
    // connection that never sends a byte.
    let mut half_head = TcpStream::connect(gateway.addr()).unwrap();
    half_head.write_all(b"GET /api/balance?apikey=k HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut half_body = TcpStream::connect(gateway.addr()).unwrap();
    half_body
        .write_all(b"POST /api/creation?apikey=k HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"prompt\":")
        .unwrap();
    let mut silent = TcpStream::connect(gateway.addr()).unwrap();
    for stream in [&mut half_head, &mut half_body, &mut silent] {
        stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    // The test config allows 2 s for headers and bodies: all three are closed long before
    // the 15 s this test would wait.
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(upstream.seen().is_empty());
}

#[test]
fn serves_the_openapi_document_without_a_key_or_an_upstream_call() {
    let upstream = Recorder::start(200, "application/json", "{}");
    let gateway = Running::start(relay_config(&upstream.url)).unwrap();
    let answer = get(gateway.addr(), "/openapi.json");
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.header("content-type").as_deref(), Some("application/json"));
    assert_eq!(answer.body, clipcloud::openapi::OPENAPI);
    assert_eq!(answer.json()["paths"]["/gateway/info"]["get"]["tags"][0], "gateway");
    assert!(upstream.seen().is_empty(), "{:?}", upstream.seen());
}
