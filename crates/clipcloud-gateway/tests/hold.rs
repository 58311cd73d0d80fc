//! Held checks over real sockets, in front of the real emulator: `Prefer: wait=N` on a
//! check is answered once the creation is ready (or with "In progress" after N s), one
//! upstream poller serves every waiter of a creation, an abandoned hold stops its poller,
//! the caps answer at once, and what was learned survives a restart in the ledger.

mod common;

use clipcloud_gateway::config::{self, Config};
use clipcloud_gateway::Running;
use common::*;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};

fn relay(emulator: &clipcloud_emulator::Emulator, extra: &[&str]) -> Running {
    let mut args: Vec<String> =
        ["--listen", "127.0.0.1:0", "--upstream", &emulator.base_url(), "--log-format", "off"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    Running::start(config::parse(args).expect("settings")).expect("gateway")
}

/// A creation through the gateway (relay mode, `key`), its id.
fn create(gateway: SocketAddr, key: &str) -> String {
    let answer = post(
        gateway,
        &format!("/api/creation?apikey={key}"),
        r#"{"prompt":"a red apple","styleName":"standard"}"#,
    );
    assert_eq!(answer.status, 200, "{answer:?}");
    answer.json()["creation_id"].as_str().expect("an id").to_owned()
}

fn held_check(gateway: SocketAddr, key: &str, id: &str, wait: &str) -> Answer {
    request(gateway, "GET", &format!("/api/creation/{id}?apikey={key}"), &[&format!("Prefer: {wait}")], None)
}

#[test]
fn a_held_check_answers_with_the_images_once_ready() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 1_500);
    let gateway = relay(&emulator, &[]);
    let id = create(gateway.addr(), &key);
    // Without a hold: at once, still running.
    let plain = get(gateway.addr(), &format!("/api/creation/{id}?apikey={key}"));
    assert_eq!(plain.json()["message"], "In progress", "{plain:?}");
    assert_eq!(plain.header("preference-applied"), None);

    let held = held_check(gateway.addr(), &key, &id, "wait=20");
    assert_eq!(held.status, 200, "{held:?}");
    assert_eq!(held.header("preference-applied").as_deref(), Some("wait=20"));
    let links = held.json()["results"].as_array().cloned().expect("ready: the images");
    // The links point at this gateway, as for any check.
    assert!(links[0].as_str().unwrap().starts_with(&gateway.url()), "{links:?}");
    assert!(!held.body.contains(&key));
}

#[test]
fn a_held_check_says_in_progress_after_the_wait_and_never_holds_past_30_s() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 600_000);
    let gateway = relay(&emulator, &[]);
    let id = create(gateway.addr(), &key);
    let held = held_check(gateway.addr(), &key, &id, "wait=1");
    assert_eq!((held.status, held.json()["message"].as_str()), (200, Some("In progress")), "{held:?}");
    assert_eq!(held.header("preference-applied").as_deref(), Some("wait=1"));
    // An unknown creation ends the hold with the service's own answer.
    let other = held_check(gateway.addr(), &key, "00000000-0000-0000-0000-000000000000", "wait=30");
    assert_eq!(other.status, 404, "{other:?}");
    // Asked for more than the gateway's --hold-max: it says how long it held.
    let gateway = relay(&emulator, &["--hold-max", "1"]);
    let held = held_check(gateway.addr(), &key, &id, "wait=600");
    assert_eq!(held.header("preference-applied").as_deref(), Some("wait=1"), "{held:?}");
    let info = get(gateway.addr(), "/gateway/info").json();
    assert_eq!(info["hold"], 1);
    let off = relay(&emulator, &["--hold-max", "0"]);
    assert_eq!(get(off.addr(), "/gateway/info").json().get("hold"), None);
    let plain = held_check(off.addr(), &key, &id, "wait=5");
    assert_eq!(
        (plain.json()["message"].as_str(), plain.header("preference-applied")),
        (Some("In progress"), None)
    );
}

#[test]
fn waiters_of_one_creation_share_one_upstream_poller() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 2_000);
    let gateway = relay(&emulator, &[]);
    let id = create(gateway.addr(), &key);
    const WAITERS: usize = 12;
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            (0..WAITERS).map(|_| scope.spawn(|| held_check(gateway.addr(), &key, &id, "wait=25"))).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for answer in &answers {
        assert!(answer.json()["results"].is_array(), "{answer:?}");
    }
    // One poller for all twelve: fewer upstream checks than waiters (each polling alone
    // would have made at least one each).
    let checks = upstream_checks(&emulator, &key, &id);
    assert!(checks < WAITERS, "{checks} upstream checks for {WAITERS} waiters");
    until(gateway.addr(), "the poller ends with its creation", |h| h["pollers"] == 0 && h["held"] == 0);
}

#[test]
fn an_abandoned_hold_stops_its_poller() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 600_000);
    let gateway = relay(&emulator, &[]);
    let id = create(gateway.addr(), &key);
    let mut stream = TcpStream::connect(gateway.addr()).unwrap();
    let head = format!(
        "GET /api/creation/{id}?apikey={key} HTTP/1.1\r\nHost: {}\r\nPrefer: wait=30\r\n\r\n",
        gateway.addr()
    );
    stream.write_all(head.as_bytes()).unwrap();
    until(gateway.addr(), "the check is held", |h| h["held"] == 1 && h["pollers"] == 1);
    // The tab closes.
    drop(stream);
    // The poller leaves as soon as nobody waits: no more upstream checks of it.
    until(gateway.addr(), "nothing left of it", |h| {
        h["held"] == 0 && h["pollers"] == 0 && h["upstream_in_flight"] == 0
    });
}

#[test]
fn beyond_the_caps_a_check_is_answered_at_once() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 600_000);
    let gateway = relay(&emulator, &["--max-held", "1", "--max-pollers", "1"]);
    let slow = create(gateway.addr(), &key);
    let other = create(gateway.addr(), &key);
    std::thread::scope(|scope| {
        let first = scope.spawn(|| held_check(gateway.addr(), &key, &slow, "wait=3"));
        until(gateway.addr(), "the first is held", |h| h["held"] == 1);
        // The held cap: answered at once, no Preference-Applied.
        let second = held_check(gateway.addr(), &key, &other, "wait=30");
        assert_eq!(
            (second.json()["message"].as_str(), second.header("preference-applied")),
            (Some("In progress"), None)
        );
        let first = first.join().unwrap();
        assert_eq!(first.header("preference-applied").as_deref(), Some("wait=3"));
    });
}

/// Operator-key settings with a ledger at `ledger`.
fn operator(upstream: &str, ledger: &str) -> Config {
    let key_file = secret_file("key", clipcloud_emulator::DEMO_KEY);
    let args =
        ["--listen", "127.0.0.1:0", "--upstream", upstream, "--key-file", &key_file, "--ledger", ledger]
            .into_iter()
            .chain(["--log-format", "off", "--creates-per-minute", "100"])
            .map(str::to_owned)
            .collect::<Vec<_>>();
    config::parse(args).expect("settings")
}

#[test]
fn what_the_schedule_learned_survives_a_restart() {
    let emulator = emulator(300);
    let ledger = temp_dir("hold-ledger").join("ledger.sqlite3").to_string_lossy().into_owned();
    let gateway = Running::start(operator(&emulator.base_url(), &ledger)).expect("gateway");
    let mut cookie = String::new();
    for _ in 0..3 {
        let headers: Vec<&str> = if cookie.is_empty() { vec![] } else { vec![cookie.as_str()] };
        let created = request(
            gateway.addr(),
            "POST",
            "/api/creation",
            &headers,
            Some(r#"{"prompt":"a red apple","styleName":"standard"}"#),
        );
        assert_eq!(created.status, 200, "{created:?}");
        if let Some(set) = created.header("set-cookie") {
            cookie = format!("Cookie: {}", set.split(';').next().unwrap());
        }
        let id = created.json()["creation_id"].as_str().unwrap().to_owned();
        let mut headers = vec!["Prefer: wait=20"];
        if !cookie.is_empty() {
            headers.push(&cookie);
        }
        let held = request(gateway.addr(), "GET", &format!("/api/creation/{id}"), &headers, None);
        assert!(held.json()["results"].is_array(), "{held:?}");
    }
    gateway.stop();
    // A new process on the same ledger starts where the last one stopped.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let reopened = runtime
        .block_on(clipcloud_gateway::Gateway::open(operator(&emulator.base_url(), &ledger)))
        .expect("reopened");
    let learned = reopened.forwarder.holds.learned_text();
    assert!(learned.starts_with("standard *\t"), "{learned:?}");
    let seen = learned.trim_end().split_once('\t').map_or(0, |(_, seen)| seen.split(' ').count());
    assert_eq!(seen, 3, "three creations: {learned:?}");
}
