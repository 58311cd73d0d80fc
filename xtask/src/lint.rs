//! The code's shape, checked before any test runs: formatting, no file naming a path outside
//! the repository, no import circle between a crate's modules, clippy with warnings as errors
//! (natively, and for wasm32 where the app, the binding and the allocator only compile), and
//! the docs with warnings as errors (broken links, stray HTML).

use crate::run;
use std::process::Command;

const WASM: &str = "wasm32-unknown-unknown";

/// Crates whose code exists only on wasm32 (natively they are nearly empty).
const WASM_ONLY: [&str; 3] = ["clipcloud-app", "clipcloud-js", "clipcloud-alloc"];

pub fn all() -> Result<(), String> {
    components()?;

    println!("\n== lint: cargo fmt --check ==");
    run(cargo().args(["fmt", "--all", "--check"]))?;

    println!("\n== lint: no path outside the repository ==");
    crate::outside_paths::check()?;

    println!("\n== lint: import circles ==");
    crate::circles::check()?;

    println!("\n== lint: clippy, native ==");
    run(cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;

    println!("\n== lint: clippy, {WASM} ==");
    run(cargo()
        .args(["clippy", "--target", WASM, "--all-targets"])
        .args(packages(&["clipcloud"]))
        .args(["--", "-D", "warnings"]))?;

    println!("\n== lint: docs, native ==");
    run(cargo().args(["doc", "--no-deps", "--workspace"]).env("RUSTDOCFLAGS", "-Dwarnings"))?;

    println!("\n== lint: docs, {WASM} ==");
    run(cargo()
        .args(["doc", "--no-deps", "--target", WASM])
        .args(packages(&["clipcloud"]))
        .env("RUSTDOCFLAGS", "-Dwarnings"))
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
