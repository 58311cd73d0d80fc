//! The lint step's rust-version check: every crate declares the Rust release CI builds it
//! with. CI builds with one toolchain only, so that is the one release known to work; a
//! lower declaration would promise builds nobody runs. When the toolchain moves, this fails
//! until the workspace's `rust-version` follows it.

use std::process::Command;

pub fn check() -> Result<(), String> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let out =
        Command::new(&rustc).arg("--version").output().map_err(|e| format!("cannot run {rustc}: {e}"))?;
    let banner = String::from_utf8_lossy(&out.stdout);
    let built = banner
        .split_whitespace()
        .nth(1)
        .filter(|_| out.status.success())
        .ok_or_else(|| format!("{rustc} --version printed {banner:?}"))?;
    let packages = crate::metadata::workspace_packages()?;
    let wrong: Vec<String> = packages
        .iter()
        .filter(|package| {
            !package.rust_version.as_deref().is_some_and(|declared| is_release(declared, built))
        })
        .map(|package| {
            format!("{} declares {}", package.name, package.rust_version.as_deref().unwrap_or("none"))
        })
        .collect();
    if wrong.is_empty() {
        println!(
            "every crate ({}) declares the rust-version of the rustc this builds with, {built}",
            packages.len()
        );
        Ok(())
    } else {
        Err(format!(
            "rust-version is not the rustc this builds with ({built}): {}; set `rust-version` in the \
             workspace's Cargo.toml and `rust-version.workspace = true` in each crate",
            wrong.join(", ")
        ))
    }
}

/// Whether `declared` names the release `built`, to the precision it is written with:
/// `1.95` and `1.95.0` name 1.95.0; `1.95.1` and `1.94` do not.
fn is_release(declared: &str, built: &str) -> bool {
    let built: Vec<&str> = built.split(['.', '-']).collect();
    let declared: Vec<&str> = declared.split('.').collect();
    (2..=3).contains(&declared.len()) && built.starts_with(&declared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_version_must_be_the_built_release() {
        assert!(is_release("1.95", "1.95.0"));
        assert!(is_release("1.95.0", "1.95.0"));
        assert!(is_release("1.95", "1.95.2"));
        assert!(!is_release("1.85", "1.95.0"));
        assert!(!is_release("1.95.1", "1.95.0"));
        assert!(!is_release("1.9", "1.95.0"));
        assert!(!is_release("1", "1.95.0"));
        assert!(is_release("1.97", "1.97.0-nightly"));
    }
}
