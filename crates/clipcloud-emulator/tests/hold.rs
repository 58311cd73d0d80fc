//! Held checks, the reference for the limit: `Prefer: wait=N` on a check is answered the
//! moment the creation is ready (or "In progress" after N s), with `Preference-Applied`;
//! one check is recorded per held check. On a clock the test moves: a held check that
//! answers early, or late, fails the test.

mod common;

use common::*;
use std::time::Duration;
use tokio::task::JoinHandle;

const BODY: &str = r#"{"prompt":"a red apple","styleName":"standard"}"#;

/// A check with this `Prefer` header, sent and waiting (if it waits) when this returns:
/// the hold's end is counted from the clock's time now.
async fn held(app: &App, key: &str, id: &str, prefer: &str) -> JoinHandle<Response> {
    let (app, target, prefer) = (app.clone(), format!("/api/creation/{id}?apikey={key}"), prefer.to_owned());
    let answer = tokio::spawn(async move { app.request("GET", &target, &[("Prefer", &prefer)], b"").await });
    settle().await;
    answer
}

/// Lets every task run until it waits (for the clock, here); the tests are single-threaded.
async fn settle() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

/// Moves the clock to `after` from now and asserts that the held check is answered then,
/// not a millisecond before.
async fn answered_after(app: &App, answer: JoinHandle<Response>, after: Duration) -> Response {
    app.clock.advance(after - Duration::from_millis(1));
    settle().await;
    assert!(!answer.is_finished(), "answered before {after:?}");
    app.clock.advance(Duration::from_millis(1));
    answer.await.unwrap()
}

#[tokio::test]
async fn a_held_check_answers_once_the_creation_is_ready() {
    let app = App::new();
    let key = app.fresh_key(20.0).await;
    let id = app.create(&key, 1_500, BODY).await;
    let answer = held(&app, &key, &id, "wait=20").await;
    let answer = answered_after(&app, answer, Duration::from_millis(1_500)).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.json()["results"].is_array(), "ready when answered: {}", answer.text());
    assert_eq!(answer.header("preference-applied"), Some("wait=20"));
    // One held check, one check recorded, when it was answered.
    let creations = app.get(&format!("/emulator/creations?apikey={key}")).await.json();
    let created = creations["creations"][0]["created_ms"].as_u64().unwrap();
    assert_eq!(creations["creations"][0]["checks_ms"], serde_json::json!([created + 1_500]), "{creations}");
}

#[tokio::test]
async fn a_held_check_ends_after_the_wait_and_at_most_30_s() {
    let app = App::new();
    let key = app.fresh_key(20.0).await;
    let id = app.create(&key, 600_000, BODY).await;
    let answer = held(&app, &key, &id, "respond-async, wait=1").await;
    let answer = answered_after(&app, answer, Duration::from_secs(1)).await;
    assert_eq!(answer.json()["message"], "In progress", "{}", answer.text());
    assert_eq!(answer.header("preference-applied"), Some("wait=1"));
    // Longer waits are cut to 30 s.
    let long = held(&app, &key, &id, "wait=600").await;
    let long = answered_after(&app, long, Duration::from_secs(30)).await;
    assert_eq!(
        (long.json()["message"].as_str(), long.header("preference-applied")),
        (Some("In progress"), Some("wait=30"))
    );
    // Not a wait it understands: an ordinary check, answered at once (the clock stands still).
    let plain = held(&app, &key, &id, "wait=soon").await.await.unwrap();
    assert_eq!(
        (plain.json()["message"].as_str(), plain.header("preference-applied")),
        (Some("In progress"), None)
    );
    // Another key's creation or an unknown one: 404 at once, however long the wait asked.
    let other = app.fresh_key(20.0).await;
    assert_eq!(held(&app, &other, &id, "wait=30").await.await.unwrap().status, 404);
    // CORS pages may read the header.
    assert!(answer.header("access-control-expose-headers").is_some_and(|h| h.contains("Preference-Applied")));
}
