//! The app's wasm split into lazy modules (`crates/clipcloud-app/src/ui/lazy.rs`), after
//! Trunk's build and before `spa::shrink`.
//!
//! The split must run on the wasm as the linker wrote it (with its relocations,
//! `--emit-relocs`), before wasm-bindgen. Trunk cannot split (trunk-rs/trunk#1022) and
//! runs wasm-bindgen itself, so Trunk still builds the page (its cargo build, stylesheet,
//! copied files, inline start script and SRI), and this step then replaces Trunk's glue
//! and wasm with ones made from the same cargo output, as cargo-leptos's `--split` does:
//! `wasm_split_cli_support` → `wasm-bindgen --keep-lld-exports` on the main module →
//! wasm-opt on every module. Replacing Trunk for the whole page would mean rewriting
//! what it does well (hashes, SRI, the start script) for one missing step.

use crate::glue::{output, WASM_FEATURES};
use crate::{root, run, setup};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

/// rustc flags of the build the split runs on: the lazy panels' `cfg`, the relocations
/// the split follows, and the function names (over the profile's `strip`) that `spa-size`
/// reports the main module's code by; wasm-opt drops them from the shipped modules.
pub const RUSTFLAGS: [&str; 4] = ["--cfg", "clipcloud_split", "-Clink-args=--emit-relocs", "-Cstrip=none"];

/// The crate whose code is in the main module but never runs: Leptos's server functions
/// bring it (`server_fn/browser`); `spa::shrink` checks that none of it is left.
pub const DEAD_CRATE: &str = "wasm_streams";

/// The JS module the wasm imports its loaders from; esbuild bundles it into the glue.
const LINK_MODULE: &str = "__wasm_split.js";

/// The `rel` of the page's links naming the lazy modules: not fetched by the browser (an
/// unknown `rel`), but the offline copy keeps every `link[integrity]`, and `spa-size` reads them.
pub const LAZY_REL: &str = "clipcloud-lazy";

/// wasm-opt's passes for every module (those index.html gave Trunk before the split).
const OPT_PASSES: [&str; 6] =
    ["--flatten", "--rereloop", "-fimfs=0", "--one-caller-inline-max-function-size=0", "-Oz", "-Oz"];

/// Splits `cargo_wasm` into `dist`: the main module and glue in place of Trunk's (`js`,
/// `wasm`, same names), the wasm-bindgen snippets, the link module, and each lazy module
/// named by its content. Returns the lazy modules' file names.
pub fn apply(cargo_wasm: &Path, dist: &Path, js: &str, wasm: &str) -> Result<Vec<String>, String> {
    let work = work_dir();
    if work.exists() {
        std::fs::remove_dir_all(&work).map_err(|e| format!("cannot clear {}: {e}", work.display()))?;
    }
    std::fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    let stem = js.strip_suffix(".js").ok_or_else(|| format!("{js} is not a .js file"))?;
    let input =
        std::fs::read(cargo_wasm).map_err(|e| format!("cannot read {}: {e}", cargo_wasm.display()))?;
    let main = work.join("main.wasm");
    let main_module = format!("./{stem}.js");
    let link_name = format!("./{LINK_MODULE}");
    let split = wasm_split_cli_support::transform({
        let mut options = wasm_split_cli_support::Options::new(&input);
        options.output_dir = &work;
        options.main_out_path = &main;
        options.main_module = &main_module;
        options.link_name = &link_name;
        options
    })
    .map_err(|e| format!("splitting the wasm failed: {e:#}"))?;
    if split.split_modules.is_empty() {
        return Err("the split found no lazy module: was the wasm built with `--cfg clipcloud_split`?".into());
    }

    let bindgen = work.join("bindgen");
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--keep-lld-exports", "--out-dir"])
        .arg(&bindgen)
        .args(["--out-name", stem])
        .arg(&main))?;
    // wasm-streams's slots out of the table, before wasm-opt: its code never runs (dead_slots.rs).
    let bound = bindgen.join(format!("{stem}_bg.wasm"));
    let bytes = std::fs::read(&bound).map_err(|e| format!("cannot read {}: {e}", bound.display()))?;
    let (bytes, count) = crate::dead_slots::emptied(&bytes, DEAD_CRATE)?;
    println!("{count} table slots of {DEAD_CRATE} emptied");
    std::fs::write(&bound, bytes).map_err(|e| format!("cannot write {}: {e}", bound.display()))?;
    // Still with names: spa.rs keeps a copy with them and ships one without.
    optimize(&bound, &dist.join(wasm))?;
    copy(&bindgen.join(js), &dist.join(js))?;
    let snippets = dist.join("snippets");
    if snippets.exists() {
        std::fs::remove_dir_all(&snippets)
            .map_err(|e| format!("cannot remove {}: {e}", snippets.display()))?;
    }
    if bindgen.join("snippets").exists() {
        copy_dir(&bindgen.join("snippets"), &snippets)?;
    }

    let mut link = std::fs::read_to_string(work.join(LINK_MODULE))
        .map_err(|e| format!("the split wrote no {LINK_MODULE}: {e}"))?;
    let main_bytes = std::fs::read(dist.join(wasm)).map_err(|e| format!("cannot read {wasm}: {e}"))?;
    let mut lazy = Vec::new();
    for module in &split.split_modules {
        let name = module.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // A copy with names for `cargo xtask code-size`, then the shipped one without.
        let named = work.join(format!("named-{name}"));
        optimize(module, &named)?;
        let optimized = work.join(format!("opt-{name}"));
        without_names(&named, &optimized)?;
        let bytes =
            std::fs::read(&optimized).map_err(|e| format!("cannot read {}: {e}", optimized.display()))?;
        // Named by the main module too: a module fits only the main module it was split from.
        let hash = Sha256::new().chain_update(&main_bytes).chain_update(&bytes).finalize();
        let hashed = format!(
            "{}-{}.wasm",
            name.strip_suffix(".wasm").unwrap_or(&name),
            clipcloud::hex::encode(&hash[..8])
        );
        let quoted = format!("\"./{name}\"");
        if !link.contains(&quoted) {
            return Err(format!("{LINK_MODULE} does not name {name}"));
        }
        link = link.replace(&quoted, &format!("\"./{hashed}\""));
        std::fs::write(dist.join(&hashed), bytes).map_err(|e| format!("cannot write {hashed}: {e}"))?;
        lazy.push(hashed);
    }
    std::fs::write(dist.join(LINK_MODULE), link).map_err(|e| format!("cannot write {LINK_MODULE}: {e}"))?;
    lazy.sort();
    Ok(lazy)
}

/// Where spa.rs keeps a copy of the final main module with its function names.
pub fn named_main_module() -> PathBuf {
    work_dir().join("main-named.wasm")
}

fn work_dir() -> PathBuf {
    root().join("target").join("app-split").join("out")
}

/// The link module taking the main module's exports by the names wasm-opt gave them.
pub fn rename_in_link_module(dist: &Path, names: &crate::short_names::Names) -> Result<(), String> {
    let file = dist.join(LINK_MODULE);
    let link = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let link = crate::short_names::in_link_module(&link, names)?;
    std::fs::write(&file, link).map_err(|e| format!("cannot write {}: {e}", file.display()))
}

/// The link module, once bundled into the glue.
pub fn remove_link_module(dist: &Path) -> Result<(), String> {
    let file = dist.join(LINK_MODULE);
    std::fs::remove_file(&file).map_err(|e| format!("cannot remove {}: {e}", file.display()))
}

/// The page with a `link` for each lazy module (its `integrity` is written later, with the others').
pub fn with_lazy_links(page: &str, lazy: &[String]) -> Result<String, String> {
    let at = page.find("</head>").ok_or("index.html has no </head>")?;
    let links: String = lazy
        .iter()
        .map(|name| format!("<link rel=\"{LAZY_REL}\" href=\"/{name}\" integrity=\"sha384-\">\n"))
        .collect();
    Ok([&page[..at], &links, &page[at..]].concat())
}

/// The lazy modules a built page names.
pub fn lazy_modules(page: &str) -> Vec<String> {
    let marker = format!("<link rel=\"{LAZY_REL}\" href=\"/");
    page.match_indices(&marker)
        .filter_map(|(at, _)| page[at + marker.len()..].split('"').next().map(str::to_owned))
        .collect()
}

/// wasm-opt's passes, names kept (`-g`).
fn optimize(input: &Path, output_file: &Path) -> Result<(), String> {
    output(
        Command::new(setup::node_tools_bin().join("wasm-opt"))
            .arg(input)
            .args(WASM_FEATURES)
            .args(OPT_PASSES)
            .arg("-g")
            .arg("-o")
            .arg(output_file),
    )
    .map(drop)
}

/// `named` without its names and the custom sections a browser does not read.
pub fn without_names(named: &Path, output_file: &Path) -> Result<(), String> {
    output(
        Command::new(setup::node_tools_bin().join("wasm-opt"))
            .arg(named)
            .args(WASM_FEATURES)
            .args(["--strip-producers", "--strip-target-features", "-o"])
            .arg(output_file),
    )
    .map(drop)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in
        std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?.flatten()
    {
        let path: PathBuf = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            copy(&path, &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_its_lazy_modules_and_spa_size_finds_them() {
        let page = "<html><head><title>t</title></head><body></body></html>";
        let names = ["split_keep-00.wasm".to_owned(), "split_tools-11.wasm".to_owned()];
        let out = with_lazy_links(page, &names).unwrap();
        let link =
            |name: &str| format!("<link rel=\"clipcloud-lazy\" href=\"/{name}\" integrity=\"sha384-\">\n");
        let links = link(&names[0]) + &link(&names[1]);
        assert_eq!(out, format!("<html><head><title>t</title>{links}</head><body></body></html>"));
        assert_eq!(lazy_modules(&out), names);
        assert!(lazy_modules(page).is_empty());
        assert!(with_lazy_links("<p>no head</p>", &names).is_err());
    }
}
