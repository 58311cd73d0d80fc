//! `cargo xtask bench`'s held-checks lines, in one run: time to result on six generation-
//! time profiles for five ways of waiting, side by side, and 200 visitors waiting at once
//! through one gateway (its memory and open upstream requests). Prints `BENCH {json}`
//! lines; asserts only that the creations finished (speed is reported, never tested).
//!
//!     cargo test --release -p clipcloud-gateway --test bench_hold -- --ignored --nocapture
//!
//! Natively, with the core's own `Client` (feature `native`), against the emulator and a
//! release `clipcloud-gateway` process in front of it (relay mode):
//!
//! - `fixed 500 ms`: polling every 500 ms straight to the emulator, as replicate and fal do;
//! - `client cold` / `client learned`: the core's schedule straight to the emulator, a new
//!   client per creation / one client per profile that has seen the warm-up rounds;
//! - `gateway held`: a new client per creation (a browser that never created before) with
//!   held checks through the gateway, whose poller has seen the warm-up rounds;
//! - `emulator hold`: a new client with held checks straight to the emulator, which answers
//!   the moment the creation is ready: the limit.
//!
//! Each profile uses its own style, so what is learned stays per profile, as per kind in
//! use. Delay after ready = when `generate` returned (Unix ms) − the emulator's ready time
//! (the instant the creation became ready, not when a check saw it; the emulator runs in
//! this process, so one machine clock, to the ms). `CLIPCLOUD_BENCH_QUICK=1`: fewer
//! creations; `CLIPCLOUD_BENCH_ONLY=4`: one profile; `CLIPCLOUD_BENCH_DEBUG=1`: each
//! creation, with its upstream checks in ms from its ready time.

mod common;

use clipcloud::{CallOptions, Client, Config, PollSchedule, StyleRequest};
use common::*;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// (name, the emulator key's `delay_ms`, the style it is learned as)
const PROFILES: [(&str, &str, &str); 6] = [
    ("0.5 s ±10%", r#"{"min": 450, "max": 550}"#, "standard"),
    ("2 s ±10%", r#"{"min": 1800, "max": 2200}"#, "smallHQ"),
    ("8 s ±10%", r#"{"min": 7200, "max": 8800}"#, "HD-HQ"),
    ("30 s ±10%", r#"{"min": 27000, "max": 33000}"#, "FullHD-HQ-h"),
    ("exactly 2 s", "2000", "graffiti"),
    ("uniform 0.5–30 s", r#"{"min": 500, "max": 30000}"#, "illustration"),
];

const STRATEGIES: [&str; 5] =
    ["fixed 500 ms", "client cold", "client learned", "gateway held", "emulator hold"];
/// The strategies whose figures depend on what was learned before.
const LEARNING: [&str; 2] = ["client learned", "gateway held"];

const HOLD: Duration = clipcloud::hold::MAX;

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The gateway binary (built with this test), relay mode, in front of `upstream`.
struct GatewayProcess {
    child: Child,
    url: String,
}

impl GatewayProcess {
    fn start(upstream: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_clipcloud-gateway"))
            .args(["--listen", "127.0.0.1:0", "--upstream", upstream, "--log-format", "off"])
            // The 200 visitors all come from loopback, one address: its share of the held
            // checks (an eighth of --max-held) and its connections must hold them all.
            .args(["--max-connections", "4096", "--max-held", "2048"])
            .args(["--max-connections-per-address", "4096", "--request-rate-per-address", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the gateway");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().and_then(Result::ok).unwrap_or_default();
        let url = first.strip_prefix("clipcloud-gateway listening on ").expect("the ready line").to_owned();
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, url }
    }

    /// `VmRSS` and `VmHWM` (peak) in KiB, from /proc.
    fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn holds(&self) -> Value {
        let addr = self.url.trim_start_matches("http://").parse().expect("address");
        get(addr, "/healthz").json()["holds"].clone()
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn key_taking(emulator: &clipcloud_emulator::Emulator, delay: &str) -> String {
    let answer =
        post(emulator.addr(), "/emulator/keys", &format!(r#"{{"balance": 100000, "delay_ms": {delay}}}"#));
    answer.json()["apikey"].as_str().expect("a key").to_owned()
}

/// One finished creation, as the client saw it.
struct Seen {
    id: String,
    done_ms: u64,
    /// Checks the client sent (the create not counted).
    checks: u32,
}

/// One cell: a profile, a strategy, its key and (when it learns) its client.
struct Cell {
    profile: usize,
    strategy: &'static str,
    key: String,
    base_url: String,
    shared: Option<Arc<Client<clipcloud::native::NativeTransport>>>,
    measured: Mutex<Vec<Seen>>,
    lost: Mutex<u32>,
}

impl Cell {
    fn client(&self) -> Arc<Client<clipcloud::native::NativeTransport>> {
        if let Some(shared) = &self.shared {
            return shared.clone();
        }
        let mut config = Config::new(&self.key).base_url(&self.base_url);
        match self.strategy {
            "fixed 500 ms" => config.poll = PollSchedule::fixed(Duration::from_millis(500)),
            "gateway held" | "emulator hold" => config = config.held_checks(HOLD),
            _ => {}
        }
        Arc::new(Client::new(config).expect("a client"))
    }

    /// `count` creations at once; kept when `measure`.
    async fn round(self: &Arc<Self>, count: usize, measure: bool) {
        let mut tasks = Vec::new();
        for i in 0..count {
            let cell = self.clone();
            tasks.push(tokio::spawn(async move {
                // Spread the starts a little, as visitors' are.
                tokio::time::sleep(Duration::from_millis(37 * i as u64)).await;
                let client = cell.client();
                let style = PROFILES[cell.profile].2;
                let checks = Arc::new(Mutex::new(0u32));
                let counted = checks.clone();
                let options = CallOptions::new().time_limit(Duration::from_secs(120));
                let done = client
                    .generate_with(StyleRequest::new("a ripe red apple", style), &options, move |p| {
                        *counted.lock().unwrap() = p.checks;
                    })
                    .await;
                let done_ms = unix_ms();
                match done {
                    Ok(finished) if measure => {
                        let checks = *checks.lock().unwrap() + 1;
                        cell.measured.lock().unwrap().push(Seen {
                            id: finished.creation_id,
                            done_ms,
                            checks,
                        });
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("{} / {}: {e}", PROFILES[cell.profile].0, cell.strategy);
                        *cell.lost.lock().unwrap() += 1;
                    }
                }
            }));
        }
        for task in tasks {
            let _ = task.await;
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// The emulator's view of a key's creations: id → (ready ms, checks it received, created ms).
fn emulator_view(
    emulator: &clipcloud_emulator::Emulator,
    key: &str,
) -> HashMap<String, (u64, Vec<u64>, u64)> {
    let answer = get(emulator.addr(), &format!("/emulator/creations?apikey={key}"));
    let creations = answer.json()["creations"].as_array().cloned().unwrap_or_default();
    creations
        .iter()
        .map(|c| {
            let id = c["creation_id"].as_str().unwrap_or_default().to_owned();
            let ready = c["ready_ms"].as_u64().unwrap_or(0);
            let created = c["created_ms"].as_u64().unwrap_or(0);
            let checks = c["checks_ms"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_u64).collect())
                .unwrap_or_default();
            (id, (ready, checks, created))
        })
        .collect()
}

fn line(cell: &Cell, emulator: &clipcloud_emulator::Emulator) -> Value {
    let view = emulator_view(emulator, &cell.key);
    let seen = cell.measured.lock().unwrap();
    let mut delays: Vec<f64> = seen
        .iter()
        .filter_map(|s| view.get(&s.id).map(|(ready, _, _)| s.done_ms.saturating_sub(*ready) as f64))
        .collect();
    if std::env::var_os("CLIPCLOUD_BENCH_DEBUG").is_some() {
        for s in seen.iter() {
            if let Some((ready, checks, created)) = view.get(&s.id) {
                let (took, late) = (ready - created, s.done_ms.saturating_sub(*ready));
                let offs: Vec<i64> = checks.iter().map(|c| *c as i64 - *ready as i64).collect();
                eprintln!(
                    "{} | {} took {took} late {late} upstream {offs:?} browser {}",
                    PROFILES[cell.profile].0, cell.strategy, s.checks
                );
            }
        }
    }
    delays.sort_by(f64::total_cmp);
    let upstream =
        mean(seen.iter().filter_map(|s| view.get(&s.id)).map(|(_, checks, _)| checks.len() as f64));
    json!({
        "kind": "hold_ttr",
        "profile": PROFILES[cell.profile].0,
        "strategy": cell.strategy,
        "n": delays.len(),
        "delay_ms": {
            "median": percentile(&delays, 0.5),
            "p95": percentile(&delays, 0.95),
            "max": percentile(&delays, 1.0),
            "mean": (mean(delays.iter().copied()) * 10.0).round() / 10.0,
        },
        "browser_checks_mean": (mean(seen.iter().map(|s| f64::from(s.checks))) * 100.0).round() / 100.0,
        // What reached the service per creation: the gateway's pollers' checks behind
        // `gateway held`, the client's own checks otherwise.
        "upstream_checks_mean": (upstream * 100.0).round() / 100.0,
        "lost": *cell.lost.lock().unwrap(),
    })
}

#[test]
#[ignore = "a benchmark: run by `cargo xtask bench`"]
fn held_checks_side_by_side() {
    let quick = std::env::var_os("CLIPCLOUD_BENCH_QUICK").is_some();
    let (warmup, rounds, per_round, visitors_delay) = if quick {
        (2, 1, 4, r#"{"min": 4000, "max": 6000}"#)
    } else {
        // 100 creations per cell: a p95 is then the 95th of 100, not the second largest of 30.
        (3, 10, 10, r#"{"min": 20000, "max": 25000}"#)
    };
    let emulator = emulator(0);
    let gateway = GatewayProcess::start(&emulator.base_url());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let began = Instant::now();

    let mut cells = Vec::new();
    // `CLIPCLOUD_BENCH_ONLY=5`: one profile (by index), to look into it.
    let only: Option<usize> = std::env::var("CLIPCLOUD_BENCH_ONLY").ok().and_then(|v| v.parse().ok());
    for (profile, (_, delay, _)) in PROFILES.iter().enumerate().filter(|(i, _)| only.is_none_or(|o| o == *i))
    {
        for strategy in STRATEGIES {
            let key = key_taking(&emulator, delay);
            let base_url = if strategy == "gateway held" { gateway.url.clone() } else { emulator.base_url() };
            let shared = (strategy == "client learned")
                .then(|| Arc::new(Client::new(Config::new(&key).base_url(&base_url)).expect("a client")));
            cells.push(Arc::new(Cell {
                profile,
                strategy,
                key,
                base_url,
                shared,
                measured: Mutex::default(),
                lost: Mutex::default(),
            }));
        }
    }
    runtime.block_on(async {
        // Warm-up: the learning client and the gateway see creations of every profile.
        for _ in 0..warmup {
            let learning = cells.iter().filter(|c| LEARNING.contains(&c.strategy)).cloned();
            let rounds: Vec<_> =
                learning.map(|c| tokio::spawn(async move { c.round(per_round, false).await })).collect();
            for r in rounds {
                let _ = r.await;
            }
        }
        // Measured: every cell at once, so all share the machine alike.
        for _ in 0..rounds {
            let all: Vec<_> = cells
                .iter()
                .cloned()
                .map(|c| tokio::spawn(async move { c.round(per_round, true).await }))
                .collect();
            for r in all {
                let _ = r.await;
            }
        }
    });
    let mut lost = 0;
    for cell in &cells {
        let line = line(cell, &emulator);
        lost += line["lost"].as_u64().unwrap_or(0);
        println!("BENCH {line}");
    }
    let seconds = began.elapsed().as_secs();

    // 200 visitors waiting at once through the one gateway.
    let visitors = 200;
    let key = key_taking(&emulator, visitors_delay);
    let (rss_before, _) = gateway.memory_kib();
    let peak = Arc::new(Mutex::new((0u64, 0u64, 0u64, 0u64)));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        let url = gateway.url.clone();
        let pid = gateway.child.id();
        std::thread::spawn(move || {
            let addr = url.trim_start_matches("http://").parse().expect("address");
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                let holds = get(addr, "/healthz").json()["holds"].clone();
                let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                let rss = status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                let mut p = peak.lock().unwrap();
                p.0 = p.0.max(rss);
                p.1 = p.1.max(holds["held"].as_u64().unwrap_or(0));
                p.2 = p.2.max(holds["pollers"].as_u64().unwrap_or(0));
                p.3 = p.3.max(holds["upstream_in_flight"].as_u64().unwrap_or(0));
                drop(p);
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let finished = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let checks_before = gateway.holds()["upstream_checks"].as_u64().unwrap_or(0);
    runtime.block_on(async {
        let tasks: Vec<_> = (0..visitors)
            .map(|_| {
                let (url, key, finished) = (gateway.url.clone(), key.clone(), finished.clone());
                tokio::spawn(async move {
                    let client =
                        Client::new(Config::new(key).base_url(url).held_checks(HOLD)).expect("a client");
                    if client.generate(StyleRequest::new("a red apple", "oldphoto"), |_| {}).await.is_ok() {
                        finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in tasks {
            let _ = t.await;
        }
    });
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = sampler.join();
    let (rss_after, hwm) = gateway.memory_kib();
    let peak = *peak.lock().unwrap();
    let upstream_checks = gateway.holds()["upstream_checks"].as_u64().unwrap_or(0) - checks_before;
    let visitors_line = json!({
        "kind": "hold_visitors",
        "visitors": visitors,
        "delay_ms": serde_json::from_str::<Value>(visitors_delay).unwrap_or_default(),
        "finished": finished.load(std::sync::atomic::Ordering::Relaxed),
        "rss_kib_before": rss_before,
        "rss_kib_peak": peak.0,
        "rss_kib_after": rss_after,
        "vmhwm_kib": hwm,
        "held_peak": peak.1,
        "pollers_peak": peak.2,
        "upstream_in_flight_peak": peak.3,
        "upstream_checks_per_creation": (upstream_checks as f64 / visitors as f64 * 100.0).round() / 100.0,
        "caps": {"max_held": 2048, "max_pollers": 256},
    });
    println!("BENCH {visitors_line}");
    println!(
        "BENCH {}",
        json!({"kind": "hold_meta", "quick": quick, "warmup_rounds": warmup, "rounds": rounds, "per_round": per_round, "seconds": seconds})
    );
    assert_eq!(lost, 0, "every creation finished");
    assert_eq!(visitors_line["finished"], visitors);
}
