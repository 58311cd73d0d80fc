//! What the two wasm builds (the npm package, the app) share: wasm-opt's features and the
//! names it shortens between the wasm and its JS (the app's wasm-bindgen glue renamed to
//! follow them here; the npm package's own host in package.rs), and esbuild.

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

/// Renames, in the wasm-bindgen glue, what `--minify-imports-and-exports-and-modules`
/// renamed in the wasm: import keys (`OLD: function`), the import module
/// (`"./NAME_bg.js": import0`) and exports (`wasm.OLD`); what the wasm no longer imports
/// leaves the glue.
pub fn rename_wasm_names(glue: &str, map: &str) -> Result<String, String> {
    let (imports, exports) = map.split_once("\"exports\"").ok_or("wasm-opt printed no name map")?;
    let mut glue = glue.to_owned();
    let mut module = None;
    let mut new_imports = Vec::new();
    for line in imports.lines() {
        if let [old_module, old, new] = quoted_strings(line)[..] {
            module = Some(old_module);
            new_imports.push(new);
            glue = replace_token(&glue, &[old, ":"].concat(), &[new, ":"].concat())?;
        }
    }
    for line in exports.lines() {
        // Not every export is used by the glue.
        if let [old, new] = quoted_strings(line)[..] {
            if let Ok(renamed) = replace_token(&glue, &["wasm.", old].concat(), &["wasm.", new].concat()) {
                glue = renamed;
            }
        }
    }
    let module = module.ok_or("wasm-opt's name map lists no imports")?;
    let glue = replace_token(&glue, &["\"", module, "\":"].concat(), "\"a\":")?;
    without_unused_imports(&glue, &new_imports)
}

/// The glue without the functions it offers the wasm that the wasm no longer imports (not
/// renamed by wasm-opt: its name map lists only the imports left). wasm-bindgen writes each
/// as `        KEY: function(...) {` up to the next line starting `        }`.
fn without_unused_imports(glue: &str, imports: &[&str]) -> Result<String, String> {
    const INDENT: &str = "        ";
    let start = glue.find("const import0 = {\n").ok_or("the glue has no `const import0 = {`")?;
    let end = start + glue[start..].find("\n    };\n").ok_or("the import object is not closed")?;
    let mut out = String::with_capacity(glue.len());
    out.push_str(&glue[..start]);
    let mut skipping = false;
    for line in glue[start..end].split_inclusive('\n') {
        if skipping {
            skipping = !(line.starts_with(INDENT) && line[INDENT.len()..].starts_with('}'));
            continue;
        }
        if let Some(entry) = line.strip_prefix(INDENT).filter(|l| !l.starts_with(' ')) {
            let key = entry.split(':').next().unwrap_or("");
            let is_key = entry.contains(':')
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
            if is_key && key != "__proto__" && !imports.contains(&key) {
                if !entry.contains(": function(") {
                    return Err(format!("an import of the glue has an unexpected form: {line}"));
                }
                skipping = !entry.trim_end().ends_with("},");
                continue;
            }
        }
        out.push_str(line);
    }
    out.push_str(&glue[end..]);
    Ok(out)
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
