//! The single-page app (`crates/clipcloud-app`, built by Trunk from the root
//! `index.html`): release build, the size of a first visit, and its tests.

use crate::{emulator, root, run, setup, test};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Generation time of the emulator for the end-to-end test: long enough to reload
/// the page while a creation runs.
const E2E_DELAY_MS: &str = "3000";

/// `dist/` after a release build (opt-level z, LTO, wasm-opt -Oz from binaryen 132).
pub fn build() -> Result<PathBuf, String> {
    setup::for_build()?;
    let root = root();
    println!("\n== building the SPA (release; a few minutes when cold) ==");
    // binaryen 132 first on PATH: Debian's older wasm-opt silently breaks the module.
    run(Command::new("trunk")
        .current_dir(&root)
        .args(["build", "--release"])
        .env("PATH", setup::path_with_node_tools())
        // Short paths in the panic locations the wasm carries (as for the npm package).
        .env("CARGO_ENCODED_RUSTFLAGS", crate::package::remap_flags(&root).join("\u{1f}"))
        .env_remove("NO_COLOR"))?;
    let dist = root.join("dist");
    crate::csp::apply(&dist.join("index.html"))?;
    print_sizes(&dist)?;
    Ok(dist)
}

/// Everything a first visit downloads: the page, its JS glue, the wasm and the CSS
/// (the icon is inline). Name, raw bytes, gzip -9 bytes.
pub fn sizes(dist: &Path) -> Result<Vec<(String, u64, u64)>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dist)
        .map_err(|e| format!("cannot read {}: {e}", dist.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|e| ["html", "js", "wasm", "css"].iter().any(|x| e == *x))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let raw = std::fs::metadata(&file).map_err(|e| e.to_string())?.len();
        let gz = Command::new("gzip")
            .args(["-9", "-c"])
            .arg(&file)
            .output()
            .map_err(|e| format!("cannot run gzip: {e}"))?
            .stdout
            .len() as u64;
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        out.push((name, raw, gz));
    }
    Ok(out)
}

pub fn print_sizes(dist: &Path) -> Result<(), String> {
    let sizes = sizes(dist)?;
    println!("\nSPA first visit ({}):", dist.display());
    println!("  {:<48} {:>9} {:>11}", "file", "raw B", "gzip -9 B");
    for (name, raw, gz) in &sizes {
        println!("  {name:<48} {raw:>9} {gz:>11}");
    }
    let (raw, gz) = sizes.iter().fold((0, 0), |(r, g), (_, raw, gz)| (r + raw, g + gz));
    println!("  {:<48} {raw:>9} {gz:>11}", "total");
    Ok(())
}

/// `cargo xtask spa-size`: build, then print the sizes (printed by `build`).
pub fn size_command() -> Result<(), String> {
    build().map(drop)
}

/// The SPA's tests: its pure logic natively, its components in headless Chromium and
/// Firefox (wasm-bindgen-test), then the release build end to end (playwright-core driving
/// Debian's Chromium, then Firefox ESR) against an emulator that serves it.
pub fn test(emulator_binary: &Path, emulator_url: &str) -> Result<(), String> {
    let root = root();
    println!("\n== SPA: pure logic, native ==");
    run(Command::new("cargo").current_dir(&root).args(["test", "-p", "clipcloud-app"]))?;

    for browser in [test::Browser::Chromium, test::Browser::Firefox] {
        println!("\n== SPA: components in headless {} ==", browser.name());
        run(test::wasm_test(browser, emulator_url).args(["-p", "clipcloud-app"]))?;
    }

    let dist = build()?;
    let log = root.join("target").join("emulator-spa-e2e.log");
    let dist_arg = dist.to_string_lossy().into_owned();
    let served = emulator::start(
        &emulator_binary.to_path_buf(),
        &["--delay-ms", E2E_DELAY_MS, "--static-dir", &dist_arg],
        &log,
    )?;
    let project = root.join("tests").join("e2e-spa");
    run(Command::new("npm").current_dir(&project).args(["ci", "--no-audit", "--no-fund"]))?;
    for (browser, name) in [("chromium", "Chromium"), ("firefox", "Firefox ESR")] {
        println!("\n== SPA end to end in headless {name}: {} (log: {}) ==", served.url, log.display());
        run(Command::new("node")
            .current_dir(&project)
            .args(["--test", "--test-reporter", "spec"])
            .env("CLIPCLOUD_E2E_BROWSER", browser)
            .env("CLIPCLOUD_SPA_URL", &served.url)
            .env("CLIPCLOUD_ARTIFACTS", root.join("tests").join("artifacts")))?;
    }
    println!("screenshots of the gallery: tests/artifacts/gallery*.png");
    Ok(())
}
