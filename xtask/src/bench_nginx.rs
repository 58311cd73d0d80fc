//! `cargo xtask bench`'s gateway beside nginx: the gateway as shipped (`cargo xtask dist`'s
//! build: release profile, `--features tls`) in relay mode, and Debian's nginx with a plain
//! `proxy_pass` (the shipped site's, over plain HTTP as the gateway's listener is here),
//! each in front of the same emulator in the same run, loaded in turn by `wrk`
//! with [`CONNECTIONS`] connections on each of [`PATHS`]. It prints figures and the goal;
//! it never fails on speed.

use crate::proxies::{free_port, main_config, plain_http_site, port_of, run_nginx};
use crate::{emulator, gateway, root};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Stdio};

const CONNECTIONS: u32 = 32;
/// wrk's threads: one per core here.
const THREADS: u32 = 2;
/// Each measured run's length, and how many runs per path and server, the two servers in
/// turn (the median counts: other work on the machine moves single runs).
const SECONDS: u32 = 10;
const ROUNDS: usize = 3;
/// Before the measured runs, each server is loaded this long (connections, caches, pools).
const WARM_UP_SECONDS: u32 = 2;
/// The two relayed reads the app makes most (the key as the plain service takes it, so that
/// both servers relay the very same request).
const PATHS: [&str; 2] = ["/api/balance", "/api/styles"];
const QUERY: &str = "?apikey=demo-key";
/// The goal: the gateway's throughput at least this share of nginx's...
const THROUGHPUT_SHARE: f64 = 0.8;
/// ...and its p99 at most nginx's plus this.
const P99_MARGIN_MS: f64 = 2.0;

/// One server's figures on one path.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Run {
    requests_per_second: f64,
    p99_ms: f64,
}

/// Measures and prints; `Err` only when the servers or wrk could not run. `dist`: the app the
/// gateway serves (as deployed; the bench asks it for none of it).
pub fn run(dist: &Path) -> Result<Value, String> {
    println!("\n== bench: the gateway as shipped beside nginx proxy_pass, wrk, {CONNECTIONS} connections ==");
    let root = root();
    let gateway_binary = crate::dist::release_build(None)?.join("clipcloud-gateway");
    let dir = root.join("target").join("bench-nginx");
    crate::files::fresh_dir(&dir)?;
    let emulator = emulator::start(&emulator::build()?, &["--quiet"], &dir.join("emulator.log"))?;
    let gateway_log = std::fs::File::create(dir.join("gateway.log")).map_err(|e| e.to_string())?;
    // wrk's 32 connections come from one address: the rate per address would refuse them.
    let unlimited = ["--request-rate-per-address", "0"];
    let gateway = gateway::start(
        &gateway_binary,
        "127.0.0.1:0",
        &emulator.url,
        dist,
        &unlimited,
        Stdio::from(gateway_log),
    )?;
    let listen = free_port()?;
    let site = plain_http_site(listen, port_of(&emulator.url)?)?;
    std::fs::write(dir.join("site.conf"), site).map_err(|e| e.to_string())?;
    let config = main_config(&dir, &dir.join("access.log"), "include site.conf;");
    std::fs::write(dir.join("nginx.conf"), config).map_err(|e| e.to_string())?;
    let mut nginx = run_nginx(&dir)?;
    let nginx_url = format!("http://127.0.0.1:{listen}");
    let measured = (|| {
        let mut paths = Vec::new();
        for path in PATHS {
            let gateway_url = format!("{}{path}{QUERY}", gateway.url);
            let nginx_url = format!("{nginx_url}{path}{QUERY}");
            wrk(&gateway_url, WARM_UP_SECONDS)?;
            wrk(&nginx_url, WARM_UP_SECONDS)?;
            let (mut through_gateway, mut through_nginx) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                through_gateway.push(wrk(&gateway_url, SECONDS)?);
                through_nginx.push(wrk(&nginx_url, SECONDS)?);
            }
            paths.push(compared(path, &through_gateway, &through_nginx));
        }
        Ok::<_, String>(paths)
    })();
    let _ = Command::new("kill").args(["-TERM", &nginx.id().to_string()]).status();
    let _ = nginx.wait();
    let paths = measured?;
    let result = json!({
        "connections": CONNECTIONS, "threads": THREADS, "seconds": SECONDS, "rounds": ROUNDS,
        "goal": {"throughput_share": THROUGHPUT_SHARE, "p99_margin_ms": P99_MARGIN_MS},
        "wrk": version("wrk", "-v"), "nginx": version(crate::proxies::NGINX, "-v"),
        "paths": paths,
    });
    println!("{}", report(&result));
    Ok(result)
}

/// `wrk` on `url` for `seconds`; fails on a non-2xx answer or a socket error.
fn wrk(url: &str, seconds: u32) -> Result<Run, String> {
    let out = Command::new("wrk")
        .args(["-t", &THREADS.to_string(), "-c", &CONNECTIONS.to_string(), "-d", &format!("{seconds}s")])
        .arg("--latency")
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run wrk (apt-get install wrk): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!("wrk failed on {url}: {text}"));
    }
    parse_wrk(&text).map_err(|e| format!("wrk on {url}: {e}\n{text}"))
}

fn parse_wrk(text: &str) -> Result<Run, String> {
    for refusal in ["Non-2xx or 3xx responses", "Socket errors"] {
        if let Some(line) = text.lines().find(|l| l.trim_start().starts_with(refusal)) {
            return Err(format!("not every request was answered: {}", line.trim()));
        }
    }
    let requests_per_second = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|n| n.trim().parse().ok())
        .ok_or("no Requests/sec line")?;
    let p99 =
        text.lines().find_map(|l| l.trim_start().strip_prefix("99%")).ok_or("no 99% line (--latency)")?;
    Ok(Run { requests_per_second, p99_ms: milliseconds(p99.trim())? })
}

/// wrk's `635.91us`, `2.87ms`, `1.02s` in milliseconds.
fn milliseconds(value: &str) -> Result<f64, String> {
    let split =
        value.find(|c: char| c.is_ascii_alphabetic()).ok_or_else(|| format!("no unit in {value:?}"))?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("not a number: {value:?}"))?;
    match unit {
        "us" => Ok(number / 1000.0),
        "ms" => Ok(number),
        "s" => Ok(number * 1000.0),
        "m" => Ok(number * 60_000.0),
        _ => Err(format!("unknown unit in {value:?}")),
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One path's medians, the ratios and whether the goal is met.
fn compared(path: &str, gateway: &[Run], nginx: &[Run]) -> Value {
    let side = |runs: &[Run]| {
        let rps = median(runs.iter().map(|r| r.requests_per_second).collect());
        let p99 = median(runs.iter().map(|r| r.p99_ms).collect());
        let each: Vec<Value> =
            runs.iter().map(|r| json!([r.requests_per_second.round(), round2(r.p99_ms)])).collect();
        (rps, p99, json!({"requests_per_second": rps.round(), "p99_ms": round2(p99), "rounds": each}))
    };
    let (gateway_rps, gateway_p99, gateway) = side(gateway);
    let (nginx_rps, nginx_p99, nginx) = side(nginx);
    let share = gateway_rps / nginx_rps;
    let added = gateway_p99 - nginx_p99;
    json!({
        "path": path, "gateway": gateway, "nginx": nginx,
        "throughput_share": round2(share), "p99_added_ms": round2(added),
        "goal_met": share >= THROUGHPUT_SHARE && added <= P99_MARGIN_MS,
    })
}

/// The table printed and kept in the bench's text.
pub fn report(result: &Value) -> String {
    let mut out = format!(
        "\nGateway (release, relay) beside nginx proxy_pass, same emulator, wrk {} connections, {} x {} s each \
         (medians; goal: >= {:.1}x nginx's req/s, p99 <= nginx's + {} ms):\n",
        result["connections"], result["rounds"], result["seconds"], THROUGHPUT_SHARE, P99_MARGIN_MS
    );
    out += &format!(
        "  {:<14} {:>12} {:>10} {:>12} {:>10} {:>8} {:>10}  {}\n",
        "path", "gateway r/s", "p99 ms", "nginx r/s", "p99 ms", "share", "p99 +ms", "goal met"
    );
    let num = |value: &Value| value.as_f64().unwrap_or(f64::NAN);
    for p in result["paths"].as_array().into_iter().flatten() {
        out += &format!(
            "  {:<14} {:>12.0} {:>10.2} {:>12.0} {:>10.2} {:>8.2} {:>10.2}  {}\n",
            p["path"].as_str().unwrap_or_default(),
            num(&p["gateway"]["requests_per_second"]),
            num(&p["gateway"]["p99_ms"]),
            num(&p["nginx"]["requests_per_second"]),
            num(&p["nginx"]["p99_ms"]),
            num(&p["throughput_share"]),
            num(&p["p99_added_ms"]),
            if p["goal_met"] == true { "yes" } else { "no" }
        );
    }
    out
}

/// A tool's version line (wrk prints it on stdout, nginx on stderr).
fn version(program: &str, flag: &str) -> Option<String> {
    let out = Command::new(program).arg(flag).output().ok()?;
    let text = [out.stdout, out.stderr].concat();
    String::from_utf8_lossy(&text).lines().next().map(|l| l.trim().to_owned())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "Running 10s test @ http://127.0.0.1:1/api/balance?apikey=demo-key
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.01ms    1.20ms  30.00ms   90.00%
    Req/Sec     8.10k     0.50k    9.00k    70.00%
  Latency Distribution
     50%    1.80ms
     75%    2.30ms
     90%    3.10ms
     99%  635.91us
  161234 requests in 10.00s, 20.00MB read
Requests/sec:  16123.40
Transfer/sec:      2.00MB
";

    #[test]
    fn reads_throughput_and_p99() {
        let run = parse_wrk(WRK).unwrap();
        assert_eq!(run, Run { requests_per_second: 16123.4, p99_ms: 0.63591 });
        let refused = WRK.replace("Requests/sec", "  Non-2xx or 3xx responses: 12\nRequests/sec");
        assert!(parse_wrk(&refused).unwrap_err().contains("Non-2xx"));
        assert!(parse_wrk("Requests/sec: 1").is_err());
    }

    #[test]
    fn units() {
        assert_eq!(milliseconds("2.87ms").unwrap(), 2.87);
        assert_eq!(milliseconds("1.5s").unwrap(), 1500.0);
        assert!(milliseconds("3").is_err());
        assert!(milliseconds("3ns").is_err());
    }

    #[test]
    fn goal_from_medians() {
        let run = |rps, p99| Run { requests_per_second: rps, p99_ms: p99 };
        let met = compared("/x", &[run(8.0, 5.0), run(9.0, 5.0), run(1.0, 50.0)], &[run(10.0, 4.0); 3]);
        assert_eq!(met["throughput_share"], 0.8);
        assert_eq!(met["goal_met"], true);
        let slow = compared("/x", &[run(8.0, 6.5); 3], &[run(10.0, 4.0); 3]);
        assert_eq!(slow["goal_met"], false);
    }
}
