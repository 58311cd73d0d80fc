//! Project commands, so a fresh machine needs nothing but cargo:
//!
//!   cargo xtask serve   install what is missing, build the SPA, serve it (gateway in front of the emulator), print the URL
//!   cargo xtask test    install what is missing, run every test (native + Chromium, Firefox ESR, WebKitGTK)
//!   cargo xtask setup   only install what is missing
//!   cargo xtask lint    only the code's checks (format, import circles, rust-version, cargo deny, clippy, docs)
//!   cargo xtask fresh-home  fetch into an empty cargo home, resolve the wasm builds offline
//!   cargo xtask fuzz    fuzz the core's decoder and validation for a bounded time
//!   cargo xtask contract schemathesis against the emulator and the gateway (--long: many more requests)
//!   cargo xtask package build the npm package (target/npm/) and print its sizes (--test: then its tests)
//!   cargo xtask spa-size build the SPA (release) and print what a first visit downloads
//!   cargo xtask code-size FILE.wasm  a wasm module's code by crate and by function (names kept)
//!   cargo xtask browsers only the browser suites, in the three engines; writes the supported-browsers record
//!   cargo xtask e2e     only the SPA's end-to-end tests (release build, Chromium, Firefox ESR, WebKitGTK)
//!   cargo xtask bench   build release artifacts, measure sizes, time-to-result, concurrency, overhead, the gateway beside nginx
//!   cargo xtask dist    the release tarball (gateway, app, deploy files) in target/dist/, checked
//!   cargo xtask image   the container image (deploy/Containerfile), built offline, run, checked

#![forbid(unsafe_code)]

mod access_logs;
mod behind_proxies;
mod bench;
mod bench_hold;
mod bench_lines;
mod bench_nginx;
mod browser;
mod browsers;
mod circles;
mod code_size;
mod compress;
mod contract;
mod csp;
mod dead_slots;
mod display;
mod dist;
mod emulator;
mod files;
mod fresh_home;
mod fuzz;
mod gateway;
mod glue;
mod image;
mod lint;
mod metadata;
mod outside_paths;
mod package;
mod proxies;
mod release_wasm;
mod rust_version;
mod scenarios;
mod setup;
mod short_names;
mod slow_phone;
mod spa;
mod split;
mod supported;
mod test;
mod wasm_sections;

use std::process::{Command, ExitCode, Stdio};

/// The emulator's key that works out of the box (`clipcloud_emulator::DEMO_KEY`).
const DEMO_KEY: &str = "demo-key";

const USAGE: &str = "usage: cargo xtask <setup | serve [--port N] | test | lint | fresh-home | package [--test] | spa-size | code-size FILE.wasm | browsers | e2e | bench [--quick | --slow-phone | --held | --versus-nginx] | fuzz [SECONDS] | contract [--long] | dist | image>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::all(),
        Some("serve") => serve(&args[1..]),
        Some("test") => test::all(),
        Some("lint") => lint::all(),
        Some("fresh-home") => fresh_home::check(),
        Some("fuzz") => fuzz::all(&args[1..]),
        Some("contract") => contract::command(&args[1..]),
        Some("package") => package::command(&args[1..]),
        Some("spa-size") => spa::size_command(),
        Some("code-size") => code_size::command(&args[1..]),
        Some("browsers") => test::browsers_command(),
        Some("e2e") => spa::e2e_command(),
        Some("bench") => bench::command(&args[1..]),
        Some("dist") => dist::command(),
        Some("image") => image::command(),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the SPA (release) and serves it as it is deployed, offline: the emulator on a
/// free port, and in front of it, on a fixed port (default 8787), the gateway serving
/// `dist/` in operator-key mode with the emulator's demo key, so the page needs no key.
fn serve(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => "8787".to_owned(),
        [flag, port] if flag == "--port" => port.clone(),
        _ => return Err(USAGE.to_owned()),
    };
    let dist = spa::build()?;
    let emulator_binary = emulator::build()?;
    let gateway_binary = gateway::build()?;
    let target = root().join("target");
    let log = target.join("serve-emulator.log");
    let emulator = emulator::start(&emulator_binary, &[], &log)?;
    let mut operator = gateway::demo_operator_flags("serve")?;
    operator.extend(["--creates-per-minute", "30"].map(str::to_owned));
    let operator: Vec<&str> = operator.iter().map(String::as_str).collect();
    let listen = format!("127.0.0.1:{port}");
    // The gateway's access log on the terminal, as the emulator's request log was.
    let gateway =
        gateway::start(&gateway_binary, &listen, &emulator.url, &dist, &operator, Stdio::inherit())?;
    println!(
        "\nOpen {}/ (the app; the gateway adds the emulator's demo key, no key needed). Ctrl-C stops.\n",
        gateway.url
    );
    let served = gateway.wait();
    drop(emulator);
    served
}

/// Builds one of the workspace's binaries (dev profile: quick to build) and returns its path.
pub fn build_binary(package: &str) -> Result<std::path::PathBuf, String> {
    run(Command::new("cargo").args(["build", "--quiet", "-p", package]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    Ok(target.join("debug").join(package))
}

/// Runs a command with inherited output; fails with the command line if it fails.
pub fn run(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// The size of a file as a server sends it compressed: `gzip -9`, without the file's name
/// and time in the header (`-n`).
pub fn gzip9_len(path: &std::path::Path) -> Result<usize, String> {
    let out = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip failed on {}", path.display()));
    }
    Ok(out.stdout.len())
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
