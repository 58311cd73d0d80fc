//! What the benchmark relies on: per-key generation times, each creation's timeline
//! (`GET /emulator/creations`) and the peak of requests in flight (`GET /emulator/stats`).

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn key_with(addr: std::net::SocketAddr, body: &str) -> String {
    let r = post_json(addr, "/emulator/keys", body);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["apikey"].as_str().unwrap().to_owned()
}

/// Creates without overriding the generation time.
fn create_plain(addr: std::net::SocketAddr, key: &str, prompt: &str) -> String {
    let body = format!(r#"{{"prompt":"{prompt}","styleName":"standard"}}"#);
    let r = post_json(addr, &format!("/api/creation?apikey={key}"), &body);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["creation_id"].as_str().unwrap().to_owned()
}

fn creations(addr: std::net::SocketAddr, key: &str) -> Vec<Value> {
    let r = get(addr, &format!("/emulator/creations?apikey={key}"));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["creations"].as_array().unwrap().clone()
}

#[test]
fn a_key_has_its_own_fixed_generation_time() {
    let emu = emulator(); // 1 s for other keys
    let key = key_with(emu.addr(), r#"{"balance": 10, "delay_ms": 0}"#);
    let id = create_plain(emu.addr(), &key, "a cat");
    let r = get(emu.addr(), &format!("/api/creation/{id}?apikey={key}"));
    assert_eq!(r.json()["message"], json!("Images processed succesfully"), "{}", r.text());
    // The query parameter still wins.
    let id = create(emu.addr(), &key, 60_000, r#"{"prompt":"a dog","styleName":"standard"}"#);
    let r = get(emu.addr(), &format!("/api/creation/{id}?apikey={key}"));
    assert_eq!(r.json()["message"], json!("In progress"));
    // Other keys keep --delay-ms.
    let other = fresh_key(emu.addr(), 10.0);
    let id = create_plain(emu.addr(), &other, "a cow");
    assert_eq!(
        get(emu.addr(), &format!("/api/creation/{id}?apikey={other}")).json()["message"],
        json!("In progress")
    );
}

#[test]
fn a_range_is_drawn_per_creation_and_deterministic() {
    let draws = |emu: &clipcloud_emulator::Emulator| {
        let key = key_with(emu.addr(), r#"{"balance": 100, "delay_ms": {"min": 500, "max": 30000}}"#);
        for i in 0..12 {
            create_plain(emu.addr(), &key, &format!("cat {i}"));
        }
        creations(emu.addr(), &key)
            .iter()
            .map(|c| c["ready_ms"].as_u64().unwrap() - c["created_ms"].as_u64().unwrap())
            .collect::<Vec<u64>>()
    };
    let first = draws(&emulator());
    assert_eq!(first.len(), 12);
    assert!(first.iter().all(|d| (500..=30_000).contains(d)), "{first:?}");
    assert!(first.iter().any(|d| *d != first[0]), "a range should vary: {first:?}");
    // Same seed, same key order: the same times.
    assert_eq!(draws(&emulator()), first);
}

#[test]
fn bad_delay_plans_are_refused() {
    let emu = emulator();
    for body in [
        r#"{"delay_ms": -1}"#,
        r#"{"delay_ms": "2s"}"#,
        r#"{"delay_ms": {"min": 3000, "max": 1000}}"#,
        r#"{"delay_ms": {"min": 1000}}"#,
        r#"{"delay_ms": 100000000000}"#,
    ] {
        let r = post_json(emu.addr(), "/emulator/keys", body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(r.json()["message"].as_str().unwrap().contains("delay_ms"), "{}", r.text());
    }
}

#[test]
fn creations_list_created_ready_and_every_check_in_unix_ms() {
    let emu = emulator();
    let key = key_with(emu.addr(), r#"{"balance": 10, "delay_ms": 300}"#);
    assert_eq!(
        get(emu.addr(), &format!("/emulator/creations?apikey={key}")).json(),
        json!({"creations": []})
    );
    let before = unix_ms();
    let id = create_plain(emu.addr(), &key, "a lighthouse");
    let check = || get(emu.addr(), &format!("/api/creation/{id}?apikey={key}")).json()["message"].clone();
    assert_eq!(check(), json!("In progress"));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(check(), json!("Images processed succesfully"));
    let after = unix_ms();

    let list = creations(emu.addr(), &key);
    assert_eq!(list.len(), 1);
    let c = &list[0];
    let fields: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["checks_ms", "created_ms", "creation_id", "ready_ms"]);
    assert_eq!(c["creation_id"], json!(id));
    let created = c["created_ms"].as_u64().unwrap();
    // Whole ms on both sides: allow one for rounding.
    assert!((before - 1..=after + 1).contains(&created), "{before} <= {created} <= {after}");
    assert_eq!(c["ready_ms"].as_u64().unwrap(), created + 300);
    let checks: Vec<u64> = c["checks_ms"].as_array().unwrap().iter().map(|t| t.as_u64().unwrap()).collect();
    assert_eq!(checks.len(), 2);
    assert!(checks[0] < created + 300 && checks[1] >= created + 300 && checks[1] <= after + 1, "{checks:?}");

    // Another key's or a bad key: nothing of this key's.
    let other = fresh_key(emu.addr(), 10.0);
    assert_eq!(
        get(emu.addr(), &format!("/emulator/creations?apikey={other}")).json(),
        json!({"creations": []})
    );
    assert_eq!(get(emu.addr(), "/emulator/creations?apikey=nope").status, 401);
}

#[test]
fn stats_report_the_peak_of_requests_in_flight() {
    // Slow answers keep requests in flight; three at once from three threads.
    let mut config = clipcloud_emulator::Config { port: 0, log_requests: false, ..Default::default() };
    config.faults.slow = Duration::from_millis(500);
    let emu = emulator_with(config);
    let key = fresh_key(emu.addr(), 10.0);
    let stats = || get(emu.addr(), &format!("/emulator/stats?apikey={key}")).json();
    // The stats request itself is in flight while it is answered.
    assert_eq!(stats()["peak_in_flight"], json!(1));

    let addr = emu.addr();
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let key = key.clone();
            std::thread::spawn(move || {
                request(
                    addr,
                    "GET",
                    &format!("/api/balance?apikey={key}"),
                    &[("x-emulator-fault", "slow")],
                    b"",
                )
                .status
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let s = stats();
    assert_eq!(s["peak_in_flight"], json!(3), "{s}");
    assert!(s["peak_in_flight_all"].as_u64().unwrap() >= 3, "{s}");
    // The literal shape of the stats.
    assert_eq!(
        s,
        json!({
            "balance": 10.0,
            "creates": 0,
            "duplicate_creates": 0,
            "faults": {"slow": 3},
            "peak_in_flight": 3,
            "peak_in_flight_all": s["peak_in_flight_all"],
        })
    );
}
