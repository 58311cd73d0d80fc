//! The core's `Client` natively (feature `native`: hyper, tokio timers) against the real
//! emulator and through the gateway: the same operations as in the browser, held checks
//! when the gateway offers them, and a call's abort handle and time limit.

mod common;

use clipcloud::native::NativeTransport;
use clipcloud::{Abort, CallOptions, Client, Config, ErrorCode, StyleRequest, Transport};
use clipcloud_gateway::Running;
use common::*;
use std::time::Duration;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

fn key_taking(emulator: &clipcloud_emulator::Emulator, delay_ms: u64) -> String {
    let answer =
        post(emulator.addr(), "/emulator/keys", &format!(r#"{{"balance": 50, "delay_ms": {delay_ms}}}"#));
    answer.json()["apikey"].as_str().expect("a key").to_owned()
}

#[test]
fn generate_runs_natively_on_a_multithreaded_runtime() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 700);
    let client = std::sync::Arc::new(Client::new(Config::new(key).base_url(emulator.base_url())).unwrap());
    let done = runtime().block_on(async {
        // Spawned: the client's futures are Send.
        let client = client.clone();
        tokio::spawn(
            async move { client.generate(StyleRequest::new("a red apple", "standard"), |_| {}).await },
        )
        .await
        .unwrap()
    });
    let done = done.unwrap();
    assert_eq!(done.images.len(), 1);
    assert!(done.images[0].starts_with(&emulator.base_url()), "{done:?}");
}

#[test]
fn through_a_gateway_that_offers_holds_one_check_is_enough() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 1_500);
    let gateway = Running::start(relay_config(&emulator.base_url())).unwrap();
    let client = Client::new(Config::new(key).base_url(gateway.url())).unwrap();
    let (reports, done) = runtime().block_on(async {
        let transport = NativeTransport::new();
        let info = transport
            .send(&clipcloud::gateway::info_request(&gateway.url()), Duration::from_secs(5))
            .await
            .unwrap();
        let info = clipcloud::gateway::decode_info(&info).expect("a gateway");
        client.set_hold(info.config_hold());
        // A gateway takes the key in `Authorization` (relay mode needs one): in no URL.
        client.set_key_as_bearer(true);
        let mut reports = Vec::new();
        let done =
            client.generate(StyleRequest::new("a red apple", "standard"), |p| reports.push(p.checks)).await;
        (reports, done)
    });
    assert!(done.is_ok(), "{done:?}");
    // Reported once accepted, and never again: the first (held) check brought the images.
    assert_eq!(reports, [0]);
}

#[test]
fn an_abort_and_a_time_limit_end_a_wait() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 600_000);
    let client = Client::new(Config::new(&key).base_url(emulator.base_url())).unwrap();
    let rt = runtime();
    let id = rt.block_on(client.create(StyleRequest::new("a red apple", "standard"))).unwrap();
    let abort = Abort::new();
    let options = CallOptions::new().abort(&abort);
    let err = rt.block_on(async {
        let later = abort.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            later.abort();
        });
        client.wait_with(&id, &options, |_| {}).await
    });
    assert_eq!(err.unwrap_err().code(), ErrorCode::Aborted);
    let options = CallOptions::new().time_limit(Duration::from_millis(800));
    let err = rt.block_on(client.wait_with(&id, &options, |_| {})).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err:?}");
    assert!(!err.to_string().contains(&key), "{err}");
}

#[test]
fn a_network_failure_is_an_error_without_the_key() {
    let client = Client::new(Config::new("secret-key-1").base_url("http://127.0.0.1:9")).unwrap();
    let err = runtime().block_on(client.balance()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::Network, "{err:?}");
    assert!(!format!("{err} {err:?}").contains("secret-key-1"), "{err:?}");
}
