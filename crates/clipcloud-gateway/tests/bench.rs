//! `cargo xtask bench`'s gateway lines, measured in one run on loopback: what a call costs
//! through the gateway against the emulator directly (p50/p95), and the requests per
//! second it holds with 200 visitors at once. Prints `BENCH {json}` lines; asserts only
//! that every call succeeded (speed is reported, never tested).
//!
//!     cargo test --release -p clipcloud-gateway --test bench -- --ignored --nocapture

mod common;

use clipcloud_gateway::Running;
use common::*;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Empty<Bytes>>;

const SEQUENTIAL: usize = 2_000;
const VISITORS: usize = 200;
const LOAD_FOR: Duration = Duration::from_secs(3);

async fn call(client: &Http, url: &str) -> u16 {
    let response = client.get(url.parse().unwrap()).await.expect("a call");
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    status
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

/// One call after another on a kept-alive connection: p50 and p95 in µs.
async fn latency(client: &Http, url: &str) -> (f64, f64) {
    for _ in 0..100 {
        assert_eq!(call(client, url).await, 200);
    }
    let mut times = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let began = Instant::now();
        assert_eq!(call(client, url).await, 200);
        times.push(began.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.95))
}

/// `VISITORS` callers at once, each on its own connection, for `LOAD_FOR`: calls a second.
async fn throughput(url: &str) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Instant::now() + LOAD_FOR;
    let tasks: Vec<_> = (0..VISITORS)
        .map(|_| {
            let (done, url) = (done.clone(), url.to_owned());
            tokio::spawn(async move {
                let client: Http = Client::builder(TokioExecutor::new()).build_http();
                while Instant::now() < stop {
                    assert_eq!(call(&client, &url).await, 200);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / LOAD_FOR.as_secs_f64()
}

#[test]
#[ignore = "a benchmark: cargo xtask bench runs it"]
fn gateway_overhead_and_throughput() {
    let emulator = emulator(2_000);
    let key = fresh_key(&emulator, 1_000_000.0);
    let mut config = relay_config(&emulator.base_url());
    config.limits.max_connections = 4 * VISITORS;
    // Every visitor comes from loopback: one address may hold them all.
    config.limits.max_connections_per_address = 4 * VISITORS;
    // ...and send as many requests a second as they can.
    config.limits.request_rate_per_address = 0;
    let gateway = Running::start(config).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let client: Http = Client::builder(TokioExecutor::new()).build_http();
        let direct_url = format!("{}/api/balance?apikey={key}", emulator.base_url());
        let through_url = format!("{}/api/balance?apikey={key}", gateway.url());
        let direct = latency(&client, &direct_url).await;
        let through = latency(&client, &through_url).await;
        let line = serde_json::json!({
            "kind": "gateway_latency", "calls": SEQUENTIAL, "call": "GET /api/balance",
            "direct_us": {"p50": direct.0.round(), "p95": direct.1.round()},
            "gateway_us": {"p50": through.0.round(), "p95": through.1.round()},
            "added_us": {"p50": (through.0 - direct.0).round(), "p95": (through.1 - direct.1).round()},
        });
        println!("BENCH {line}");
        let direct_rps = throughput(&direct_url).await;
        let gateway_rps = throughput(&through_url).await;
        let line = serde_json::json!({
            "kind": "gateway_throughput", "visitors": VISITORS, "seconds": LOAD_FOR.as_secs(),
            "direct_rps": direct_rps.round(), "gateway_rps": gateway_rps.round(),
            "ratio": ((gateway_rps / direct_rps) * 100.0).round() / 100.0,
        });
        println!("BENCH {line}");
    });
}
