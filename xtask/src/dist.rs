//! `cargo xtask dist`: the release tarball an operator installs (docs/deploy.md), written to
//! `target/dist/clipcloud-gateway-<version>-<target>.tar.gz` (and its `.sha256`):
//!
//! ```text
//! clipcloud-gateway-<version>-<target>/
//!   bin/clipcloud-gateway   release profile (built for speed), `--features tls`
//!   dist/                   the app (`spa::build`), with its precompressed copies
//!   deploy/                 the systemd unit, the container file, the nginx and Caddy sites
//!   docs/                   deploy.md, gateway.md
//!   LICENSE-MIT, LICENSE-APACHE
//!   SHA256SUMS              of every file above (`sha256sum -c SHA256SUMS`)
//! ```
//!
//! Then it checks what it packed: unpacks the tarball elsewhere, verifies the sums, asks the
//! unpacked gateway its `--version` (this version and commit), starts it in front of an
//! emulator on a free port and fetches `/` (the packed page) and `/healthz`.

use crate::files::{create_dir, fresh_dir};
use crate::{emulator, gateway, root, run};
use clipcloud_healthcheck::get;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the tarball holds beside the binary and the app, from the repository.
const FILES: [&str; 4] = ["LICENSE-MIT", "LICENSE-APACHE", "docs/deploy.md", "docs/gateway.md"];
/// Bounds one request of the checks (a guard against a hung server, not a timing).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `cargo xtask dist`.
pub fn command() -> Result<(), String> {
    let began = Instant::now();
    let tarball = build()?;
    check(&tarball)?;
    let size = std::fs::metadata(&tarball).map_err(|e| format!("{}: {e}", tarball.display()))?.len();
    println!(
        "\ndist: {} ({size} bytes; built and checked in {} s)",
        tarball.display(),
        began.elapsed().as_secs()
    );
    Ok(())
}

/// Builds the tarball; returns its path.
fn build() -> Result<PathBuf, String> {
    let root = root();
    let app = crate::spa::build()?;
    println!("\n== dist: the gateway (release profile, --features tls) ==");
    let binaries = release_build(None)?;
    let target = host_target()?;
    let name = format!("clipcloud-gateway-{}-{target}", env!("CARGO_PKG_VERSION"));
    let out = root.join("target").join("dist");
    let stage = out.join(&name);
    fresh_dir(&stage)?;

    let bin = stage.join("bin");
    create_dir(&bin)?;
    copy_file(&binaries.join("clipcloud-gateway"), &bin.join("clipcloud-gateway"))?;
    copy_tree(&app, &stage.join("dist"))?;
    copy_tree(&root.join("deploy"), &stage.join("deploy"))?;
    for file in FILES {
        let to = stage.join(file);
        if let Some(parent) = to.parent() {
            create_dir(parent)?;
        }
        copy_file(&root.join(file), &to)?;
    }
    let sums = sha256sums(&stage)?;
    std::fs::write(stage.join("SHA256SUMS"), sums).map_err(|e| format!("cannot write SHA256SUMS: {e}"))?;

    let tarball = out.join(format!("{name}.tar.gz"));
    // Reproducible: sorted, owned by root, every file dated at the commit.
    run(Command::new("tar")
        .arg("--create")
        .arg("--file")
        .arg(&tarball)
        .args(["--use-compress-program", "gzip -9 -n", "--sort=name", "--owner=0", "--group=0"])
        .args(["--numeric-owner", "--mode=u+rwX,go=rX"])
        .arg(format!("--mtime=@{}", git(&["log", "-1", "--format=%ct"]).unwrap_or_else(|| "0".into())))
        .arg("--directory")
        .arg(&out)
        .arg(&name))?;
    let digest = clipcloud::hex::encode(&Sha256::digest(read(&tarball)?));
    let sum_file = out.join(format!("{name}.tar.gz.sha256"));
    std::fs::write(&sum_file, format!("{digest}  {name}.tar.gz\n"))
        .map_err(|e| format!("cannot write {}: {e}", sum_file.display()))?;
    Ok(tarball)
}

/// `cargo build --release -p clipcloud-gateway --features tls` (with `-p clipcloud-healthcheck`,
/// the container image's probe), for `target` (a triple) or the host; returns the folder of
/// the binaries.
pub fn release_build(target: Option<&str>) -> Result<PathBuf, String> {
    let mut cargo = Command::new("cargo");
    cargo.current_dir(root()).args(["build", "--release", "--locked"]).args([
        "-p",
        "clipcloud-gateway",
        "--features",
        "clipcloud-gateway/tls",
        "-p",
        "clipcloud-healthcheck",
    ]);
    if let Some(target) = target {
        cargo.args(["--target", target]);
    }
    run(&mut cargo)?;
    let mut dir =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"));
    if let Some(target) = target {
        dir.push(target);
    }
    Ok(dir.join("release"))
}

/// Unpacks the tarball into `target/dist/check/`, verifies its sums, and runs its gateway.
fn check(tarball: &Path) -> Result<(), String> {
    println!("\n== dist: checking {} ==", tarball.display());
    let out = root().join("target").join("dist").join("check");
    fresh_dir(&out)?;
    run(Command::new("tar").arg("--extract").arg("--file").arg(tarball).arg("--directory").arg(&out))?;
    let name = tarball
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".tar.gz"))
        .ok_or("the tarball's name does not end in .tar.gz")?;
    let unpacked = out.join(name);
    run(Command::new("sha256sum").current_dir(&unpacked).args([
        "--check",
        "--quiet",
        "--strict",
        "SHA256SUMS",
    ]))?;

    let binary = unpacked.join("bin").join("clipcloud-gateway");
    check_version(Command::new(&binary).arg("--version"))?;
    let emulator_binary = emulator::build()?;
    let log = out.join("emulator.log");
    let emulator = emulator::start(&emulator_binary, &["--quiet"], &log)?;
    let gateway_log = out.join("gateway.log");
    let log_file = std::fs::File::create(&gateway_log)
        .map_err(|e| format!("cannot create {}: {e}", gateway_log.display()))?;
    let dist = unpacked.join("dist");
    let served = gateway::start(&binary, "127.0.0.1:0", &emulator.url, &dist, &[], Stdio::from(log_file))?;
    check_serves_app(&served.url, &dist.join("index.html"))?;
    println!(
        "the unpacked gateway serves the app at {} (relay mode, in front of {})",
        served.url, emulator.url
    );
    Ok(())
}

/// The output of `command` (a gateway's `--version`) names this version and commit.
pub fn check_version(command: &mut Command) -> Result<(), String> {
    let out = command.output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
    let printed = String::from_utf8_lossy(&out.stdout);
    let commit = git(&["rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let expected = format!("clipcloud-gateway {} (commit {commit})", env!("CARGO_PKG_VERSION"));
    if !out.status.success() || printed.trim() != expected {
        return Err(format!("{command:?} printed {printed:?} ({}), not {expected:?}", out.status));
    }
    println!("{expected}");
    Ok(())
}

/// The gateway at `url` serves the page `index_html` at `/` and answers `/healthz`.
pub fn check_serves_app(url: &str, index_html: &Path) -> Result<(), String> {
    let page = get(&format!("{url}/"), REQUEST_TIMEOUT)?;
    if page.status != 200 || page.body != read(index_html)? {
        return Err(format!("GET {url}/ answered {} without the packed index.html", page.status));
    }
    let health = get(&format!("{url}/healthz"), REQUEST_TIMEOUT)?;
    let body = String::from_utf8_lossy(&health.body);
    if health.status != 200 || !body.contains("\"status\":\"ok\"") {
        return Err(format!("GET {url}/healthz answered {}: {body}", health.status));
    }
    Ok(())
}

/// `<sha256>  <path>` for every file under `dir`, sorted by path (`sha256sum -c` reads it).
fn sha256sums(dir: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    list_files(dir, dir, &mut files)?;
    files.sort();
    let mut sums = String::new();
    for file in files {
        let digest = clipcloud::hex::encode(&Sha256::digest(read(&dir.join(&file))?));
        sums.push_str(&format!("{digest}  {file}\n"));
    }
    Ok(sums)
}

/// The paths of the files under `dir`, relative to `base`, `/`-separated.
fn list_files(base: &Path, dir: &Path, files: &mut Vec<String>) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))? {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?.path();
        if path.is_dir() {
            list_files(base, &path, files)?;
        } else {
            let relative = path.strip_prefix(base).map_err(|e| e.to_string())?;
            files.push(relative.to_string_lossy().into_owned());
        }
    }
    Ok(())
}

/// Copies the folder `from` to `to` (created), file by file. A symlink is an error: the
/// gateway refuses to serve one, so none may be shipped.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    create_dir(to)?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))? {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", from.display()))?;
        let kind = entry.file_type().map_err(|e| format!("{}: {e}", entry.path().display()))?;
        let target = to.join(entry.file_name());
        if kind.is_symlink() {
            return Err(format!("{} is a symlink: ship its target instead", entry.path().display()));
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            copy_file(&entry.path(), &target)?;
        }
    }
    Ok(())
}

pub fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// This machine's target triple (`rustc -vV`).
fn host_target() -> Result<String, String> {
    let out = Command::new("rustc").arg("-vV").output().map_err(|e| format!("cannot run rustc: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".into())
}

/// A git command's trimmed output in the workspace, `None` when it fails.
pub fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").current_dir(root()).args(args).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_cover_every_file_by_relative_path_in_order() {
        let dir = std::env::temp_dir().join(format!("xtask-dist-sums-{}", std::process::id()));
        fresh_dir(&dir.join("dist").join("lazy")).unwrap();
        std::fs::write(dir.join("dist").join("lazy").join("a.js"), "a").unwrap();
        std::fs::write(dir.join("LICENSE-MIT"), "").unwrap();
        let sums = sha256sums(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(
            sums,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  LICENSE-MIT\n\
             ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  dist/lazy/a.js\n"
        );
    }
}
