//! Installs what the builds and tests need, skipping what is already there, so a warm
//! machine stays fast. Versions follow docs/toolchain.md: only package registries
//! are reachable here, so nothing may download binaries from elsewhere.

use crate::run;
use std::path::PathBuf;
use std::process::Command;

const GECKODRIVER_VERSION: &str = "0.37.1";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// WebKitGTK's WebDriver (Debian's `webkit2gtk-driver`); it starts MiniBrowser.
pub const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";

const TRUNK_VERSION: &str = "0.21.14";

const CARGO_DENY_VERSION: &str = "0.20.2";

/// Everything `cargo xtask test` needs.
pub fn all() -> Result<(), String> {
    wasm_target()?;
    rust_src();
    fetch(None)?;
    wasm_bindgen_cli()?;
    browsers()?;
    geckodriver()?;
    webkit()?;
    proxies()?;
    node_tools()?;
    trunk()?;
    cargo_deny()
}

/// What building the SPA needs (`cargo xtask serve`).
pub fn for_build() -> Result<(), String> {
    for_package()?;
    wasm_bindgen_cli()?;
    trunk()
}

/// What building the npm package needs (`cargo xtask package`; no wasm-bindgen).
pub fn for_package() -> Result<(), String> {
    wasm_target()?;
    rust_src();
    fetch(None)?;
    node_tools()
}

/// What testing the npm package needs (`cargo xtask package --test`): its build, and
/// the browsers its pages run in.
pub fn for_package_test() -> Result<(), String> {
    for_package()?;
    browsers()
}

/// Downloads every crate the builds read, so the builds that run offline (Trunk's
/// `offline = true`) find them: the workspace's, for every target, and, when rust-src is
/// installed, std's own (its `library/Cargo.lock`), which `-Z build-std` resolves and a
/// fresh cargo home lacks. `cargo_home` replaces `CARGO_HOME` (the fresh-home check).
/// Quick when everything is already there: cargo only reads the lockfiles.
pub fn fetch(cargo_home: Option<&std::path::Path>) -> Result<(), String> {
    let root = crate::root();
    let mut manifests = vec![root.join("Cargo.toml")];
    if let Some(std) = std_manifest() {
        manifests.push(std);
    }
    for manifest in manifests {
        let mut cargo = Command::new("cargo");
        cargo.args(["fetch", "--locked", "--quiet", "--manifest-path"]).arg(&manifest);
        // std's manifest asks for an unstable cargo feature (`profile-rustflags`).
        cargo.env("RUSTC_BOOTSTRAP", "1");
        if let Some(home) = cargo_home {
            cargo.env("CARGO_HOME", home);
        }
        run(&mut cargo).map_err(|e| format!("cannot fetch the crates of {}: {e}", manifest.display()))?;
    }
    Ok(())
}

/// std's workspace manifest in the sysroot, when the rust-src component is installed.
pub fn std_manifest() -> Option<PathBuf> {
    let out = Command::new("rustc").args(["--print", "sysroot"]).output().ok()?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let library = sysroot.join("lib/rustlib/src/rust/library");
    library.join("Cargo.lock").is_file().then(|| library.join("Cargo.toml"))
}

fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wasm_target() -> Result<(), String> {
    rust_target("wasm32-unknown-unknown")
}

/// Adds the target `triple` when rustup lacks it.
pub fn rust_target(triple: &str) -> Result<(), String> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed.lines().any(|l| l.trim() == triple) {
        return Ok(());
    }
    println!("setup: adding the {triple} target");
    run(Command::new("rustup").args(["target", "add", triple]))
}

/// std's sources, for the shipped wasm builds' `-Z build-std` (release_wasm.rs). Those
/// builds fall back to the prebuilt std without them (and say so), hence a notice here.
fn rust_src() {
    if rust_src_installed() {
        return;
    }
    println!("setup: adding the rust-src component (std rebuilt for size in the shipped wasm)");
    if let Err(e) = run(Command::new("rustup").args(["component", "add", "rust-src"])) {
        println!("notice: rust-src not installed ({e}): the shipped wasm builds use the prebuilt std");
    }
}

/// The CLI must equal the `wasm-bindgen` crate version locked in Cargo.lock.
fn locked_wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(crate::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == r#"name = "wasm-bindgen""# {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = ")) {
                return Ok(version.trim_matches('"').to_owned());
            }
        }
    }
    Err("Cargo.lock has no wasm-bindgen entry".into())
}

fn wasm_bindgen_cli() -> Result<(), String> {
    let version = locked_wasm_bindgen_version()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(version.as_str()) {
        return Ok(());
    }
    println!("setup: installing wasm-bindgen-cli {version} (about 2 minutes)");
    // Not --locked: its lockfile wants a crate release this registry lacks.
    run(Command::new("cargo").args(["install", "wasm-bindgen-cli", "--version", &version]))
}

fn is_root() -> bool {
    output("id", &["-u"]).is_some_and(|uid| uid.trim() == "0")
}

/// With the packages Debian recommends (fonts among them), as the browsers were verified here.
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    apt_get_install(packages, true)
}

/// `recommends`: also the packages Debian recommends.
fn apt_get_install(packages: &[&str], recommends: bool) -> Result<(), String> {
    println!("setup: installing Debian packages {}", packages.join(" "));
    let sudo = if is_root() { None } else { Some("sudo") };
    let apt = |args: &[&str]| {
        let mut command = match sudo {
            Some(sudo) => {
                let mut c = Command::new(sudo);
                c.arg("apt-get");
                c
            }
            None => Command::new("apt-get"),
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command)
    };
    apt(&["update", "-qq"])?;
    let mut args = vec!["install", "-y", "-qq"];
    if !recommends {
        args.push("--no-install-recommends");
    }
    args.extend_from_slice(packages);
    apt(&args)
}

fn browsers() -> Result<(), String> {
    let mut missing = Vec::new();
    if !PathBuf::from("/usr/bin/chromium").exists() {
        missing.push("chromium");
    }
    if !PathBuf::from(CHROMEDRIVER).exists() {
        missing.push("chromium-driver");
    }
    if output("firefox-esr", &["--version"]).is_none() {
        missing.push("firefox-esr");
    }
    // Not a browser: the gateway's shared-budget tests start a real Redis, and make the
    // certificates of its TLS port with openssl.
    if output("redis-server", &["--version"]).is_none() {
        missing.push("redis-server");
    }
    if output("openssl", &["version"]).is_none() {
        missing.push("openssl");
    }
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// The proxies the app is tested behind and the bench's load tool: Debian's nginx and Caddy,
/// `wrk`, and what makes and trusts their test certificates (openssl, NSS's certutil, curl).
pub fn proxies() -> Result<(), String> {
    let tools = [
        ("/usr/sbin/nginx", "nginx-light"),
        ("/usr/bin/caddy", "caddy"),
        ("/usr/bin/wrk", "wrk"),
        ("/usr/bin/openssl", "openssl"),
        ("/usr/bin/certutil", "libnss3-tools"),
        ("/usr/bin/curl", "curl"),
    ];
    let missing: Vec<&str> =
        tools.iter().filter(|(path, _)| !PathBuf::from(path).exists()).map(|(_, package)| *package).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)
}

/// WebKitGTK (Safari's engine): its WebDriver, which brings MiniBrowser and the engine, and
/// a virtual display for it (browser::Browsers starts one per run). Without recommends, as
/// it was verified here (76 packages; the fonts come with the other browsers).
fn webkit() -> Result<(), String> {
    let mut missing = Vec::new();
    if !PathBuf::from(WEBKIT_DRIVER).exists() || minibrowser().is_none() {
        missing.push("webkit2gtk-driver");
    }
    if !PathBuf::from("/usr/bin/Xvfb").exists() {
        missing.extend(["xvfb", "xauth"]);
    }
    if missing.is_empty() {
        return Ok(());
    }
    apt_get_install(&missing, false)
}

/// MiniBrowser, under the multiarch directory of this machine's libraries.
pub fn minibrowser() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .map(|dir| dir.path().join("webkit2gtk-4.1").join("MiniBrowser"))
        .find(|path| path.is_file())
}

/// Debian has no geckodriver package; crates.io has it.
pub fn geckodriver_path() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from("/root/.cargo"));
    home.join("bin").join("geckodriver")
}

fn geckodriver() -> Result<(), String> {
    let path = geckodriver_path();
    let have = output(&path.to_string_lossy(), &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(GECKODRIVER_VERSION) {
        return Ok(());
    }
    println!("setup: installing geckodriver {GECKODRIVER_VERSION} (about 2 minutes)");
    run(Command::new("cargo").args(["install", "geckodriver", "--version", GECKODRIVER_VERSION]))
}

/// Trunk builds the SPA. 0.21.x: 0.22 needs a newer rustc than this machine has.
pub fn trunk() -> Result<(), String> {
    let have = output("trunk", &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(TRUNK_VERSION) {
        return Ok(());
    }
    println!("setup: installing trunk {TRUNK_VERSION} (about 7 minutes)");
    run(Command::new("cargo").args(["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
}

/// The lint step's dependency check: licenses, duplicate versions, sources. 0.20.2 needs
/// rustc 1.88 and installs from crates.io with its own lockfile.
pub fn cargo_deny() -> Result<(), String> {
    let have = output("cargo", &["deny", "--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(CARGO_DENY_VERSION) {
        return Ok(());
    }
    println!("setup: installing cargo-deny {CARGO_DENY_VERSION} (several minutes)");
    run(Command::new("cargo").args(["install", "cargo-deny", "--version", CARGO_DENY_VERSION, "--locked"]))
}

/// Node tools pinned in `xtask/tools/package.json`: wasm-opt from binaryen 132 (Debian's
/// binaryen silently breaks the wasm), playwright-core (drives Chromium and Firefox),
/// selenium-webdriver (drives WebKitGTK, tests/webdriver/), tsc.
pub fn node_tools_bin() -> PathBuf {
    crate::root().join("xtask").join("tools").join("node_modules").join(".bin")
}

pub fn node_tools() -> Result<(), String> {
    let dir = crate::root().join("xtask").join("tools");
    let stamp = dir.join("node_modules").join(".package-lock.json");
    let lock = dir.join("package-lock.json");
    let fresh = match (std::fs::metadata(&stamp), std::fs::metadata(&lock)) {
        (Ok(installed), Ok(locked)) => installed.modified().ok() >= locked.modified().ok(),
        _ => false,
    };
    if fresh && node_tools_bin().join("wasm-opt").exists() {
        return Ok(());
    }
    println!(
        "setup: installing node tools (binaryen, playwright-core, selenium-webdriver, typescript) from npm"
    );
    run(Command::new("npm").current_dir(&dir).args(["ci", "--no-audit", "--no-fund"]))
}

/// PATH with the pinned node tools first, so every wasm-opt found is binaryen 132.
pub fn path_with_node_tools() -> std::ffi::OsString {
    let mut paths = vec![node_tools_bin()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).unwrap_or_default()
}

/// Whether rust-src is installed: cargo's `-Z build-std` reads std's sources (and their
/// lockfile) from the sysroot.
pub fn rust_src_installed() -> bool {
    std_manifest().is_some()
}
