//! Fault injection: each fault's answer, per-key plans, and the counts the chaos test
//! relies on. In-process through the router, except the faults that need a real socket
//! and real time (a dropped connection, a slow answer).

mod common;

use clipcloud_emulator::faults::Fault;
use clipcloud_emulator::FaultPlan;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn forced(app: &App, fault: &str) -> Response {
    app.request("GET", "/api/balance?apikey=demo-key", &[("x-emulator-fault", fault)], b"").await
}

#[tokio::test]
async fn each_forced_fault_answers_as_described() {
    let app = App::new();
    for (fault, status) in [("500", 500), ("502", 502), ("503", 503), ("429", 429)] {
        let r = forced(&app, fault).await;
        assert_eq!(r.status, status, "{fault}");
        assert_eq!(r.json()["success"], json!(false));
        assert_eq!(r.header("access-control-allow-origin"), Some("*"), "faults carry CORS headers");
        let retry_after = if matches!(status, 503 | 429) { Some("1") } else { None };
        assert_eq!(r.header("retry-after"), retry_after, "{fault}");
    }
    let truncated = forced(&app, "truncated").await;
    assert_eq!(truncated.status, 200);
    assert!(serde_json::from_slice::<Value>(&truncated.body).is_err());
    let html = forced(&app, "html").await;
    assert_eq!((html.status, html.header("content-type")), (200, Some("text/html; charset=utf-8")));
    assert!(html.text().starts_with("<!DOCTYPE html>"));
    let plain = forced(&app, "content-type").await;
    assert_eq!(plain.header("content-type"), Some("text/plain; charset=utf-8"));
    // The query knob works too.
    assert_eq!(app.get("/api/balance?apikey=demo-key&emulator_fault=502").await.status, 502);
}

/// Sends a request over a real socket and reads whatever comes back, even a connection
/// cut short.
async fn send_raw(app: &App, method: &str, target: &str, fault: &str, body: &str) -> String {
    let addr = app.addr();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {addr}\r\nx-emulator-fault: {fault}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw)).await;
    assert!(read.is_ok(), "the connection stayed open");
    String::from_utf8_lossy(&raw).into_owned()
}

#[tokio::test]
async fn a_dropped_connection_sends_no_complete_answer() {
    let app = App::served(config());
    let text = send_raw(&app, "GET", "/api/balance?apikey=demo-key", "drop", "").await;
    // Either nothing at all, or a head whose body never completes (no terminating chunk).
    assert!(!text.contains("\"balance\"") && !text.ends_with("0\r\n\r\n"), "{text:?}");
}

#[tokio::test]
async fn an_injected_fault_never_starts_a_creation() {
    let app = App::served(config());
    let key = app.fresh_key(10.0).await;
    let body = r#"{"prompt":"a cat","styleName":"standard"}"#;
    for fault in ["500", "drop", "truncated"] {
        send_raw(&app, "POST", &format!("/api/creation?apikey={key}"), fault, body).await;
    }
    let stats = app.stats(&key).await;
    assert_eq!(stats["creates"], json!(0));
    assert_eq!(stats["balance"], json!(10.0));
    assert_eq!(stats["faults"], json!({"500": 1, "drop": 1, "truncated": 1}));
}

#[tokio::test]
async fn slow_answers_come_late_but_complete() {
    let mut config = config();
    config.faults = FaultPlan { slow: Duration::from_millis(300), ..FaultPlan::default() };
    let app = App::served(config);
    let started = Instant::now();
    let r = forced(&app, "slow").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(r.json()["balance"], json!(100.0));
}

#[tokio::test]
async fn a_key_with_its_own_plan_meets_faults_others_do_not() {
    let app = App::new();
    let faulty = app.key_with(r#"{"balance":10,"faults":{"rate":1.0,"kinds":["503"]}}"#).await;
    let calm = app.fresh_key(10.0).await;
    for _ in 0..5 {
        assert_eq!(app.get(&format!("/api/balance?apikey={faulty}")).await.status, 503);
        assert_eq!(app.get(&format!("/api/balance?apikey={calm}")).await.status, 200);
    }
    // Stats themselves are never faulted.
    assert_eq!(app.stats(&faulty).await["faults"], json!({"503": 5}));
    let bad = app.post_json("/emulator/keys", r#"{"faults":{"rate":2}}"#).await;
    assert_eq!(bad.status, 400);
    let bad = app.post_json("/emulator/keys", r#"{"faults":{"kinds":["teapot"]}}"#).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_global_rate_hits_about_that_share_of_api_calls() {
    let mut config = config();
    config.faults = FaultPlan { rate: 0.3, kinds: vec![Fault::Status(500)], ..FaultPlan::default() };
    let app = App::with(config);
    let mut failed = 0;
    for _ in 0..200 {
        failed += usize::from(app.get("/api/balance?apikey=demo-key").await.status == 500);
    }
    assert!((30..=90).contains(&failed), "{failed} of 200");
}

#[tokio::test]
async fn expired_images_answer_404() {
    let app = App::new();
    let key = app.key_with(r#"{"balance":10,"faults":{"rate":1.0,"kinds":["expired-image"]}}"#).await;
    let id = app.create(&key, 0, r#"{"prompt":"a cat","styleName":"standard"}"#).await;
    let done = app.check(&key, &id).await;
    let url = done["results"][0].as_str().unwrap().to_owned();
    assert_eq!(app.get(path_of(&url)).await.status, 404);
}

#[tokio::test]
async fn duplicate_creates_are_counted() {
    let app = App::new();
    let key = app.fresh_key(10.0).await;
    app.create(&key, 0, r#"{"prompt":"one","styleName":"standard"}"#).await;
    app.create(&key, 0, r#"{"prompt":"two","styleName":"standard"}"#).await;
    app.create(&key, 0, r#"{"prompt":"one","styleName":"standard"}"#).await;
    let stats = app.stats(&key).await;
    assert_eq!((stats["creates"].clone(), stats["duplicate_creates"].clone()), (json!(3), json!(1)));
    assert_eq!(app.get("/emulator/stats?apikey=nope").await.status, 401);
}

#[tokio::test]
async fn a_key_gets_a_plan_later_and_unknown_keys_none() {
    let app = App::new();
    let key = app.fresh_key(10.0).await;
    let plan_of_key = format!("/emulator/faults?apikey={key}");
    assert_eq!(app.get(&format!("/api/balance?apikey={key}")).await.status, 200);
    let r = app.post_json(&plan_of_key, r#"{"rate":1,"kinds":["502"]}"#).await;
    assert_eq!((r.status, r.json()), (200, json!({"success": true})));
    assert_eq!(app.get(&format!("/api/balance?apikey={key}")).await.status, 502);
    // Others keep theirs (none here).
    assert_eq!(app.get("/api/balance?apikey=demo-key").await.status, 200);
    for target in ["/emulator/faults?apikey=nope", "/emulator/faults"] {
        let r = app.post_json(target, r#"{"rate":1}"#).await;
        assert_eq!((r.status, r.json()["message"].as_str()), (401, Some("unknown API key")), "{target}");
    }
    assert_eq!(app.post_json(&plan_of_key, r#"{"rate":2}"#).await.status, 400);
}
