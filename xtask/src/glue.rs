//! What the two wasm builds (the npm package, the app) share after wasm-bindgen:
//! wasm-opt's features and the names it shortens between the wasm and its JS glue, the
//! glue renamed to follow them, and esbuild.

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
fn quoted_strings(line: &str) -> Vec<&str> {
    line.split('"').skip(1).step_by(2).collect()
}

/// Replaces `from` where it is a whole token (not followed by an identifier character);
/// fails when it does not occur, so a change in the glue's shape cannot go unnoticed.
fn replace_token(text: &str, from: &str, to: &str) -> Result<String, String> {
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
        Err(format!("the wasm-bindgen glue has no `{from}` to rename"))
    }
}

/// Code of wasm-bindgen's glue (0.2.130) the npm package does without, each snippet
/// removed whole; one that is not found exactly once fails the build, so a change in the
/// glue cannot go unnoticed.
const NOT_NEEDED: [&str; 3] = [
    // A warning for the old `init(url)` form: index.js always passes `{ module_or_path }`.
    "            console.warn('using deprecated parameters for the initialization function; pass a single object instead')\n",
    // A console warning before the fallback for a server that sends the wasm with another
    // MIME type; the fallback itself stays.
    "                    console.warn(\"`WebAssembly.instantiateStreaming` failed because your server does not serve Wasm with `application/wasm` MIME type. Falling back to `WebAssembly.instantiate` which is slower. Original error:\\n\", e);\n",
    // For engines without TextEncoder.encodeInto, older than the ES2022 the package needs.
    "if (!('encodeInto' in cachedTextEncoder)) {
    cachedTextEncoder.encodeInto = function (arg, view) {
        const buf = cachedTextEncoder.encode(arg);
        view.set(buf);
        return {
            read: arg.length,
            written: buf.length
        };
    };
}
",
];

/// The glue without [`NOT_NEEDED`] (the npm package's: 0.16 KB gzip -9 less for a page to load).
pub fn without_unneeded(glue: &str) -> Result<String, String> {
    let mut glue = glue.to_owned();
    for snippet in NOT_NEEDED {
        if glue.matches(snippet).count() != 1 {
            let first = snippet.trim_start().lines().next().unwrap_or("");
            return Err(format!("the wasm-bindgen glue has not exactly one `{first}`"));
        }
        glue = glue.replacen(snippet, "", 1);
    }
    Ok(glue)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unneeded_code_is_removed_and_a_changed_glue_is_refused() {
        let glue = ["const a = 1;\n", &NOT_NEEDED.concat(), "const b = 2;\n"].concat();
        assert_eq!(without_unneeded(&glue).unwrap(), "const a = 1;\nconst b = 2;\n");
        // A wasm-bindgen whose glue no longer has one of them, or has it twice.
        let missing = glue.replacen(NOT_NEEDED[1], "", 1);
        assert!(without_unneeded(&missing).unwrap_err().contains("instantiateStreaming"));
        let twice = [glue.as_str(), NOT_NEEDED[0]].concat();
        assert!(without_unneeded(&twice).is_err());
    }
}
