//! Every connection ends, and one host cannot crowd out the others: the attacks of issue 25
//! replayed against the built binary, with a normal client measuring its latencies from
//! another address meanwhile. Clients that never read their answers (pipelined `/healthz`,
//! a large file) are cut within `--write-timeout`; slowloris from one address beyond
//! `--max-connections` is refused at once past `--max-connections-per-address`.
//!
//! Linux only (source addresses 127.0.0.x, `/proc`). Each test prints what it measured.

mod common;

use common::*;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One attack at a time: they share the machine's descriptors and cores.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const ATTACKER: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 1);
const VISITOR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);
/// The generous bound on a normal client's p99 during an attack (the aim is 100 ms).
const P99_BOUND: Duration = Duration::from_secs(1);
/// The same during a flood of requests the gateway answers before it is cut (the pipelined
/// ones: some 150,000 answers), where the gateway's speed counts: an unoptimized build
/// answers about ten times slower than a release build.
const FLOOD_P99_BOUND: Duration = if cfg!(debug_assertions) { Duration::from_secs(10) } else { P99_BOUND };
/// How long the state each test waits for may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(120);

/// How many attacking connections the descriptor limit allows (both this process and the
/// gateway, which inherits it, hold one per connection), at most `wanted`.
fn scaled(wanted: usize) -> usize {
    let limits = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .and_then(|line| line.split_whitespace().nth(3))
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1024);
    let allowed = soft.saturating_sub(200).min(wanted);
    if allowed < wanted {
        println!("descriptor limit {soft}: {allowed} attacking connections instead of {wanted}");
    }
    allowed
}

/// A connection from `from` to `to`. An attacker's (`unread`) is as over the internet, a
/// real network's segment size (loopback's 64 KiB ones make the kernel take a megabyte of
/// answers per connection), with the smallest receive buffer the kernel allows: so answers
/// nobody reads fill what the kernel holds for the connection after some 40 KiB.
async fn connect(from: Ipv4Addr, to: SocketAddr, unread: bool) -> std::io::Result<TcpStream> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    if unread {
        socket.set_tcp_mss(1400)?;
        socket.set_recv_buffer_size(1)?;
    }
    socket.bind(&SocketAddr::new(IpAddr::V4(from), 0).into())?;
    socket.set_nonblocking(true)?;
    match socket.connect(&to.into()) {
        Err(e) if e.raw_os_error() != Some(libc_einprogress()) => return Err(e),
        _ => {}
    }
    let stream = TcpStream::from_std(std::net::TcpStream::from(socket))?;
    stream.writable().await?;
    match stream.take_error()? {
        Some(e) => Err(e),
        None => Ok(stream),
    }
}

/// `EINPROGRESS` on Linux: a non-blocking connect under way.
fn libc_einprogress() -> i32 {
    115
}

/// A normal visitor: `GET target` on a new connection from 127.0.0.2; the status and how
/// long the whole answer took.
async fn visit(gateway: SocketAddr, target: &str) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = connect(VISITOR, gateway, false).await.expect("the visitor connects");
    let request = format!("GET {target} HTTP/1.1\r\nHost: {gateway}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("the visitor sends");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let status = String::from_utf8_lossy(answer.get(9..12).unwrap_or_default()).parse().unwrap_or(0);
    (status, started.elapsed())
}

/// Visits `/healthz` one after another until `stop`, at least `at_least` times: every
/// status must be 200; the latencies, sorted.
async fn probe(gateway: SocketAddr, stop: Arc<AtomicBool>, at_least: usize) -> Vec<Duration> {
    let mut latencies = Vec::new();
    while latencies.len() < at_least || !stop.load(Ordering::SeqCst) {
        let (status, took) = visit(gateway, "/healthz").await;
        assert_eq!(status, 200, "a normal visitor was refused during the attack");
        latencies.push(took);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies.sort();
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The visitor's latencies during `attack`, for `cargo xtask bench` (which runs this file in
/// a release build: the goal, a p99 under 100 ms, is a benchmark figure, not a
/// timed assertion).
fn bench_line(attack: &str, p50: Duration, p99: Duration, max: Duration) {
    let ms = |d: Duration| (d.as_secs_f64() * 10_000.0).round() / 10.0;
    let line = serde_json::json!({
        "kind": "gateway_attack", "attack": attack, "visitor_ms": { "p50": ms(p50), "p99": ms(p99), "max": ms(max) },
    });
    println!("BENCH {line}");
}

/// Waits until the gateway holds no more descriptors than `baseline` + `slack`: every
/// attacking connection closed. How long after `since` that was.
async fn until_closed(gateway: &GatewayProcess, baseline: usize, slack: usize, since: Instant) -> Duration {
    loop {
        if gateway.open_fds() <= baseline + slack {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < PATIENCE,
            "{} descriptors still open after {PATIENCE:?} (baseline {baseline})",
            gateway.open_fds()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every attacking socket finds its connection closed by the gateway: the end of the stream
/// (after what was buffered) or a reset, within a few seconds.
async fn all_closed(streams: Vec<TcpStream>) {
    for mut stream in streams {
        let mut sink = vec![0; 64 * 1024];
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match stream.read(&mut sink).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
            }
        });
        assert!(ended.await.is_ok(), "an attacking connection is still open");
    }
}

/// The gateway with short bounds for these tests, and its descriptors before any attack.
fn start(extra: &[&str]) -> (GatewayProcess, usize) {
    let mut args = vec!["--upstream", "http://127.0.0.1:9", "--log-format", "off", "--write-timeout", "2"];
    args.extend(extra);
    let gateway = GatewayProcess::start(&args, &[]);
    let baseline = gateway.open_fds();
    (gateway, baseline)
}

/// Attack, probe from another address meanwhile until every attacking connection is closed;
/// prints and checks the figures.
async fn unread_attack(name: &str, gateway: GatewayProcess, baseline: usize, count: usize, request: &[u8]) {
    let addr = gateway.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let prober = tokio::spawn(probe(addr, stop.clone(), 100));
    let mut streams = Vec::with_capacity(count);
    for i in 0..count {
        // Hosts of 64 connections each (the default cap per address), on their own addresses.
        let host = Ipv4Addr::new(127, 0, 1, 1 + (i / 64) as u8);
        let mut stream = connect(host, addr, true).await.expect("the attacker connects");
        stream.write_all(request).await.expect("the attacker sends");
        streams.push(stream);
    }
    let sent = Instant::now();
    let peak = gateway.open_fds().saturating_sub(baseline);
    // Nothing is read: the gateway must close them. The visitor holds at most one.
    let cut_after = until_closed(&gateway, baseline, 1, sent).await;
    stop.store(true, Ordering::SeqCst);
    let latencies = prober.await.unwrap();
    let (p50, p99, max) =
        (percentile(&latencies, 0.5), percentile(&latencies, 0.99), latencies[latencies.len() - 1]);
    println!(
        "{name}: {count} unread connections ({peak} open at the peak) all cut {cut_after:?} after the last was sent \
         (--write-timeout 2 s); visitor /healthz over {} requests: p50 {p50:?}, p99 {p99:?}, max {max:?}",
        latencies.len()
    );
    bench_line(name, p50, p99, max);
    all_closed(streams).await;
    assert!(p99 < FLOOD_P99_BOUND, "{name}: the visitor's p99 was {p99:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_pipelined_answers_are_cut() {
    let _one = ONE_AT_A_TIME.lock().await;
    let count = scaled(1_100);
    // A long --header-timeout: what closes them must be the write timeout.
    let (gateway, baseline) = start(&["--header-timeout", "600", "--max-connections", "2048"]);
    let pipelined = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(150);
    unread_attack("pipelined /healthz", gateway, baseline, count, pipelined.as_bytes()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_a_large_file_are_cut() {
    let _one = ONE_AT_A_TIME.lock().await;
    let count = scaled(200);
    let dist = temp_dir("dist");
    std::fs::write(dist.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    std::fs::write(dist.join("large.bin"), vec![7u8; 8 * 1024 * 1024]).unwrap();
    let (gateway, baseline) = start(&["--static-dir", dist.to_str().unwrap(), "--header-timeout", "600"]);
    let request = b"GET /large.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    unread_attack("large file", gateway, baseline, count, request).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_from_one_address_does_not_starve_another() {
    let _one = ONE_AT_A_TIME.lock().await;
    let count = scaled(1_500);
    let (max, per_address) = (256, 64);
    let (gateway, baseline) = start(&[
        "--max-connections",
        &max.to_string(),
        "--max-connections-per-address",
        &per_address.to_string(),
    ]);
    let addr = gateway.addr;
    // Each attacker sends half a head, then a byte a second, and notes when the gateway
    // answers or closes instead of waiting.
    let refused = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    let opened = Instant::now();
    for _ in 0..count {
        let Ok(mut stream) = connect(ATTACKER, addr, false).await else {
            refused.fetch_add(1, Ordering::SeqCst);
            continue;
        };
        let (refused, stop) = (refused.clone(), stop.clone());
        attackers.push(tokio::spawn(async move {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").await;
            let mut byte = [0; 1];
            while !stop.load(Ordering::SeqCst) {
                tokio::select! {
                    read = stream.read(&mut byte) => {
                        // An answer (the 503) or the end: refused, not left waiting.
                        let _ = read;
                        refused.fetch_add(1, Ordering::SeqCst);
                        return;
                    }
                    () = tokio::time::sleep(Duration::from_secs(1)) => {
                        if stream.write_all(b"a").await.is_err() {
                            refused.fetch_add(1, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            }
        }));
    }
    let opening = opened.elapsed();
    // All but the per-address share are refused at once: no connection waits in a queue.
    let deadline = Instant::now() + PATIENCE;
    while refused.load(Ordering::SeqCst) < count - per_address {
        assert!(Instant::now() < deadline, "only {} of {count} refused", refused.load(Ordering::SeqCst));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let held = gateway.open_fds().saturating_sub(baseline);
    let latencies = probe(addr, Arc::new(AtomicBool::new(true)), 200).await;
    let still_held = count - refused.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    for attacker in attackers {
        let _ = attacker.await;
    }
    let (p50, p99, max_latency) =
        (percentile(&latencies, 0.5), percentile(&latencies, 0.99), latencies[latencies.len() - 1]);
    println!(
        "slowloris: {count} connections from one address opened in {opening:?}, {} refused at once, {held} held \
         by the gateway (cap {per_address} per address, {max} in all), {still_held} still held after the \
         visitor's run; visitor /healthz from another address over {} requests: p50 {p50:?}, p99 {p99:?}, \
         max {max_latency:?}",
        count - still_held,
        latencies.len()
    );
    bench_line("slowloris", p50, p99, max_latency);
    assert!(held <= per_address + 1, "{held} connections held for one address");
    assert!(p99 < P99_BOUND, "slowloris: the visitor's p99 was {p99:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelined_flood_from_one_address_costs_one_burst() {
    let _one = ONE_AT_A_TIME.lock().await;
    let (rate, burst) = (20, 100); // --request-rate-per-address 20: bursts of 5 s' worth
    let (gateway, _) = start(&["--request-rate-per-address", &rate.to_string()]);
    let mut stream = connect(ATTACKER, gateway.addr, false).await.unwrap();
    let sent = 1_000;
    stream.write_all("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".repeat(sent).as_bytes()).await.unwrap();
    let mut answers = Vec::new();
    let read = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answers)).await;
    let Ok(ended) = read else { panic!("the gateway kept the connection open") };
    let answers = String::from_utf8_lossy(&answers);
    let ok = answers.matches("HTTP/1.1 200 ").count();
    let refused = answers.matches("HTTP/1.1 429 ").count();
    println!(
        "{sent} pipelined requests from one address: {ok} answered, {refused} refused, then the connection \
         closed ({})",
        ended.as_ref().map_or_else(|e| format!("{e}"), |_| "cleanly".into())
    );
    // Never more than the burst (and what refilled while it was answered).
    assert!(ok < burst + 10, "{ok} answered");
    match ended {
        // The burst, one refusal, and nothing more read.
        Ok(_) => {
            assert!(ok >= burst, "{ok} answered");
            assert_eq!(refused, 1, "{answers}");
            assert!(answers.contains("retry-after: ") && answers.contains("connection: close"), "{answers}");
        }
        // The gateway closed with requests of the flood still unread, so the kernel reset the
        // connection, and the answers this side had not read yet (the 429 among them) are lost.
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}"),
    }
    // Another address is not affected.
    let (status, _) = visit(gateway.addr, "/healthz").await;
    assert_eq!(status, 200);
}
