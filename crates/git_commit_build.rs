//! The build script of the gateway and the emulator (their Cargo.toml name this file): the
//! git commit a release build comes from, as the compile-time variable `CLIPCLOUD_COMMIT`,
//! which their `--version` prints.
//!
//! - `CLIPCLOUD_COMMIT` in the build's environment wins (a build from a source archive);
//! - else `git rev-parse --short HEAD`, rebuilt when HEAD moves;
//! - else (no git, not a checkout) `unknown`.
//!
//! Debug builds record none: tracking HEAD would rebuild both crates, and every test that
//! links them, after each commit.

use std::process::Command;

const VARIABLE: &str = "CLIPCLOUD_COMMIT";

fn main() {
    println!("cargo:rerun-if-env-changed={VARIABLE}");
    let given = std::env::var(VARIABLE).ok().filter(|c| !c.trim().is_empty());
    let commit = match given {
        Some(commit) => commit.trim().to_owned(),
        // Cargo sets PROFILE to `release` for release and the profiles that inherit it.
        None if std::env::var("PROFILE").as_deref() != Ok("release") => {
            "not recorded in debug builds".to_owned()
        }
        None => head_commit().unwrap_or_else(|| "unknown".to_owned()),
    };
    println!("cargo:rustc-env={VARIABLE}={commit}");
}

/// The short hash of HEAD, with the files whose change moves it watched.
fn head_commit() -> Option<String> {
    let commit = git(&["rev-parse", "--short", "HEAD"])?;
    // HEAD (a checkout), the branch it names (a commit), packed-refs (where `git gc` moves
    // branches). Only files that exist: cargo reruns the script on every build for a missing one.
    let branch = git(&["symbolic-ref", "-q", "HEAD"]);
    for name in ["HEAD", "packed-refs"].into_iter().chain(branch.as_deref()) {
        if let Some(path) = git(&["rev-parse", "--path-format=absolute", "--git-path", name]) {
            if std::path::Path::new(&path).exists() {
                println!("cargo:rerun-if-changed={path}");
            }
        }
    }
    Some(commit)
}

/// A git command's trimmed output, `None` when it fails or git is missing.
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (out.status.success() && !text.is_empty()).then(|| text.to_owned())
}
