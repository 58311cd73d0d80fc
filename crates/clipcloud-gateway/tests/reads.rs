//! The free reads of issue 25 replayed over real HTTP: one address cannot take the held
//! checks' places, many waiters of one creation cost the service one schedule of checks,
//! and in operator-key mode the styles answer is kept and every call is rate-limited.

mod common;

use clipcloud_gateway::config;
use clipcloud_gateway::Running;
use common::*;
use std::io::Write;
use std::net::{SocketAddr, TcpStream};

/// A held check of `target` from `from`, left waiting on its connection.
fn hold_open(gateway: SocketAddr, target: &str, from: &str) -> TcpStream {
    let mut stream = TcpStream::connect(gateway).unwrap();
    let head = format!(
        "GET {target} HTTP/1.1\r\nHost: {gateway}\r\nPrefer: wait=30\r\nX-Forwarded-For: {from}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

#[test]
fn one_address_holds_at_most_its_share_of_the_held_checks() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 600_000);
    let upstream = emulator.base_url();
    let args = ["--listen", "127.0.0.1:0", "--upstream", &upstream, "--log-format", "off"]
        .into_iter()
        .chain(["--trust-proxy", "127.0.0.1", "--max-held", "32"])
        .map(str::to_owned);
    let gateway = Running::start(config::parse(args).unwrap()).unwrap();
    let addr = gateway.addr();
    let created =
        post(addr, &format!("/api/creation?apikey={key}"), r#"{"prompt":"a","styleName":"standard"}"#);
    let target = format!("/api/creation/{}?apikey={key}", created.json()["creation_id"].as_str().unwrap());
    // An eighth of 32 (at least 4) per address: the fifth of one address is answered at once.
    let mut open: Vec<TcpStream> = (0..4).map(|_| hold_open(addr, &target, "198.51.100.1")).collect();
    until(addr, "four held", |h| h["held"] == 4);
    let fifth = request(addr, "GET", &target, &["Prefer: wait=30", "X-Forwarded-For: 198.51.100.1"], None);
    assert_eq!((fifth.status, fifth.header("preference-applied")), (200, None), "{fifth:?}");
    assert_eq!(holds(addr)["held"], 4);
    // Another address still has its places.
    open.push(hold_open(addr, &target, "198.51.100.2"));
    until(addr, "another address held", |h| h["held"] == 5);
    drop(open);
    until(addr, "all let go", |h| h["held"] == 0 && h["pollers"] == 0);
}

#[test]
fn waiters_of_one_creation_share_the_gateways_own_poller() {
    let emulator = emulator(0);
    let key = key_taking(&emulator, 2_000);
    let (config, _) = operator(&emulator.base_url(), &key, ONE_PRICE);
    let gateway = Running::start(config).unwrap();
    let addr = gateway.addr();
    let mut visitor = Visitor::from("203.0.113.5");
    visitor.load_page(addr);
    let created = visitor.create(addr);
    let id = created.json()["creation_id"].as_str().expect("an id").to_owned();
    // The gateway follows its creation from the start: one poller, no waiter yet.
    until(addr, "the gateway's own poller", |h| h["pollers"] == 1 && h["held"] == 0);
    const WAITERS: usize = 20;
    let cookie = format!("Cookie: {}", visitor.cookie.clone().expect("a cookie"));
    let target = &format!("/api/creation/{id}");
    let answers: Vec<Answer> = std::thread::scope(|scope| {
        let waiters: Vec<_> = (0..WAITERS)
            .map(|_| {
                let headers = ["Prefer: wait=25", "X-Forwarded-For: 203.0.113.5", cookie.as_str()];
                scope.spawn(move || request(addr, "GET", target, &headers, None))
            })
            .collect();
        until(addr, "every waiter held", |h| h["held"] == WAITERS && h["pollers"] == 1);
        waiters.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|a| a.json()["results"].is_array()), "{answers:?}");
    until(addr, "the poller ends with its creation", |h| h["pollers"] == 0);
    // Every upstream check of the creation was the one poller's, on the schedule: fewer
    // than the waiters.
    let checks = upstream_checks(&emulator, &key, &id);
    eprintln!("{WAITERS} waiters of one creation: {checks} upstream checks");
    assert_eq!(holds(addr)["upstream_checks"], checks);
    assert!(checks < WAITERS, "{checks} upstream checks for {WAITERS} waiters");
}

#[test]
fn styles_are_kept_a_minute_and_calls_are_rate_limited() {
    let upstream = Recorder::start(
        200,
        "application/json",
        r#"{"success":true,"styles":[{"name":"standard"},{"name":"HD-HQ"},{"name":"graffiti"}]}"#,
    );
    let (config, _) = operator(&upstream.url, "op-key-123", &["--allow-style", "standard,graffiti"]);
    let gateway = Running::start(config).unwrap();
    let addr = gateway.addr();
    let mut statuses = Vec::new();
    let mut limited = None;
    for _ in 0..200 {
        let answer = request(addr, "GET", "/api/styles", &["X-Forwarded-For: 198.51.100.9"], None);
        if answer.status == 200 {
            let listed = answer.json();
            let names: Vec<&str> =
                listed["styles"].as_array().unwrap().iter().filter_map(|s| s["name"].as_str()).collect();
            assert_eq!(names, ["standard", "graffiti"], "only the styles allowed");
        } else if limited.is_none() {
            limited = Some((answer.status, answer.header("retry-after")));
        }
        statuses.push(answer.status);
    }
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    eprintln!(
        "200 styles calls from one address: {ok} answered, the service asked {}",
        upstream.seen().len()
    );
    assert_eq!(upstream.seen(), ["GET /api/styles?apikey=op-key-123"], "kept: asked once");
    let (status, retry_after) = limited.expect("some were refused");
    assert_eq!(status, 429);
    assert!(retry_after.is_some(), "Retry-After");
    assert!(statuses.iter().all(|&s| s == 200 || s == 429), "{statuses:?}");
}
