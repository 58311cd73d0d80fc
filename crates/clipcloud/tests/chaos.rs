//! Chaos: a few hundred creations through the real client in a real browser, against
//! an emulator key that injects every kind of fault. Run by `cargo xtask test` in
//! headless Chromium (with `--nocapture`, so the tallies print).
//!
//! Asserts: no panic; every creation finished with its image or failed with a typed
//! error; every finished one is a creation the emulator made, none reported twice; no
//! create was sent twice; the balance lost is exactly the reported costs,
//! plus the creations whose create timed out or broke after reaching the emulator —
//! and those are all among the errors that said "may have been started".
#![cfg(target_arch = "wasm32")]

use clipcloud::{Client, Config, ErrorCode, PollSchedule, StyleRequest};
use core::time::Duration;
use futures_util::future::join_all;
use gloo_net::http::Request;
use std::collections::{BTreeMap, BTreeSet};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const EMULATOR: &str = match option_env!("CLIPCLOUD_EMULATOR_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};
const CREATIONS: usize = 300;
/// Browsers allow six connections per host: more at once would only queue.
const AT_ONCE: usize = 24;
const BALANCE: f64 = 100_000.0;
/// Price of one `smallHQ` image in the emulator.
const PRICE: f64 = 1.1;

async fn emulator_json(method: &str, path: &str, body: Option<&str>) -> serde_json::Value {
    let url = format!("{EMULATOR}{path}");
    let request = match body {
        Some(body) => Request::post(&url).header("Content-Type", "application/json").body(body.to_owned()),
        None if method == "GET" => Request::get(&url).build(),
        None => Request::post(&url).build(),
    };
    let response = request.expect("request builds").send().await.expect("the emulator answers");
    serde_json::from_str(&response.text().await.expect("a body")).expect("JSON")
}

enum Outcome {
    /// `id`: the creation id `generate` reported on acceptance.
    Finished {
        id: Option<String>,
        cost: f64,
        images: usize,
    },
    Failed {
        code: ErrorCode,
        may_have_started: bool,
    },
}

#[wasm_bindgen_test]
async fn hundreds_of_creations_through_faults_lose_nothing_and_never_charge_twice() {
    let plan = format!(r#"{{"balance":{BALANCE},"faults":{{"rate":0.15,"slow_ms":2500}}}}"#);
    let key = emulator_json("POST", "/emulator/keys", Some(&plan)).await["apikey"]
        .as_str()
        .expect("key")
        .to_owned();

    let mut config = Config::new(key.clone()).base_url(EMULATOR).request_timeout(Duration::from_secs(1));
    config.poll = PollSchedule {
        first_delay: Duration::from_millis(300),
        max_interval: Duration::from_secs(1),
        deadline: Duration::from_secs(120),
        ..PollSchedule::default()
    };
    let client = Client::new(config).expect("valid config");

    let mut outcomes = Vec::with_capacity(CREATIONS);
    for batch in (0..CREATIONS).collect::<Vec<_>>().chunks(AT_ONCE) {
        let runs = batch.iter().map(|i| {
            let (client, key) = (&client, &key);
            async move {
                // Unique prompts: the emulator counts identical create bodies as duplicates.
                let request = StyleRequest::new(format!("chaos creation #{i}: a lighthouse"), "smallHQ");
                let mut id = None;
                match client.generate(request, |p| id = Some(p.creation_id.to_owned())).await {
                    Ok(done) => {
                        assert_eq!(
                            id.as_deref(),
                            Some(done.creation_id.as_str()),
                            "progress named another id"
                        );
                        Outcome::Finished { id, cost: done.cost, images: done.images.len() }
                    }
                    Err(e) => {
                        assert!(!e.to_string().contains(key.as_str()), "the key leaked: {e}");
                        Outcome::Failed { code: e.code(), may_have_started: e.may_have_started() }
                    }
                }
            }
        });
        outcomes.extend(join_all(runs).await);
    }

    let stats = emulator_json("GET", &format!("/emulator/stats?apikey={key}"), None).await;
    let mut finished = 0u64;
    let mut reported_cost = 0.0;
    let mut failures: BTreeMap<&str, u64> = BTreeMap::new();
    let mut maybe_started = 0u64;
    let made: BTreeSet<String> = emulator_json("GET", &format!("/emulator/creations?apikey={key}"), None)
        .await["creations"]
        .as_array()
        .expect("creations")
        .iter()
        .map(|c| c["creation_id"].as_str().expect("creation_id").to_owned())
        .collect();
    let mut finished_ids = BTreeSet::new();
    for outcome in &outcomes {
        match outcome {
            Outcome::Finished { id, cost, images } => {
                assert_eq!(*images, 1, "a finished creation lost its image");
                let id = id.as_deref().expect("generate reported the id before finishing");
                assert!(made.contains(id), "finished {id}, which the emulator never made");
                assert!(finished_ids.insert(id), "two creations finished as {id}");
                finished += 1;
                reported_cost += cost;
            }
            Outcome::Failed { code, may_have_started } => {
                *failures.entry(code.as_str()).or_default() += 1;
                maybe_started += u64::from(*may_have_started);
            }
        }
    }
    let accepted = stats["creates"].as_u64().expect("creates");
    let duplicates = stats["duplicate_creates"].as_u64().expect("duplicate_creates");
    let charged = BALANCE - stats["balance"].as_f64().expect("balance");
    let unreported = accepted.saturating_sub(finished);

    console_log!("chaos: {CREATIONS} creations, {finished} finished, failures by code {failures:?}");
    console_log!("chaos: {maybe_started} failures said the creation may have started");
    console_log!(
        "chaos: emulator accepted {accepted} creates, {duplicates} duplicates; faults injected {}",
        stats["faults"]
    );
    console_log!("chaos: charged {charged:.2}, reported {reported_cost:.2}, unreported accepted creations {unreported}");

    assert_eq!(made.len() as u64, accepted, "the emulator's list and its count disagree");
    assert_eq!(duplicates, 0, "a create was sent twice");
    assert!(accepted >= finished);
    assert!(
        unreported <= maybe_started,
        "{unreported} creations were charged without the client saying they may have started"
    );
    let expected_charge = reported_cost + unreported as f64 * PRICE;
    assert!((charged - expected_charge).abs() < 1e-6, "charged {charged} != {expected_charge}");
    let injected: u64 =
        stats["faults"].as_object().map_or(0, |m| m.values().filter_map(|v| v.as_u64()).sum());
    assert!(injected > 50, "too few faults were injected ({injected}) for this to test anything");
    assert!(finished as usize > CREATIONS / 2, "most creations should survive 15% faults");
}
