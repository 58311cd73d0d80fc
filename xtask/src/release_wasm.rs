//! The two shipped release wasm builds (the npm package's, by cargo in package.rs, and the
//! app's, by Trunk in spa.rs) with std rebuilt for size: `-Z build-std` with the panic
//! strategy `immediate-abort` and no `Debug` formatting or panic locations. That takes
//! std's panic and formatting paths out of the wasm, which prebuilt std always carries.
//!
//! These flags are nightly-only. On the stable toolchain they need `RUSTC_BOOTSTRAP=1`,
//! which is set here on those two commands only (never in a config file), so dev and
//! test builds stay plain stable builds and never rebuild std. Without the rust-src
//! component (`rustup component add rust-src`, done by `cargo xtask setup`) the builds
//! fall back to the prebuilt std, with a notice: a few KB larger, the same behaviour.
//!
//! Both builds use the workspace's `wasm-release` profile ([`PROFILE`]: opt-level z, LTO,
//! `panic = "abort"`); `release` is the native servers' speed profile. The app's and the
//! bench page's `index.html` name it for Trunk (`data-cargo-profile-release`).
//!
//! Why the flags are safe here: panics already abort (`panic = "abort"` in the wasm-release
//! profile), `immediate-abort` only drops the message nobody could read; and no shipped
//! code shows `{:?}` output: the core writes its messages with `Display` and its own
//! quoting (`error::quoted`), and the `Debug` impls that hide the API key are tested natively.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Cargo profile of the shipped wasm builds (the root Cargo.toml).
pub const PROFILE: &str = "wasm-release";
/// Set to `false`, keeps the names a wasm build's later steps read (wasm-bindgen reads the
/// features section; wasm-opt strips afterwards).
pub const STRIP_VARIABLE: &str = "CARGO_PROFILE_WASM_RELEASE_STRIP";

/// rustc flags of the size build (on top of the caller's own).
const FLAGS: [&str; 4] =
    ["-Zunstable-options", "-Cpanic=immediate-abort", "-Zfmt-debug=none", "-Zlocation-detail=none"];

/// How std is built for a shipped wasm.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Std {
    /// `-Z build-std`, optimized for size.
    Rebuilt,
    /// The toolchain's prebuilt std (rust-src is missing).
    Prebuilt,
}

impl Std {
    /// A name for the target directory, so switching modes does not rebuild back and forth.
    pub fn dir_name(self) -> &'static str {
        match self {
            Std::Rebuilt => "std-rebuilt",
            Std::Prebuilt => "std-prebuilt",
        }
    }
}

/// The mode this machine can build, with a notice when it is the fallback.
/// `XTASK_PREBUILT_STD=1` asks for the fallback, to measure what the rebuilt std saves.
pub fn mode() -> Std {
    if std::env::var_os("XTASK_PREBUILT_STD").is_some_and(|v| v == "1") {
        println!("notice: XTASK_PREBUILT_STD=1: building the shipped wasm with the prebuilt std");
        Std::Prebuilt
    } else if crate::setup::rust_src_installed() {
        Std::Rebuilt
    } else {
        println!(
            "notice: the rust-src component is missing (`rustup component add rust-src`, done by \
             `cargo xtask setup`): building the shipped wasm with the prebuilt std, a few KB larger"
        );
        Std::Prebuilt
    }
}

/// Sets `command` (a `cargo build` or `trunk build` of a shipped release wasm) up for
/// `mode`, with `rustflags` (the caller's own) first.
pub fn configure(command: &mut Command, mode: Std, mut rustflags: Vec<String>) {
    if mode == Std::Rebuilt {
        rustflags.extend(FLAGS.map(str::to_owned));
        command
            .env("RUSTC_BOOTSTRAP", "1")
            // `-Z build-std=std,panic_abort -Z build-std-features=optimize_for_size`, as
            // environment so that it reaches the cargo that Trunk starts too.
            .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
            .env("CARGO_UNSTABLE_BUILD_STD_FEATURES", "optimize_for_size");
    }
    command.env("CARGO_ENCODED_RUSTFLAGS", rustflags.join("\u{1f}"));
}

/// `trunk build --release` of a page (the app's `index.html`, or the bench's hello page;
/// each names the [`PROFILE`] for Trunk's release builds) into `dist`, std rebuilt for size
/// when it can be. The target dir is the release wasm builds' own, so these flags never meet the dev and test builds' artifacts, and the
/// pages built with it share their dependencies' artifacts; a build with `rustflags` of
/// its own (the split app's) has its own `target_name`, so the two do not rebuild each other.
/// Returns the target directory.
pub fn trunk_build(
    index_html: &Path,
    dist: &Path,
    target_name: &str,
    rustflags: &[&str],
) -> Result<PathBuf, String> {
    let root = crate::root();
    let std = mode();
    let target = root.join("target").join(target_name).join(std.dir_name());
    // Trunk copies every JS snippet in wasm-bindgen's output folder, which the pages built
    // here share, into the page (with a modulepreload): not another page's.
    let snippets = target.join("wasm-bindgen").join("release").join("snippets");
    if snippets.exists() {
        std::fs::remove_dir_all(&snippets)
            .map_err(|e| format!("cannot remove {}: {e}", snippets.display()))?;
    }
    let mut trunk = Command::new("trunk");
    trunk
        .current_dir(&root)
        .arg("build")
        .arg(index_html)
        .args(["--release", "--dist"])
        .arg(dist)
        // binaryen 132 first on PATH: Debian's older wasm-opt silently breaks the module.
        .env("PATH", crate::setup::path_with_node_tools())
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("NO_COLOR");
    // Short paths in the panic locations the wasm carries (as for the npm package).
    let mut flags = remap_flags(&root);
    flags.extend(rustflags.iter().map(|f| (*f).to_owned()));
    configure(&mut trunk, std, flags);
    crate::run(&mut trunk)?;
    Ok(target)
}

/// Shorter paths in the panic locations a wasm carries (bytes, and no build machine's
/// home directory in the shipped file).
pub fn remap_flags(root: &Path) -> Vec<String> {
    let mut flags = vec![format!("--remap-path-prefix={}=", root.display())];
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(sources) = cargo_home.map(|h| h.join("registry").join("src")) {
        for entry in std::fs::read_dir(&sources).into_iter().flatten().flatten() {
            flags.push(format!("--remap-path-prefix={}=", entry.path().display()));
        }
    }
    flags
}
