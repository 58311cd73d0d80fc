//! The newcomer's check: would the builds that run offline find every crate on a machine
//! whose cargo cache is empty? In a fresh, empty `CARGO_HOME` (never the machine's own
//! registry), it runs the fetch step the README's commands run (`setup::fetch`), then
//! resolves the shipped wasm builds offline exactly as they are built (the same package,
//! target, profile and `-Z build-std` environment), without compiling: `--unit-graph`
//! needs every crate's sources, std's own included, and fails on any the fetch missed.
//!
//! Resolving instead of building keeps it to seconds of CPU (a full build there would
//! recompile every dependency, std included, a few minutes per build on 2 cores).

use crate::{release_wasm, root, run};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The crates of the builds that run offline or after the fetch: the app and the bench's
/// hello page (Trunk, `offline = true`), and the npm package.
const SHIPPED_WASM: [&str; 3] =
    ["crates/clipcloud-app/Cargo.toml", "tests/bench/hello/Cargo.toml", "crates/clipcloud-js/Cargo.toml"];

pub fn check() -> Result<(), String> {
    println!("\n== fresh cargo home: fetch, then resolve the shipped wasm builds offline ==");
    let started = Instant::now();
    let home = root().join("target").join("fresh-cargo-home");
    if home.exists() {
        std::fs::remove_dir_all(&home).map_err(|e| format!("cannot clear {}: {e}", home.display()))?;
    }
    std::fs::create_dir_all(&home).map_err(|e| format!("cannot create {}: {e}", home.display()))?;
    crate::setup::fetch(Some(&home))?;
    let fetched = started.elapsed();
    let std = release_wasm::mode();
    for manifest in SHIPPED_WASM {
        resolve_offline(&home, manifest, std)?;
    }
    println!(
        "fresh cargo home: fetched in {:.1} s, {} builds resolved offline in {:.1} s ({})",
        fetched.as_secs_f64(),
        SHIPPED_WASM.len(),
        (started.elapsed() - fetched).as_secs_f64(),
        match std {
            release_wasm::Std::Rebuilt => "std rebuilt, its crates included",
            release_wasm::Std::Prebuilt => "prebuilt std: rust-src is missing",
        }
    );
    std::fs::remove_dir_all(&home).map_err(|e| format!("cannot remove {}: {e}", home.display()))
}

/// `cargo build --profile wasm-release --target wasm32-unknown-unknown --offline --unit-graph` of one
/// shipped wasm crate, set up as release_wasm.rs sets up its real build.
fn resolve_offline(home: &Path, manifest: &str, std: release_wasm::Std) -> Result<(), String> {
    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(root())
        .args(["build", "--profile", release_wasm::PROFILE])
        .args(["--target", "wasm32-unknown-unknown", "--offline", "--locked"])
        .args(["--unit-graph", "-Z", "unstable-options", "--manifest-path", manifest])
        .env("CARGO_HOME", home)
        // `--unit-graph` is unstable; the size build sets this itself, the fallback does not.
        .env("RUSTC_BOOTSTRAP", "1")
        .stdout(std::process::Stdio::null());
    release_wasm::configure(&mut cargo, std, Vec::new());
    run(&mut cargo).map_err(|e| {
        format!(
            "{manifest} does not resolve offline after the fetch step (a newcomer's build would fail): {e}"
        )
    })
}
