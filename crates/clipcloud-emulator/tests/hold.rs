//! Held checks, the reference for the limit: `Prefer: wait=N` on a check is answered the
//! moment the creation is ready (or "In progress" after N s), with `Preference-Applied`;
//! one check is recorded per held check.

mod common;

use common::*;

const BODY: &str = r#"{"prompt":"a red apple","styleName":"standard"}"#;

fn held(addr: std::net::SocketAddr, key: &str, id: &str, prefer: &str) -> Response {
    request(addr, "GET", &format!("/api/creation/{id}?apikey={key}"), &[("Prefer", prefer)], b"")
}

#[test]
fn a_held_check_answers_once_the_creation_is_ready() {
    let emulator = emulator();
    let key = fresh_key(emulator.addr(), 20.0);
    let id = create(emulator.addr(), &key, 1_500, BODY);
    let answer = held(emulator.addr(), &key, &id, "wait=20");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["results"].is_array(), "ready when answered: {}", answer.text());
    assert_eq!(answer.header("preference-applied"), Some("wait=20"));
    // One held check, one check recorded.
    let creations = get(emulator.addr(), &format!("/emulator/creations?apikey={key}")).json();
    assert_eq!(creations["creations"][0]["checks_ms"].as_array().map(Vec::len), Some(1), "{creations}");
}

#[test]
fn a_held_check_ends_after_the_wait_and_at_most_30_s() {
    let emulator = emulator();
    let key = fresh_key(emulator.addr(), 20.0);
    let id = create(emulator.addr(), &key, 600_000, BODY);
    let answer = held(emulator.addr(), &key, &id, "respond-async, wait=1");
    assert_eq!(answer.json()["message"], "In progress", "{}", answer.text());
    assert_eq!(answer.header("preference-applied"), Some("wait=1"));
    // Not a wait it understands: an ordinary check, answered at once.
    let plain = held(emulator.addr(), &key, &id, "wait=soon");
    assert_eq!(
        (plain.json()["message"].as_str(), plain.header("preference-applied")),
        (Some("In progress"), None)
    );
    // Another key's creation or an unknown one: 404 at once, however long the wait asked.
    let other = fresh_key(emulator.addr(), 20.0);
    assert_eq!(held(emulator.addr(), &other, &id, "wait=30").status, 404);
    // CORS pages may read the header.
    assert!(answer.header("access-control-expose-headers").is_some_and(|h| h.contains("Preference-Applied")));
}
