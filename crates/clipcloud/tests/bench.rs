//! The benchmark's measurements (`cargo xtask bench` runs them and prints the table; they
//! print figures and never fail on speed). Not part of `cargo xtask test`.
//!
//! In headless Chromium, through the real client against the emulator (its address
//! compiled in as `CLIPCLOUD_EMULATOR_URL`): time-to-result per generation-time profile
//! and polling strategy, 200 creations at once, and the client's encode+decode cost in
//! wasm. Natively (`--ignored`, release): the same encode+decode cost.
//!
//! Each result is one line `BENCH {json}` on the output.

use clipcloud::codec::{self, Endpoint, HttpResponse};
use clipcloud::StyleRequest;
use core::hint::black_box;

const CHECK_DONE: &str = r#"{"success":true,"message":"Images processed succesfully","creation_id":"12345678-abcd-ef12-3456-7890abcdef12","cost":2.2,"censored":0,"results":["https://clipcloud.clipai.pro/images/4f6a0f0c2d7e4b2a9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b.webp","https://clipcloud.clipai.pro/images/5f6a0f0c2d7e4b2a9c1d3e5f7a9b1c3d5e7f9a1b3c5d7e9f1a3b5c7d9e1f3a5b.webp"]}"#;

/// Encode (validate + build a create request) and decode (a finished check with two
/// images), each in a loop for ~300 ms of `now()` (ms); returns ns per call of each.
fn overhead(now: impl Fn() -> f64) -> (f64, f64) {
    let endpoint = Endpoint { base_url: "https://clipcloud.clipai.pro", api_key: Some("0123456789abcdef") };
    let mut request =
        StyleRequest::new("A close-up shot of a perfectly ripe red apple on a wooden table", "HD-HQ");
    request.count = Some(2);
    let request = clipcloud::CreateRequest::from(request);
    let response =
        HttpResponse { status: 200, retry_after: None, body: CHECK_DONE.into(), received_unix_secs: 0 };
    let timed = |work: &dyn Fn()| {
        // Warm up, then count calls for a fixed time.
        for _ in 0..1_000 {
            work();
        }
        let (start, mut calls) = (now(), 0u64);
        while now() - start < 300.0 {
            for _ in 0..100 {
                work();
            }
            calls += 100;
        }
        (now() - start) * 1e6 / calls as f64
    };
    let encode = timed(&|| {
        clipcloud::validate::create(black_box(&request), None).expect("valid");
        black_box(endpoint.create(black_box(&request)));
    });
    let decode = timed(&|| {
        black_box(
            codec::decode_check(black_box(&response), "12345678-abcd-ef12-3456-7890abcdef12").expect("done"),
        );
    });
    (encode, decode)
}

fn overhead_line(target: &str, (encode, decode): (f64, f64)) -> String {
    let json = serde_json::json!({
        "kind": "overhead", "target": target,
        "encode_ns": encode.round(), "decode_ns": decode.round(), "total_ns": (encode + decode).round(),
    });
    format!("BENCH {json}")
}

#[cfg(not(target_arch = "wasm32"))]
#[test]
#[ignore = "a measurement: cargo xtask bench runs it in release"]
fn native_overhead() {
    let start = std::time::Instant::now();
    println!("{}", overhead_line("native", overhead(|| start.elapsed().as_secs_f64() * 1e3)));
}

#[cfg(target_arch = "wasm32")]
mod browser {
    use super::*;
    use clipcloud::{Client, Config, PollSchedule};
    use core::time::Duration;
    use futures_util::future::{join, join_all};
    use gloo_net::http::Request;
    use serde_json::{json, Value};
    use std::collections::HashMap;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    const EMULATOR: &str = match option_env!("CLIPCLOUD_EMULATOR_URL") {
        Some(url) => url,
        None => "http://127.0.0.1:8787",
    };
    /// `cargo xtask bench --quick`: short profiles and few creations, to try the pipeline.
    const QUICK: bool = option_env!("CLIPCLOUD_BENCH_QUICK").is_some();
    const STYLE: &str = "smallHQ";
    /// Between the starts of a time-to-result wave's creations.
    const STAGGER_MS: u32 = 100;
    /// Rounds of creations between a new client's first ones and the measured ones.
    const WARM_ROUNDS: usize = if QUICK { 1 } else { 3 };

    type Web = Client<Counted>;

    /// The browser's fetch, counting the requests the page has out at once (the emulator
    /// answers each at once on one thread, so its own count says little).
    #[derive(Default)]
    struct Counted {
        out: std::cell::Cell<u32>,
        peak: std::rc::Rc<std::cell::Cell<u32>>,
    }

    impl clipcloud::Transport for Counted {
        async fn send(
            &self,
            request: &clipcloud::codec::HttpRequest,
            timeout: Duration,
        ) -> Result<HttpResponse, clipcloud::TransportError> {
            self.out.set(self.out.get() + 1);
            self.peak.set(self.peak.get().max(self.out.get()));
            let answer = clipcloud::fetch::FetchTransport.send(request, timeout).await;
            self.out.set(self.out.get() - 1);
            answer
        }
        fn sleep(&self, duration: Duration) -> impl core::future::Future<Output = ()> {
            clipcloud::fetch::FetchTransport.sleep(duration)
        }
        fn now(&self) -> Duration {
            clipcloud::fetch::FetchTransport.now()
        }
        fn random(&self) -> f64 {
            clipcloud::fetch::FetchTransport.random()
        }
    }

    async fn emulator_json(path: &str, body: Option<&str>) -> Value {
        let url = format!("{EMULATOR}{path}");
        let request = match body {
            Some(body) => {
                Request::post(&url).header("Content-Type", "application/json").body(body.to_owned())
            }
            None => Request::get(&url).build(),
        };
        let response = request.expect("request builds").send().await.expect("the emulator answers");
        serde_json::from_str(&response.text().await.expect("a body")).expect("JSON")
    }

    /// A fresh key whose creations take `delay` (the emulator's `delay_ms` JSON).
    async fn key_with_delay(delay: &Value) -> String {
        let body = json!({"balance": 1_000_000, "delay_ms": delay}).to_string();
        emulator_json("/emulator/keys", Some(&body)).await["apikey"].as_str().expect("apikey").to_owned()
    }

    fn client(key: &str, schedule: PollSchedule) -> Web {
        counted_client(key, schedule).0
    }

    /// A client, and the most requests it has had out at once so far.
    fn counted_client(key: &str, schedule: PollSchedule) -> (Web, std::rc::Rc<std::cell::Cell<u32>>) {
        let mut config = Config::new(key).base_url(EMULATOR);
        config.poll = schedule;
        let transport = Counted::default();
        let peak = transport.peak.clone();
        (Client::with_transport(config, transport).expect("valid config"), peak)
    }

    /// One finished (or failed) creation: its id, and `Date.now()` when `generate` returned.
    struct Run {
        id: Option<String>,
        returned_ms: f64,
        images: usize,
    }

    /// `n` creations on this client, one started every `stagger_ms` (0: all at once).
    async fn wave(client: &Web, n: usize, tag: &str, stagger_ms: u32) -> Vec<Run> {
        join_all((0..n).map(|i| async move {
            gloo_timers::future::TimeoutFuture::new(stagger_ms * i as u32).await;
            // Unique prompts: the emulator counts identical bodies as duplicate creates.
            let request = StyleRequest::new(format!("bench {tag} #{i}: a lighthouse at dusk"), STYLE);
            let result = client.generate(request, |_| {}).await;
            let returned_ms = js_sys::Date::now();
            match result {
                Ok(done) => Run { id: Some(done.creation_id), returned_ms, images: done.images.len() },
                Err(e) => {
                    console_log!("bench: a creation failed: {e}");
                    Run { id: None, returned_ms, images: 0 }
                }
            }
        }))
        .await
    }

    /// The emulator's record of a key's creations: id → (ready ms, when its checks arrived).
    async fn records(key: &str) -> HashMap<String, (f64, Vec<f64>)> {
        let list = emulator_json(&format!("/emulator/creations?apikey={key}"), None).await;
        list["creations"]
            .as_array()
            .expect("creations")
            .iter()
            .map(|c| {
                let id = c["creation_id"].as_str().expect("id").to_owned();
                let ready = c["ready_ms"].as_f64().expect("ready_ms");
                let checks = c["checks_ms"]
                    .as_array()
                    .map_or(Vec::new(), |a| a.iter().filter_map(Value::as_f64).collect());
                (id, (ready, checks))
            })
            .collect()
    }

    /// Nearest-rank percentile of sorted values.
    fn percentile(sorted: &[f64], p: f64) -> f64 {
        if sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
        sorted[rank.clamp(1, sorted.len()) - 1]
    }

    fn cell(
        profile: &str,
        strategy: &str,
        runs: &[Run],
        records: &HashMap<String, (f64, Vec<f64>)>,
    ) -> Value {
        let mut delays = Vec::new();
        // The schedule's own part of the delay: the first check the emulator saw at or
        // after the ready time, minus it (the rest is the answer's way back and the page).
        let mut found = Vec::new();
        let mut checks = 0usize;
        let mut lost = 0usize;
        for run in runs {
            match run.id.as_ref().and_then(|id| records.get(id)) {
                Some((ready, arrived)) if run.images > 0 => {
                    delays.push(run.returned_ms - ready);
                    if let Some(first) = arrived.iter().copied().filter(|&t| t >= *ready).reduce(f64::min) {
                        found.push(first - ready);
                    }
                    checks += arrived.len();
                }
                _ => lost += 1,
            }
        }
        delays.sort_by(f64::total_cmp);
        found.sort_by(f64::total_cmp);
        let n = delays.len();
        json!({
            "kind": "ttr", "profile": profile, "strategy": strategy, "n": n, "lost": lost,
            "delay_ms": {
                "min": percentile(&delays, 0.0), "median": percentile(&delays, 50.0),
                "p95": percentile(&delays, 95.0), "max": delays.last().copied().unwrap_or(f64::NAN),
            },
            "found_ms": { "median": percentile(&found, 50.0), "p95": percentile(&found, 95.0) },
            "checks_mean": if n == 0 { f64::NAN } else { checks as f64 / n as f64 },
        })
    }

    fn emit(value: &Value) {
        console_log!("BENCH {value}");
    }

    /// Time-to-result on every profile: the default schedule (a new client's first 20
    /// creations, then after three rounds of 10 more, the measured 30) against fixed 500 ms and 1 s polling
    /// (30 each), every strategy on a key of its own with the same generation times.
    /// Creations start 100 ms apart, the two waves of a phase interleaved: a burst of
    /// identical timers would measure the browser's six connections per host instead.
    #[wasm_bindgen_test]
    async fn time_to_result() {
        let profiles: Vec<(&str, Value)> = if QUICK {
            vec![("0.5s±10%", json!({"min": 450, "max": 550})), ("2s±10%", json!({"min": 1800, "max": 2200}))]
        } else {
            vec![
                ("0.5s±10%", json!({"min": 450, "max": 550})),
                ("2s±10%", json!({"min": 1800, "max": 2200})),
                ("2s exact", json!(2000)),
                ("8s±10%", json!({"min": 7200, "max": 8800})),
                ("30s±10%", json!({"min": 27000, "max": 33000})),
                ("random 0.5-30s", json!({"min": 500, "max": 30000})),
            ]
        };
        let (cold_n, warm_n, measured_n) = if QUICK { (6, 4, 8) } else { (20, 10, 30) };
        for (profile, delay) in profiles {
            let default_key = key_with_delay(&delay).await;
            let fixed500_key = key_with_delay(&delay).await;
            let fixed1s_key = key_with_delay(&delay).await;
            let default = client(&default_key, PollSchedule::default());
            let fixed500 = client(&fixed500_key, PollSchedule::fixed(Duration::from_millis(500)));
            let fixed1s = client(&fixed1s_key, PollSchedule::fixed(Duration::from_secs(1)));

            // Phase 1: a new client's first creations, with fixed 1 s alongside.
            let (cold, runs_1s) =
                join(wave(&default, cold_n, &format!("{profile} cold"), STAGGER_MS), async {
                    gloo_timers::future::TimeoutFuture::new(STAGGER_MS / 2).await;
                    wave(&fixed1s, measured_n, &format!("{profile} 1s"), STAGGER_MS).await
                })
                .await;
            // Phase 2: more of the same kind, in rounds (what a creation teaches the schedule
            // reaches only the creations started after it ends).
            for round in 0..WARM_ROUNDS {
                wave(&default, warm_n, &format!("{profile} warm {round}"), STAGGER_MS).await;
            }
            // Phase 3: the measured wave, side by side with fixed 500 ms.
            let (learned, runs_500) =
                join(wave(&default, measured_n, &format!("{profile} learned"), STAGGER_MS), async {
                    gloo_timers::future::TimeoutFuture::new(STAGGER_MS / 2).await;
                    wave(&fixed500, measured_n, &format!("{profile} 500ms"), STAGGER_MS).await
                })
                .await;

            let default_records = records(&default_key).await;
            emit(&cell(profile, "default", &learned, &default_records));
            emit(&cell(profile, "default, new client", &cold, &default_records));
            emit(&cell(profile, "fixed 500 ms", &runs_500, &records(&fixed500_key).await));
            emit(&cell(profile, "fixed 1 s", &runs_1s, &records(&fixed1s_key).await));
        }
    }

    /// 200 creations started at once from one page, on a new client.
    #[wasm_bindgen_test]
    async fn concurrency() {
        let n = if QUICK { 50 } else { 200 };
        let key = key_with_delay(&json!({"min": 1800, "max": 2200})).await;
        let (client, peak) = counted_client(&key, PollSchedule::default());
        let started = js_sys::Date::now();
        let runs = wave(&client, n, "concurrency", 0).await;
        let total_ms = js_sys::Date::now() - started;
        let stats = emulator_json(&format!("/emulator/stats?apikey={key}"), None).await;
        let records = records(&key).await;
        let finished = runs.iter().filter(|r| r.images == 1 && r.id.is_some()).count();
        let checks: usize = records.values().map(|(_, c)| c.len()).sum();
        emit(&json!({
            "kind": "concurrency", "creations": n, "total_ms": total_ms.round(),
            "finished_with_images": finished, "lost": n - finished,
            "emulator_creates": stats["creates"], "duplicate_creates": stats["duplicate_creates"],
            "peak_in_flight": stats["peak_in_flight"], "peak_in_flight_page": peak.get(),
            "checks_mean": checks as f64 / n as f64,
        }));
    }

    /// `performance.now()`, in ms with sub-ms resolution.
    fn performance_now() -> f64 {
        let performance =
            js_sys::Reflect::get(&js_sys::global(), &"performance".into()).expect("performance");
        let now = js_sys::Reflect::get(&performance, &"now".into()).expect("performance.now");
        let now: js_sys::Function = now.unchecked_into();
        now.call0(&performance).ok().and_then(|v| v.as_f64()).unwrap_or_else(js_sys::Date::now)
    }

    #[wasm_bindgen_test]
    fn wasm_overhead() {
        console_log!("{}", overhead_line("wasm (Chromium)", overhead(performance_now)));
    }
}
