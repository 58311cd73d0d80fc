//! Fault injection over real HTTP: each fault's answer, per-key plans, and the counts
//! the chaos test relies on.

mod common;

use clipcloud_emulator::{Config, FaultPlan};
use common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn forced(addr: std::net::SocketAddr, fault: &str) -> Response {
    request(addr, "GET", "/api/balance?apikey=demo-key", &[("x-emulator-fault", fault)], b"")
}

#[test]
fn each_forced_fault_answers_as_described() {
    let emu = emulator();
    for (fault, status) in [("500", 500), ("502", 502), ("503", 503), ("429", 429)] {
        let r = forced(emu.addr(), fault);
        assert_eq!(r.status, status, "{fault}");
        assert_eq!(r.json()["success"], json!(false));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "faults carry CORS headers");
        let retry_after = if matches!(status, 503 | 429) { Some("1") } else { None };
        assert_eq!(r.header("retry-after"), retry_after, "{fault}");
    }
    let truncated = forced(emu.addr(), "truncated");
    assert_eq!(truncated.status, 200);
    assert!(serde_json::from_slice::<Value>(&truncated.body).is_err());
    let html = forced(emu.addr(), "html");
    assert_eq!((html.status, html.header("content-type")), (200, Some("text/html; charset=utf-8")));
    assert!(html.text().starts_with("<!DOCTYPE html>"));
    let plain = forced(emu.addr(), "content-type");
    assert_eq!(plain.header("content-type"), Some("text/plain; charset=utf-8"));
    // The query knob works too.
    assert_eq!(get(emu.addr(), "/api/balance?apikey=demo-key&emulator_fault=502").status, 502);
}

/// Sends a request and reads whatever comes back, even a connection cut short.
fn send_raw(addr: std::net::SocketAddr, method: &str, target: &str, fault: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nx-emulator-fault: {fault}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    String::from_utf8_lossy(&raw).into_owned()
}

#[test]
fn a_dropped_connection_sends_no_complete_answer() {
    let emu = emulator();
    let text = send_raw(emu.addr(), "GET", "/api/balance?apikey=demo-key", "drop", "");
    // Either nothing at all, or a head whose body never completes (no terminating chunk).
    assert!(!text.contains("\"balance\"") && !text.ends_with("0\r\n\r\n"), "{text:?}");
}

#[test]
fn an_injected_fault_never_starts_a_creation() {
    let emu = emulator();
    let key = fresh_key(emu.addr(), 10.0);
    let body = r#"{"prompt":"a cat","styleName":"standard"}"#;
    for fault in ["500", "drop", "truncated"] {
        send_raw(emu.addr(), "POST", &format!("/api/creation?apikey={key}"), fault, body);
    }
    let stats = get(emu.addr(), &format!("/emulator/stats?apikey={key}")).json();
    assert_eq!(stats["creates"], json!(0));
    assert_eq!(stats["balance"], json!(10.0));
    assert_eq!(stats["faults"], json!({"500": 1, "drop": 1, "truncated": 1}));
}

#[test]
fn slow_answers_come_late_but_complete() {
    let mut config = Config { port: 0, ..Config::default() };
    config.faults = FaultPlan { slow: Duration::from_millis(300), ..FaultPlan::default() };
    let emu = emulator_with(config);
    let started = Instant::now();
    let r = forced(emu.addr(), "slow");
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.json()["balance"], json!(100.0));
}

#[test]
fn a_key_with_its_own_plan_meets_faults_others_do_not() {
    let emu = emulator();
    let plan = r#"{"balance":10,"faults":{"rate":1.0,"kinds":["503"]}}"#;
    let faulty = post_json(emu.addr(), "/emulator/keys", plan).json()["apikey"].as_str().unwrap().to_owned();
    let calm = fresh_key(emu.addr(), 10.0);
    for _ in 0..5 {
        assert_eq!(get(emu.addr(), &format!("/api/balance?apikey={faulty}")).status, 503);
        assert_eq!(get(emu.addr(), &format!("/api/balance?apikey={calm}")).status, 200);
    }
    // Stats themselves are never faulted.
    let stats = get(emu.addr(), &format!("/emulator/stats?apikey={faulty}")).json();
    assert_eq!(stats["faults"], json!({"503": 5}));
    let bad = post_json(emu.addr(), "/emulator/keys", r#"{"faults":{"rate":2}}"#);
    assert_eq!(bad.status, 400);
    let bad = post_json(emu.addr(), "/emulator/keys", r#"{"faults":{"kinds":["teapot"]}}"#);
    assert_eq!(bad.status, 400);
}

#[test]
fn a_global_rate_hits_about_that_share_of_api_calls() {
    let mut config = Config { port: 0, ..Config::default() };
    config.faults = FaultPlan {
        rate: 0.3,
        kinds: vec![clipcloud_emulator::faults::Fault::Status(500)],
        ..FaultPlan::default()
    };
    let emu = emulator_with(config);
    let failed = (0..200).filter(|_| get(emu.addr(), "/api/balance?apikey=demo-key").status == 500).count();
    assert!((30..=90).contains(&failed), "{failed} of 200");
}

#[test]
fn expired_images_answer_404() {
    let emu = emulator();
    let plan = r#"{"balance":10,"faults":{"rate":1.0,"kinds":["expired-image"]}}"#;
    let key = post_json(emu.addr(), "/emulator/keys", plan).json()["apikey"].as_str().unwrap().to_owned();
    let id = create(emu.addr(), &key, 0, r#"{"prompt":"a cat","styleName":"standard"}"#);
    let done = get(emu.addr(), &format!("/api/creation/{id}?apikey={key}")).json();
    let url = done["results"][0].as_str().unwrap().to_owned();
    assert_eq!(get(emu.addr(), path_of(&url)).status, 404);
}

#[test]
fn duplicate_creates_are_counted() {
    let emu = emulator();
    let key = fresh_key(emu.addr(), 10.0);
    create(emu.addr(), &key, 0, r#"{"prompt":"one","styleName":"standard"}"#);
    create(emu.addr(), &key, 0, r#"{"prompt":"two","styleName":"standard"}"#);
    create(emu.addr(), &key, 0, r#"{"prompt":"one","styleName":"standard"}"#);
    let stats = get(emu.addr(), &format!("/emulator/stats?apikey={key}")).json();
    assert_eq!((stats["creates"].clone(), stats["duplicate_creates"].clone()), (json!(3), json!(1)));
    assert_eq!(get(emu.addr(), "/emulator/stats?apikey=nope").status, 401);
}
