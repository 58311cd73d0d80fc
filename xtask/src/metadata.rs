//! The workspace's packages as cargo reads them (`cargo metadata --no-deps`): their declared
//! rust-version and their crate roots, for the lints that check every crate.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

pub struct Package {
    pub name: String,
    pub rust_version: Option<String>,
    pub targets: Vec<Target>,
}

/// One crate of a package: its library, a binary, a test, a build script…
pub struct Target {
    /// `lib`, `cdylib`, `bin`, `test`, `custom-build`…
    pub kinds: Vec<String>,
    /// The crate's root file (`src/lib.rs`, `src/main.rs`).
    pub root: PathBuf,
}

impl Target {
    /// A library or a binary: the code itself, not its tests, benches, examples or build script.
    pub fn is_product(&self) -> bool {
        const PRODUCTS: [&str; 7] = ["lib", "rlib", "dylib", "cdylib", "staticlib", "proc-macro", "bin"];
        self.kinds.iter().any(|kind| PRODUCTS.contains(&kind.as_str()))
    }
}

/// The workspace's members.
pub fn workspace_packages() -> Result<Vec<Package>, String> {
    let out = Command::new("cargo")
        .current_dir(crate::root())
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    let metadata: Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata's output: {e}"))?;
    let text = |value: &Value| value.as_str().map(str::to_owned);
    let packages = metadata["packages"].as_array().ok_or("cargo metadata lists no packages")?;
    packages
        .iter()
        .map(|package| {
            let name = text(&package["name"]).ok_or("cargo metadata: a package without a name")?;
            let targets = package["targets"]
                .as_array()
                .ok_or_else(|| format!("cargo metadata: {name} has no targets"))?
                .iter()
                .map(|target| Target {
                    kinds: target["kind"].as_array().into_iter().flatten().filter_map(text).collect(),
                    root: text(&target["src_path"]).unwrap_or_default().into(),
                })
                .collect();
            Ok(Package { rust_version: text(&package["rust_version"]), name, targets })
        })
        .collect()
}
