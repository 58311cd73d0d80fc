//! Proxy mode against a second emulator as the "real service": the browser side sends no
//! key, the proxy adds its own, and CORS comes from the proxy.

mod common;

use clipcloud_emulator::proxy::Upstream;
use clipcloud_emulator::Config;
use common::*;
use serde_json::json;

#[test]
fn the_proxy_adds_its_key_and_forwards_everything() {
    let service = emulator();
    let key = fresh_key(service.addr(), 42.0);
    let upstream = Upstream::new(&format!("http://{}", service.addr()), &format!("{key}\n")).unwrap();
    let proxy =
        emulator_with(Config { port: 0, log_requests: false, upstream: Some(upstream), ..Config::default() });

    // No key, or a placeholder: the proxy's own key is used.
    let balance = get(proxy.addr(), "/api/balance");
    assert_eq!((balance.status, balance.json()), (200, json!({"success": true, "balance": 42.0})));
    assert_eq!(balance.header("access-control-allow-origin"), Some("*"));
    assert_eq!(get(proxy.addr(), "/api/balance?apikey=anything").json()["balance"], json!(42.0));

    let created = post_json(
        proxy.addr(),
        "/api/creation?apikey=placeholder&emulator_delay_ms=0",
        r#"{"prompt":"a cat","styleName":"standard"}"#,
    );
    assert_eq!(created.status, 200, "{}", created.text());
    let id = created.json()["creation_id"].as_str().unwrap().to_owned();
    let done = get(proxy.addr(), &format!("/api/creation/{id}")).json();
    assert_eq!(done["cost"], json!(1.1));
    assert_eq!(balance_via(&proxy), 40.9);

    // Errors and their statuses come through; the key never shows.
    let missing = get(proxy.addr(), "/api/creation/00000000-0000-0000-0000-000000000000");
    assert_eq!(missing.status, 404);
    assert!(!missing.text().contains(&key));
    let not_json = request(proxy.addr(), "POST", "/api/creation", &[("content-type", "text/plain")], b"x");
    assert_eq!(not_json.status, 415);
    // Only the API is proxied.
    assert_eq!(get(proxy.addr(), "/emulator/stats").status, 404);
}

#[test]
fn an_unreachable_upstream_is_a_502_without_the_key() {
    let upstream = Upstream::new("http://127.0.0.1:9", "secret-key-1\n").unwrap();
    let proxy =
        emulator_with(Config { port: 0, log_requests: false, upstream: Some(upstream), ..Config::default() });
    let r = get(proxy.addr(), "/api/balance");
    assert_eq!(r.status, 502);
    assert!(!r.text().contains("secret-key-1"), "{}", r.text());
}

fn balance_via(proxy: &clipcloud_emulator::Emulator) -> f64 {
    get(proxy.addr(), "/api/balance").json()["balance"].as_f64().unwrap()
}
