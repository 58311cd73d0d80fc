//! What the two wasm builds (the npm package, the app) share: wasm-opt's features, the
//! reading of its name map (the npm package's host follows the names it shortens, in
//! package.rs), and esbuild.

use crate::{root, run};
use std::path::PathBuf;
use std::process::Command;

/// wasm features rustc's wasm32 target emits and all current browsers run (as in
/// index.html); wasm-opt must be told, or it refuses the module.
pub const WASM_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// esbuild, pinned in crates/clipcloud-js/tools, installed from its lockfile when missing.
pub fn esbuild() -> Result<PathBuf, String> {
    let dir = root().join("crates").join("clipcloud-js").join("tools");
    let bin = dir.join("node_modules").join(".bin").join("esbuild");
    if !bin.exists() {
        println!("setup: installing esbuild (npm)");
        run(Command::new("npm").current_dir(&dir).args(["ci", "--no-audit", "--no-fund"]))?;
    }
    Ok(bin)
}

/// Runs a command, passing its stderr through; returns its stdout.
pub fn output(command: &mut Command) -> Result<String, String> {
    let out = command
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{command:?} failed ({})", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The quoted strings of one line of wasm-opt's name map.
pub fn quoted_strings(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

/// Replaces `from` where it is a whole token (not followed by an identifier character);
/// fails when it does not occur, so a change in the glue's shape cannot go unnoticed.
pub fn replace_token(text: &str, from: &str, to: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut found = false;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let whole = !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$');
        out.push_str(&rest[..at]);
        out.push_str(if whole { to } else { from });
        found |= whole;
        rest = after;
    }
    out.push_str(rest);
    if found {
        Ok(out)
    } else {
        Err(format!("the JS has no `{from}` to rename"))
    }
}
