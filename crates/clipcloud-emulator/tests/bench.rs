//! What the benchmark relies on: per-key generation times, each creation's timeline
//! (`GET /emulator/creations`) and the peak of requests in flight (`GET /emulator/stats`).

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Creates without overriding the generation time.
async fn create_plain(app: &App, key: &str, prompt: &str) -> String {
    let body = format!(r#"{{"prompt":"{prompt}","styleName":"standard"}}"#);
    let r = app.post_json(&format!("/api/creation?apikey={key}"), &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["creation_id"].as_str().unwrap().to_owned()
}

async fn creations(app: &App, key: &str) -> Vec<Value> {
    let r = app.get(&format!("/emulator/creations?apikey={key}")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["creations"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_key_has_its_own_fixed_generation_time() {
    let app = App::new(); // 1 s for other keys
    let key = app.key_with(r#"{"balance": 10, "delay_ms": 0}"#).await;
    let id = create_plain(&app, &key, "a cat").await;
    let r = app.get(&format!("/api/creation/{id}?apikey={key}")).await;
    assert_eq!(r.json()["message"], json!("Images processed succesfully"), "{}", r.text());
    // The query parameter still wins.
    let id = app.create(&key, 60_000, r#"{"prompt":"a dog","styleName":"standard"}"#).await;
    assert_eq!(app.check(&key, &id).await["message"], json!("In progress"));
    // Other keys keep --delay-ms.
    let other = app.fresh_key(10.0).await;
    let id = create_plain(&app, &other, "a cow").await;
    assert_eq!(app.check(&other, &id).await["message"], json!("In progress"));
}

#[tokio::test]
async fn a_range_is_drawn_per_creation_and_deterministic() {
    async fn draws(app: App) -> Vec<u64> {
        let key = app.key_with(r#"{"balance": 100, "delay_ms": {"min": 500, "max": 30000}}"#).await;
        for i in 0..12 {
            create_plain(&app, &key, &format!("cat {i}")).await;
        }
        creations(&app, &key)
            .await
            .iter()
            .map(|c| c["ready_ms"].as_u64().unwrap() - c["created_ms"].as_u64().unwrap())
            .collect()
    }
    let first = draws(App::new()).await;
    assert_eq!(first.len(), 12);
    assert!(first.iter().all(|d| (500..=30_000).contains(d)), "{first:?}");
    assert!(first.iter().any(|d| *d != first[0]), "a range should vary: {first:?}");
    // Same seed, same key order: the same times.
    assert_eq!(draws(App::new()).await, first);
}

#[tokio::test]
async fn bad_delay_plans_are_refused() {
    let app = App::new();
    for body in [
        r#"{"delay_ms": -1}"#,
        r#"{"delay_ms": "2s"}"#,
        r#"{"delay_ms": {"min": 3000, "max": 1000}}"#,
        r#"{"delay_ms": {"min": 1000}}"#,
        r#"{"delay_ms": 100000000000}"#,
    ] {
        let r = app.post_json("/emulator/keys", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(r.json()["message"].as_str().unwrap().contains("delay_ms"), "{}", r.text());
    }
}

#[tokio::test]
async fn creations_list_created_ready_and_every_check_in_unix_ms() {
    let app = App::new();
    let key = app.key_with(r#"{"balance": 10, "delay_ms": 300}"#).await;
    assert_eq!(app.get(&format!("/emulator/creations?apikey={key}")).await.json(), json!({"creations": []}));
    app.clock.advance(Duration::from_millis(1_000));
    let created = app.clock.unix_ms(app.clock.now());
    let id = create_plain(&app, &key, "a lighthouse").await;
    app.clock.advance(Duration::from_millis(299));
    assert_eq!(app.check(&key, &id).await["message"], json!("In progress"));
    app.clock.advance(Duration::from_millis(1));
    assert_eq!(app.check(&key, &id).await["message"], json!("Images processed succesfully"));

    let list = creations(&app, &key).await;
    assert_eq!(list.len(), 1);
    let c = &list[0];
    let fields: Vec<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["checks_ms", "created_ms", "creation_id", "ready_ms"]);
    assert_eq!(
        *c,
        json!({
            "creation_id": id,
            "created_ms": created,
            "ready_ms": created + 300,
            "checks_ms": [created + 299, created + 300],
        })
    );

    // Another key's or a bad key: nothing of this key's.
    let other = app.fresh_key(10.0).await;
    assert_eq!(
        app.get(&format!("/emulator/creations?apikey={other}")).await.json(),
        json!({"creations": []})
    );
    assert_eq!(app.get("/emulator/creations?apikey=nope").await.status, 401);
}

#[tokio::test]
async fn stats_report_the_peak_of_requests_in_flight() {
    // Slow answers keep requests in flight on a real socket; three at once.
    let mut config = config();
    config.faults.slow = Duration::from_millis(500);
    let app = App::served(config);
    let key = app.fresh_key(10.0).await;
    // The stats request itself is in flight while it is answered.
    assert_eq!(app.stats(&key).await["peak_in_flight"], json!(1));

    let target = format!("/api/balance?apikey={key}");
    let slow = || app.request("GET", &target, &[("x-emulator-fault", "slow")], b"");
    let (a, b, c) = tokio::join!(slow(), slow(), slow());
    assert_eq!([a.status, b.status, c.status], [200; 3]);
    let s = app.stats(&key).await;
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
