//! What an operator watches the gateway with: every request's id (echoed, and named in a
//! refusal), `/metrics` on the admin listener, `/readyz` that fails while something the
//! gateway needs cannot be reached. (The log itself: tests/process.rs.)

mod common;

use clipcloud_gateway::config::Config;
use clipcloud_gateway::forwarded::TrustedProxies;
use clipcloud_gateway::Running;
use common::*;

/// Operator-key mode ([`operator`]) with an admin listener and `extra` flags.
fn with_admin(upstream: &str, key: &str, extra: &[&str]) -> Config {
    let flags: Vec<&str> = ["--admin-listen", "127.0.0.1:0"].iter().chain(extra).copied().collect();
    operator(upstream, key, &flags).0
}

#[test]
fn every_answer_names_its_request_and_a_refusal_says_it_too() {
    let upstream = Recorder::start(200, "application/json", r#"{"success":true,"balance":5}"#);
    let gateway = Running::start(relay_config(&upstream.url)).unwrap();
    let addr = gateway.addr();
    let (first, second) = (get(addr, "/api/balance?apikey=k"), get(addr, "/api/balance?apikey=k"));
    let id = |answer: &Answer| answer.header("x-request-id").unwrap_or_else(|| panic!("no id: {answer:?}"));
    assert_ne!(id(&first), id(&second));
    let refused = get(addr, "/api/nope");
    assert_eq!(refused.status, 404);
    assert_eq!(refused.json()["request_id"].as_str(), Some(id(&refused).as_str()), "{refused:?}");
    // A stranger's id is not taken: one is made (the test's client is no trusted proxy).
    let claimed = request(addr, "GET", "/api/balance?apikey=k", &["X-Request-Id: lb-42"], None);
    assert_ne!(id(&claimed), "lb-42");

    // A trusted proxy's id follows the request, into a refusal too; a page of another
    // origin may read it.
    let mut config = relay_config(&upstream.url);
    config.trusted_proxies = TrustedProxies::parse(&["127.0.0.0/8"]).unwrap();
    config.allowed_origins = vec!["https://blog.example".into()];
    let behind_proxy = Running::start(config).unwrap();
    let kept = request(behind_proxy.addr(), "GET", "/api/nope", &["X-Request-Id: lb-42"], None);
    assert_eq!((id(&kept).as_str(), kept.json()["request_id"].as_str()), ("lb-42", Some("lb-42")));
    let page =
        request(behind_proxy.addr(), "GET", "/api/balance?apikey=k", &["Origin: https://blog.example"], None);
    assert!(
        page.header("access-control-expose-headers").is_some_and(|h| h.contains("x-request-id")),
        "{page:?}"
    );
    let odd = request(behind_proxy.addr(), "GET", "/api/nope", &["X-Request-Id: two words"], None);
    assert_ne!(id(&odd), "two words", "not a plain id: one is made");
}

/// The sample of `name` (with its labels, as the text format writes them) in `metrics`.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_count_requests_creates_and_upstream_times() {
    let emulator = emulator(100);
    let key = fresh_key(&emulator, 100.0);
    let flags = ["--creates-per-minute", "1", "--max-price-per-image", "1.1"];
    let gateway = Running::start(with_admin(&emulator.base_url(), &key, &flags)).unwrap();
    let (addr, admin) = (gateway.addr(), gateway.admin_addr().expect("an admin listener"));
    let create = || post(addr, "/api/creation", r#"{"prompt":"a red apple","styleName":"standard"}"#);
    assert_eq!(get(addr, "/api/styles").status, 200);
    assert_eq!(create().status, 200);
    assert_eq!(create().status, 429, "one create a minute");
    assert_eq!(get(addr, "/api/nope").status, 404);

    let scraped = get(admin, "/metrics");
    assert_eq!(scraped.status, 200, "{scraped:?}");
    assert!(scraped.header("content-type").is_some_and(|t| t.starts_with("application/openmetrics-text")));
    let text = scraped.body;
    for (name, value) in [
        (r#"clipcloud_gateway_requests_total{route="styles",status="200"}"#, 1.0),
        (r#"clipcloud_gateway_requests_total{route="create",status="200"}"#, 1.0),
        (r#"clipcloud_gateway_requests_total{route="create",status="429"}"#, 1.0),
        (r#"clipcloud_gateway_requests_total{route="refused",status="404"}"#, 1.0),
        (r#"clipcloud_gateway_creates_total{outcome="admitted",reason=""}"#, 1.0),
        (r#"clipcloud_gateway_creates_total{outcome="refused",reason="rate"}"#, 1.0),
        (r#"clipcloud_gateway_upstream_seconds_count{call="create"}"#, 1.0),
        (r#"clipcloud_gateway_upstream_seconds_count{call="styles"}"#, 1.0),
        // What the create reserved (the emulator's price), until its real cost replaces it.
        (r#"clipcloud_gateway_spend_credits{period="day"}"#, 1.1),
        (r#"clipcloud_gateway_spend_credits{period="month"}"#, 1.1),
        ("clipcloud_gateway_held_checks", 0.0),
        ("clipcloud_gateway_ledger_errors_total", 0.0),
        ("clipcloud_gateway_redis_errors_total", 0.0),
    ] {
        assert_eq!(sample(&text, name), Some(value), "{name} in\n{text}");
    }
    // The gateway follows each creation to its end: a poller, for a while.
    assert!(sample(&text, "clipcloud_gateway_pollers").is_some(), "{text}");
    // The scrapes are not visitors' requests, and visitors cannot scrape.
    assert!(!text.contains("route=\"static\"") && !text.contains("route=\"metrics\""), "{text}");
    assert!(!get(addr, "/metrics").body.contains("clipcloud_gateway_"), "the app's page, not metrics");
}

#[test]
fn readyz_fails_while_the_upstream_or_redis_cannot_be_reached() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let mut config = relay_config(&format!("http://{closed}"));
    config.admin_listen = Some("127.0.0.1:0".into());
    let gateway = Running::start(config).unwrap();
    for addr in [gateway.admin_addr().unwrap(), gateway.addr()] {
        let ready = get(addr, "/readyz");
        assert_eq!(ready.status, 503, "{ready:?}");
        assert_eq!(ready.json(), serde_json::json!({ "status": "not ready", "failing": ["upstream"] }));
        assert_eq!(get(addr, "/healthz").status, 200, "alive all the same");
    }

    let emulator = emulator(0);
    let redis = RedisServer::start(&[]);
    let config = with_admin(&emulator.base_url(), "op-key", &["--redis", &redis.url()]);
    let gateway = Running::start(config).unwrap();
    let admin = gateway.admin_addr().unwrap();
    let ready = get(admin, "/readyz");
    assert_eq!((ready.status, ready.json()), (200, serde_json::json!({ "status": "ready" })));
    redis.stop();
    let ready = get(admin, "/readyz");
    assert_eq!(ready.status, 503, "{ready:?}");
    assert_eq!(ready.json()["failing"], serde_json::json!(["redis"]));
    let errors = sample(&get(admin, "/metrics").body, "clipcloud_gateway_redis_errors_total");
    assert!(errors.is_some_and(|n| n >= 1.0), "{errors:?}");
}
