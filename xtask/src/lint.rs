//! The code's shape, checked before any test runs: formatting, no file naming a path outside
//! the repository, no import circle between a crate's modules, every crate's rust-version the
//! rustc that builds it, the dependencies' licenses, duplicate versions and sources (`cargo
//! deny`, `deny.toml`), clippy with warnings as errors (natively, and for wasm32 where the
//! app, the binding and the allocator only compile), the docs with warnings as errors
//! (broken links, stray HTML), and the README's supported-browsers table, which only a test
//! run writes.

use crate::run;
use std::process::Command;

const WASM: &str = "wasm32-unknown-unknown";

/// Crates whose code exists only on wasm32 (natively they are nearly empty).
const WASM_ONLY: [&str; 3] = ["clipcloud-app", "clipcloud-js", "clipcloud-alloc"];

pub fn all() -> Result<(), String> {
    components()?;
    step("cargo fmt --check", || run(cargo().args(["fmt", "--all", "--check"])))?;
    step("no path outside the repository", crate::outside_paths::check)?;
    step("import circles", crate::circles::check)?;
    step("the README's supported-browsers table is docs/browsers.json's", crate::supported::check)?;
    step("rust-version", crate::rust_version::check)?;
    step(
        "cargo deny: licenses, bans, sources (not advisories: their database cannot be fetched here)",
        || {
            crate::setup::cargo_deny()?;
            run(cargo().args(["deny", "--locked", "check", "licenses", "bans", "sources"]))
        },
    )?;
    step("clippy, native", || {
        run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
    })?;
    step(&format!("clippy, {WASM}"), || {
        run(cargo()
            .args(["clippy", "--target", WASM, "--all-targets"])
            .args(packages(&["clipcloud"]))
            .args(["--", "-D", "warnings"]))
    })?;
    // Built together above, the core has `bindgen` (the app asks for it); the npm package
    // builds it alone, without: its JSON through the package's host.
    step(&format!("clippy, {WASM}: the core without `bindgen`"), || {
        run(cargo()
            .args(["clippy", "--target", WASM, "-p", "clipcloud", "--no-default-features", "--"])
            .args(["-D", "warnings"]))
    })?;
    step("docs, native", || {
        run(cargo().args(["doc", "--no-deps", "--workspace"]).env("RUSTDOCFLAGS", "-Dwarnings"))
    })?;
    step(&format!("docs, {WASM}"), || {
        run(cargo()
            .args(["doc", "--no-deps", "--target", WASM])
            .args(packages(&["clipcloud"]))
            .env("RUSTDOCFLAGS", "-Dwarnings"))
    })?;
    step(&format!("docs, {WASM}: the core without `bindgen`"), || {
        run(cargo()
            .args(["doc", "--no-deps", "--target", WASM, "-p", "clipcloud", "--no-default-features"])
            .env("RUSTDOCFLAGS", "-Dwarnings"))
    })
}

/// Runs one check under its heading and says how long it took.
fn step(name: &str, check: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    println!("\n== lint: {name} ==");
    let started = std::time::Instant::now();
    let result = check();
    println!("({name}: {:.1} s)", started.elapsed().as_secs_f64());
    result
}

/// `-p NAME` for each wasm-only crate and each of `more`.
fn packages(more: &[&'static str]) -> Vec<&'static str> {
    WASM_ONLY.iter().chain(more).flat_map(|name| ["-p", name]).collect()
}

fn cargo() -> Command {
    let mut command = Command::new("cargo");
    command.current_dir(crate::root());
    command
}

/// rustfmt and clippy come with rustup's default profile, but not with the minimal one.
fn components() -> Result<(), String> {
    let have = |tool: &str| {
        Command::new("cargo").args([tool, "--version"]).output().is_ok_and(|out| out.status.success())
    };
    if have("fmt") && have("clippy") {
        return Ok(());
    }
    println!("setup: adding the rustfmt and clippy components");
    run(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))
}
