//! Contract tests: schemathesis sends requests generated from `crates/clipcloud/openapi.json`
//! to the emulator, and to a relay-mode gateway in front of another emulator, and checks
//! that no answer is a 5xx, that every status is documented, and that every answer (body,
//! content type, headers) matches the document. Part of `cargo xtask test` with a fixed seed
//! and a bounded number of examples; `cargo xtask contract --long` draws many more, with a
//! fresh seed.
//!
//! schemathesis comes from PyPI into a virtualenv under `target/contract/`, installed when
//! missing (CPython 3 with `venv` is all it needs).

use crate::{emulator, gateway, run};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Pinned: a new schemathesis may generate (and check) differently.
const SCHEMATHESIS: &str = "4.32.5";
/// A key of the test emulators, with a balance no run spends.
const KEY: &str = "contract-key";
/// The checks: no 5xx, documented statuses, and answers as documented.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_headers_conformance,response_schema_conformance";
/// Examples per operation and phase: quick (in `cargo xtask test`) and `--long`.
const QUICK_EXAMPLES: &str = "150";
const LONG_EXAMPLES: &str = "2000";
/// The quick run's seed, so that CI meets the same requests every time.
const QUICK_SEED: &str = "20261130";

pub fn command(args: &[String]) -> Result<(), String> {
    match args {
        [] => all(false),
        [flag] if flag == "--long" => all(true),
        _ => Err("usage: cargo xtask contract [--long]".into()),
    }
}

/// Both runs: the emulator, then a gateway in front of one.
pub fn all(long: bool) -> Result<(), String> {
    let work = crate::root().join("target").join("contract");
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let schemathesis = install(&work)?;
    let config = work.join("schemathesis.toml");
    std::fs::write(&config, format!("[auth.openapi.apikey]\napi_key = \"{KEY}\"\n"))
        .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
    let emulator_binary = emulator::build()?;
    let gateway_binary = gateway::build()?;
    let key_flag = format!("{KEY}=1000000");
    let emulator_flags = ["--delay-ms", "300", "--key", key_flag.as_str()];

    println!("\n== contract: schemathesis against the emulator ==");
    let log = work.join("emulator.log");
    let direct = emulator::start(&emulator_binary, &emulator_flags, &log)?;
    // The gateway's own endpoints are not the emulator's.
    let only_api = ["--exclude-path-regex", "^/(gateway/|healthz)"];
    let ran = schemathesis_run(&schemathesis, &config, &direct.url, long, &only_api);
    drop(direct);
    report("the emulator", &count_emulator_log(&log)?);
    ran?;

    println!("\n== contract: schemathesis against a relay-mode gateway in front of an emulator ==");
    let upstream = emulator::start(&emulator_binary, &emulator_flags, &work.join("upstream.log"))?;
    let dist = work.join("dist");
    std::fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
    std::fs::write(dist.join("index.html"), "<!doctype html><title>contract</title>\n")
        .map_err(|e| format!("cannot write into {}: {e}", dist.display()))?;
    let access_log = work.join("gateway.log");
    let stderr = std::fs::File::create(&access_log)
        .map_err(|e| format!("cannot create {}: {e}", access_log.display()))?;
    // Schemathesis sends as fast as it can from one address: the API's shape is checked
    // here, not the rate per address (tests/connections.rs).
    let unlimited = ["--request-rate-per-address", "0"];
    let gateway = gateway::start(
        &gateway_binary,
        "127.0.0.1:0",
        &upstream.url,
        &dist,
        &unlimited,
        Stdio::from(stderr),
    )?;
    let ran = schemathesis_run(&schemathesis, &config, &gateway.url, long, &[]);
    drop(gateway);
    drop(upstream);
    report("the gateway", &count_gateway_log(&access_log)?);
    ran
}

/// `target/contract/venv/bin/schemathesis` at [`SCHEMATHESIS`], installed if missing.
fn install(work: &Path) -> Result<PathBuf, String> {
    let venv = work.join("venv");
    let binary = venv.join("bin").join("schemathesis");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim().ends_with(SCHEMATHESIS));
    if installed {
        return Ok(binary);
    }
    println!("setup: installing schemathesis {SCHEMATHESIS} (PyPI) into {}", venv.display());
    run(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("schemathesis=={SCHEMATHESIS}"),
    ]))?;
    Ok(binary)
}

fn schemathesis_run(
    binary: &Path,
    config: &Path,
    url: &str,
    long: bool,
    extra: &[&str],
) -> Result<(), String> {
    let document = crate::root().join("crates").join("clipcloud").join("openapi.json");
    let mut command = Command::new(binary);
    command
        .current_dir(config.parent().unwrap_or(Path::new(".")))
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(config)
        .arg("run")
        .arg(document)
        .args(["--url", url, "--checks", CHECKS, "--workers", "2", "--no-shrink"])
        // A check with `Prefer: wait=30` may rightly be held 30 s (schemathesis waits 10 s).
        .args(["--request-timeout", "40"])
        .args(["--max-examples", if long { LONG_EXAMPLES } else { QUICK_EXAMPLES }])
        .args(extra);
    if !long {
        command.args(["--seed", QUICK_SEED]);
    }
    run(&mut command)
}

/// The operation of the document a request reached.
fn operation(method: &str, path: &str) -> String {
    let name = match path {
        "/api/creation" => "/api/creation",
        "/api/balance" => "/api/balance",
        "/api/styles" => "/api/styles",
        "/gateway/info" => "/gateway/info",
        "/gateway/usage" => "/gateway/usage",
        "/healthz" => "/healthz",
        "/openapi.json" => "/openapi.json",
        _ if path.starts_with("/api/creation/") => "/api/creation/{creation_id}",
        _ if path.starts_with("/images/") => "/images/{name}",
        _ => return "(undocumented paths and methods)".into(),
    };
    // Only the create is a POST; everything else is read with GET.
    let documented = if name == "/api/creation" { method == "POST" } else { method == "GET" };
    if !documented {
        return "(undocumented paths and methods)".into();
    }
    [method, " ", name].concat()
}

/// Requests per operation from the emulator's log: `[  1.0s] GET /api/balance?apikey=*** -> 200 (0 ms)`.
fn count_emulator_log(log: &Path) -> Result<BTreeMap<String, u64>, String> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let Some((_, request)) = line.split_once("] ") else { continue };
        let mut words = request.split_whitespace();
        let (Some(method), Some(target)) = (words.next(), words.next()) else { continue };
        let path = target.split('?').next().unwrap_or_default();
        *counts.entry(operation(method, path)).or_default() += 1;
    }
    Ok(counts)
}

/// Requests per operation from the gateway's access log (one JSON object a line).
fn count_gateway_log(log: &Path) -> Result<BTreeMap<String, u64>, String> {
    let text = std::fs::read_to_string(log).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let (Some(method), Some(path)) = (entry["method"].as_str(), entry["path"].as_str()) else { continue };
        *counts.entry(operation(method, path)).or_default() += 1;
    }
    Ok(counts)
}

fn report(server: &str, counts: &BTreeMap<String, u64>) {
    let total: u64 = counts.values().sum();
    println!("\ncontract: {total} requests reached {server}:");
    for (operation, n) in counts {
        println!("  {n:>6}  {operation}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_per_operation() {
        assert_eq!(operation("GET", "/api/creation/ab%2F1"), "GET /api/creation/{creation_id}");
        assert_eq!(operation("POST", "/api/creation"), "POST /api/creation");
        assert_eq!(operation("GET", "/schemathesis-probe"), "(undocumented paths and methods)");
        assert_eq!(operation("PUT", "/api/balance"), "(undocumented paths and methods)");
        assert_eq!(operation("GET", "/api/creation"), "(undocumented paths and methods)");
        assert_eq!(operation("POST", "/api/styles"), "(undocumented paths and methods)");
        assert_eq!(operation("GET", "/healthz"), "GET /healthz");
    }
}
