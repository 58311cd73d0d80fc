//! `cargo xtask package`: builds the npm package `clipcloud` into `target/npm/clipcloud/`,
//! packs it into `target/npm/clipcloud-<version>.tgz` and prints what a page loads, raw
//! and gzip -9.
//!
//! cargo (wasm-release profile: opt-level z, LTO, panic=abort) → wasm-opt -Oz (binaryen
//! 132 from xtask/tools; Debian's binaryen breaks modules), which also shortens the names
//! between the wasm and its host, web/npm/wasm.js (renamed here to follow) → esbuild (pinned
//! in crates/clipcloud-js/tools) bundles web/npm/index.js with the host into one minified
//! ES module per runtime (index.js for browsers, node.js, workerd.js: they differ only in
//! where the wasm comes from) → the templates of web/npm, the version stamped from the
//! workspace's Cargo.toml → npm pack. No wasm-bindgen: the wasm's imports and exports are
//! the package's own (crates/clipcloud-js/src/host.rs).

use crate::browser::{Browser, ALL};
use crate::browsers::Browsers;
use crate::glue::{esbuild, output, quoted_strings, replace_token, WASM_FEATURES};
use crate::supported::Suite;
use crate::{root, run, setup};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Copied from web/npm as they are; index.js is built from its template.
const TEMPLATES: [&str; 3] = ["package.json", "index.d.ts", "README.md"];
/// What a page loads: index.js (the wrapper and the wasm's host) and the wasm.
const LOADED: [&str; 2] = ["index.js", "clipcloud_bg.wasm"];
/// The bundles of web/npm/index.js: file, its `wasm-source.js`, esbuild's platform.
const ENTRIES: [(&str, &str, &str); 3] = [
    ("index.js", "wasm-source.js", "browser"),
    ("node.js", "wasm-source.node.js", "node"),
    ("workerd.js", "wasm-source.workerd.js", "neutral"),
];
/// The version in web/npm/package.json, replaced by the workspace's.
const VERSION_PLACEHOLDER: &str = "\"version\": \"0.0.0-set-by-xtask\"";

/// wasm-opt's passes for the shipped wasm: -Oz, then the control flow flattened and rebuilt
/// (as for the app) and two more rounds (0.13 KB gz less than -Oz -Oz), then functions
/// ordered by name, which puts each module's functions side by side for gzip (smaller
/// gzipped than ordered by use, though larger raw; docs/sizes.md). No `--low-memory-unused`
/// (its 0.25 KB would rest on an assumption about the stack), nor `--traps-never-happen`
/// (an abort would become undefined).
const OPT_PASSES: [&str; 6] = ["-Oz", "--flatten", "--rereloop", "-Oz", "-Oz", "--reorder-functions-by-name"];

/// The package's wasm as shipped but with its function names, for `cargo xtask code-size`.
pub fn named_wasm() -> PathBuf {
    root().join("target").join("npm").join("clipcloud-named.wasm")
}

pub struct Built {
    pub tarball: PathBuf,
}

/// `cargo xtask package`; with `--test`, then the package's tests ([`test()`]).
pub fn command(args: &[String]) -> Result<(), String> {
    match args {
        [] => {
            setup::for_package()?;
            let built = build()?;
            println!("\npackage: {}", built.tarball.display());
            Ok(())
        }
        [flag] if flag == "--test" => {
            setup::for_package_test()?;
            let mut browsers = Browsers::start()?;
            test(&crate::emulator::build()?, &mut browsers)?;
            browsers.record.print_times();
            Ok(())
        }
        _ => Err(crate::USAGE.to_owned()),
    }
}

pub fn build() -> Result<Built, String> {
    let root = root();
    let npm = root.join("target").join("npm");
    let work = npm.join("build");
    let out = npm.join("clipcloud");
    for dir in [&work, &out] {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }

    println!("\n== npm package: wasm ==");
    // A target dir of its own: the unstripped build (its names for the code breakdown;
    // wasm-opt strips afterwards) and the rebuilt std (release_wasm.rs) would otherwise
    // rebuild the other wasm builds' artifacts back and forth.
    let std = crate::release_wasm::mode();
    let cargo_target = npm.join("cargo").join(std.dir_name());
    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(&root)
        .args(["build", "--profile", crate::release_wasm::PROFILE])
        .args(["--target", "wasm32-unknown-unknown", "-p", "clipcloud-js"])
        .env("CARGO_TARGET_DIR", &cargo_target)
        .env(crate::release_wasm::STRIP_VARIABLE, "false");
    // LLVM inlines only calls that cost no code: opt-level "z" alone still inlines some
    // (-0.27 KB gzipped here; the app's build is larger with it, so it is the package's own).
    let mut rustflags = crate::release_wasm::remap_flags(&root);
    rustflags.push("-Cllvm-args=-inline-threshold=0".into());
    crate::release_wasm::configure(&mut cargo, std, rustflags);
    run(&mut cargo)?;
    let wasm = cargo_target
        .join("wasm32-unknown-unknown")
        .join(crate::release_wasm::PROFILE)
        .join("clipcloud_js.wasm");

    // Import and export names shrink to one or two letters; the host follows the map.
    let mut wasm_opt = Command::new(setup::node_tools_bin().join("wasm-opt"));
    wasm_opt
        .arg(&wasm)
        .args(OPT_PASSES)
        .args(["--strip-debug", "--strip-producers", "--strip-target-features"])
        .arg("--minify-imports-and-exports-and-modules")
        .args(WASM_FEATURES)
        .arg("-o")
        .arg(out.join("clipcloud_bg.wasm"));
    let map = output(&mut wasm_opt)?;
    // The same passes again with names kept (`-g`), for the code table below and `cargo
    // xtask code-size`: function bodies as shipped. (Stripping this copy instead gives a
    // module 32 B larger: the names would be minified after the functions were reordered.)
    let named = named_wasm();
    run(Command::new(setup::node_tools_bin().join("wasm-opt"))
        .arg(&wasm)
        .args(OPT_PASSES)
        .args(["-g", "--strip-producers", "--strip-target-features"])
        .args(WASM_FEATURES)
        .arg("-o")
        .arg(&named))?;
    let templates = root.join("web").join("npm");
    let host_path = templates.join("wasm.js");
    let host = std::fs::read_to_string(&host_path)
        .map_err(|e| format!("cannot read {}: {e}", host_path.display()))?;
    std::fs::write(work.join("wasm.js"), rename_host_names(&host, &map)?)
        .map_err(|e| format!("cannot write the host: {e}"))?;
    copy(&templates.join("index.js"), &work.join("index.js"))?;
    // One bundle per runtime, the same code but for where the wasm comes from
    // (`./wasm-source.js`); package.json's `exports` conditions pick one.
    for (bundle, source, platform) in ENTRIES {
        copy(&templates.join(source), &work.join("wasm-source.js"))?;
        run(Command::new(esbuild()?)
            .arg(work.join("index.js"))
            .args(["--bundle", "--minify", "--format=esm", "--target=es2022", "--log-level=warning"])
            .arg(format!("--platform={platform}"))
            // workerd.js imports the wasm; the Worker's bundler compiles it.
            .arg("--external:./clipcloud_bg.wasm")
            .arg(format!("--outfile={}", out.join(bundle).display())))?;
    }
    for name in TEMPLATES {
        copy(&templates.join(name), &out.join(name))?;
    }

    let version = stamp_package_json(&root, &out.join("package.json"))?;
    let tarball = npm.join(format!("clipcloud-{version}.tgz"));
    let _ = std::fs::remove_file(&tarball);
    run(Command::new("npm").current_dir(&out).args(["pack", "--silent", "--pack-destination"]).arg(&npm))?;
    if !tarball.exists() {
        return Err(format!("npm pack did not write {}", tarball.display()));
    }
    print_sizes(&out)?;
    crate::code_size::print(&named, "npm package wasm");
    Ok(Built { tarball })
}

/// Builds and packs the package, installs the tarball into `tests/npm-package` (a consumer
/// project of its own: Vite, and Deno, Bun and workerd from npm, pinned in its lockfile) and
/// runs its tests there with `node --test`: Node.js (ESM, CommonJS, the server examples),
/// Deno, Bun, workerd, and Chromium, Firefox ESR and WebKitGTK, each engine's pages recorded
/// with the time its part took (from the test report).
pub fn test(emulator_binary: &Path, browsers: &mut Browsers) -> Result<(), String> {
    let built = build()?;
    let project = root().join("tests").join("npm-package");
    run(Command::new("npm").current_dir(&project).args(["ci", "--no-audit", "--no-fund"]))?;
    run(Command::new("npm")
        .current_dir(&project)
        .args(["install", "--no-save", "--no-audit", "--no-fund"])
        .arg(&built.tarball))?;
    let report = root().join("target").join("npm-package.tap");
    let mut node = Command::new("node");
    node.current_dir(&project)
        .args(["--test", "--test-reporter", "spec", "--test-reporter-destination", "stdout"])
        .args(["--test-reporter", "tap", "--test-reporter-destination"])
        .arg(&report)
        .env("CLIPCLOUD_EMULATOR_BIN", emulator_binary)
        .env("CLIPCLOUD_GATEWAY_BIN", crate::gateway::build()?);
    run(browsers.node_env(&mut node))?;
    let report =
        std::fs::read_to_string(&report).map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    for browser in ALL {
        // package.test.mjs: one `describe` per engine.
        let describe = match browser {
            Browser::Chromium => "in Chromium",
            Browser::Firefox => "in Firefox",
            Browser::WebKit => "in WebKit",
        };
        let tally = crate::supported::tap(&report, Some(describe))?;
        let detail = format!("{} tests on a Vite page and a plain module page", tally.passed);
        browsers
            .record
            .add(browser, Suite { name: "npm package".into(), detail: Some(detail), seconds: tally.seconds });
        browsers.record.could_not(browser, &tally);
    }
    Ok(())
}

/// Prefix of every name between the wasm and its host (crates/clipcloud-js/src/host.rs,
/// crates/clipcloud/src/json/host.rs; the import module is `clipcloud`).
const HOST_PREFIX: &str = "clipcloud";

/// web/npm/wasm.js with the names wasm-opt's `--minify-imports-and-exports-and-modules`
/// gave (its printed `map`): the import module and each import (`NAME:` keys of the
/// imports object), each export (`wasm.NAME`). An import the host does not provide, or a
/// name of the host the wasm no longer has, fails the build: the two stay in step.
fn rename_host_names(host: &str, map: &str) -> Result<String, String> {
    let (imports, exports) = map.split_once("\"exports\"").ok_or("wasm-opt printed no name map")?;
    let mut host = host.to_owned();
    let mut module = None;
    for line in imports.lines() {
        if let [old_module, old, new] = quoted_strings(line)[..] {
            module = Some(old_module);
            host = replace_token(&host, &[old, ":"].concat(), &[new, ":"].concat())?;
        }
    }
    let module = module.ok_or("wasm-opt's name map lists no imports")?;
    if module != HOST_PREFIX {
        return Err(format!("the wasm imports from `{module}`, not from `{HOST_PREFIX}`"));
    }
    // wasm-opt names the one module `a` (its map does not list it).
    host = replace_token(&host, &[module, ":"].concat(), "a:")?;
    for line in exports.lines() {
        // Not every export is called (e.g. `__data_end`).
        if let [old, new] = quoted_strings(line)[..] {
            if let Ok(renamed) = replace_token(&host, &["wasm.", old].concat(), &["wasm.", new].concat()) {
                host = renamed;
            }
        }
    }
    // What is left: an import key (`NAME:`) or an export (`wasm.NAME`) the wasm lacks.
    let prefix = [HOST_PREFIX, "_"].concat();
    for (at, _) in host.match_indices(&prefix) {
        let name = host[at..].split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("");
        if host[at + name.len()..].starts_with(':') || host[..at].ends_with("wasm.") {
            return Err(format!(
                "web/npm/wasm.js names `{name}`, which the wasm neither imports nor exports"
            ));
        }
    }
    Ok(host)
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}

/// A string field of `[workspace.package]` in the root Cargo.toml: the one place the
/// version (and the repository, when the project has a public one) is set.
fn workspace_field(root: &Path, key: &str) -> Result<Option<String>, String> {
    let manifest = root.join("Cargo.toml");
    let text =
        std::fs::read_to_string(&manifest).map_err(|e| format!("cannot read {}: {e}", manifest.display()))?;
    let section = text
        .split("\n[workspace.package]\n")
        .nth(1)
        .map(|rest| rest.split("\n[").next().unwrap_or(""))
        .ok_or_else(|| format!("no [workspace.package] in {}", manifest.display()))?;
    let prefix = format!("{key} = \"");
    Ok(section
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .and_then(|rest| rest.split('"').next())
        .map(str::to_owned))
}

/// Writes the workspace's version into the package.json template, and `repository`,
/// `homepage` and `bugs` from the workspace's `repository` (and `homepage`, when set).
fn stamp_package_json(root: &Path, package_json: &Path) -> Result<String, String> {
    let version = workspace_field(root, "version")?
        .ok_or_else(|| "no version in [workspace.package] of Cargo.toml".to_owned())?;
    let text = std::fs::read_to_string(package_json)
        .map_err(|e| format!("cannot read {}: {e}", package_json.display()))?;
    if !text.contains(VERSION_PLACEHOLDER) {
        return Err(format!("{} has no {VERSION_PLACEHOLDER}", package_json.display()));
    }
    let json = |s: &str| serde_json::Value::from(s).to_string();
    let mut stamped = format!("\"version\": {}", json(&version));
    match workspace_field(root, "repository")? {
        Some(repo) => {
            let repo = repo.trim_end_matches('/');
            let homepage = workspace_field(root, "homepage")?.unwrap_or_else(|| repo.to_owned());
            stamped.push_str(&format!(
                ",\n  \"repository\": {{ \"type\": \"git\", \"url\": {} }},\n  \"homepage\": {},\n  \"bugs\": {{ \"url\": {} }}",
                json(&format!("git+{repo}.git")),
                json(&homepage),
                json(&format!("{repo}/issues")),
            ));
        }
        None => println!(
            "note: no `repository` in [workspace.package] of Cargo.toml: package.json goes without repository, homepage, bugs"
        ),
    }
    std::fs::write(package_json, text.replace(VERSION_PLACEHOLDER, &stamped))
        .map_err(|e| format!("cannot write {}: {e}", package_json.display()))?;
    Ok(version)
}

/// What a page loads, each file as a server sends it (gzip -9), and the sum.
fn print_sizes(dir: &Path) -> Result<(), String> {
    println!("\nwhat a page loads (bytes):");
    println!("  {:<20} {:>8} {:>8}", "file", "raw", "gzip -9");
    let (mut raw_total, mut gz_total) = (0, 0);
    for name in LOADED {
        let path = dir.join(name);
        let raw = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?.len() as usize;
        let gz = crate::gzip9_len(&path)?;
        println!("  {name:<20} {raw:>8} {gz:>8}");
        raw_total += raw;
        gz_total += gz;
    }
    println!("  {:<20} {raw_total:>8} {gz_total:>8}", "total");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A workspace in a temporary directory with this Cargo.toml text and the real template.
    fn stamped(cargo_toml: &str) -> Result<serde_json::Value, String> {
        let dir =
            std::env::temp_dir().join(format!("xtask-stamp-{}-{}", std::process::id(), cargo_toml.len()));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("Cargo.toml"), cargo_toml).map_err(|e| e.to_string())?;
        let package_json = dir.join("package.json");
        copy(&root().join("web").join("npm").join("package.json"), &package_json)?;
        let result = stamp_package_json(&dir, &package_json).and_then(|version| {
            let text = std::fs::read_to_string(&package_json).map_err(|e| e.to_string())?;
            let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            assert_eq!(json["version"], version.as_str());
            Ok(json)
        });
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    /// What wasm-opt prints for a wasm importing `clipcloud_put_none` and exporting
    /// `memory` and `clipcloud_next`.
    const MAP: &str = "{\n \"imports\": [\n  [\"clipcloud\", \"clipcloud_put_none\", \"a\"]\n ],\n\"exports\": [\n  [\"clipcloud_next\", \"A\"],\n  [\"memory\", \"z\"]\n ]\n}\n";

    #[test]
    fn the_host_follows_the_names_wasm_opt_gave() {
        let host = "const imports = { clipcloud: { clipcloud_put_none: () => out.push(undefined) } };\n\
                    // loads clipcloud_bg.wasm\nconst step = () => wasm.clipcloud_next(new Uint8Array(wasm.memory.buffer));\n";
        assert_eq!(
            rename_host_names(host, MAP).unwrap(),
            "const imports = { a: { a: () => out.push(undefined) } };\n\
             // loads clipcloud_bg.wasm\nconst step = () => wasm.A(new Uint8Array(wasm.z.buffer));\n"
        );
        // An import the host lacks, and an import or export the wasm lacks.
        assert!(rename_host_names("const imports = { clipcloud: {} }; wasm.clipcloud_next();", MAP).is_err());
        let extra = [host, "const more = { clipcloud_put_string: () => {} };"].concat();
        assert!(rename_host_names(&extra, MAP).unwrap_err().contains("clipcloud_put_string"));
        let gone = [host, "wasm.clipcloud_free(1);"].concat();
        assert!(rename_host_names(&gone, MAP).unwrap_err().contains("clipcloud_free"));
    }

    #[test]
    fn package_json_takes_version_and_repository_from_the_workspace() {
        let json = stamped(
            "[workspace]\nmembers = []\n\n[workspace.package]\nversion = \"1.2.3\"\nrepository = \"https://example.org/clipcloud-web/\"\n\n[workspace.dependencies]\nversion = \"9\"\n",
        )
        .unwrap();
        assert_eq!(json["version"], "1.2.3");
        assert_eq!(json["repository"]["url"], "git+https://example.org/clipcloud-web.git");
        assert_eq!(json["homepage"], "https://example.org/clipcloud-web");
        assert_eq!(json["bugs"]["url"], "https://example.org/clipcloud-web/issues");
    }

    #[test]
    fn without_a_repository_package_json_has_none_and_no_version_is_an_error() {
        let json = stamped("[workspace]\n\n[workspace.package]\nversion = \"0.4.0\"\n").unwrap();
        assert_eq!(json["version"], "0.4.0");
        assert!(json.get("repository").is_none() && json.get("bugs").is_none());
        assert!(stamped("[workspace]\n\n[workspace.package]\nedition = \"2021\"\n").is_err());
    }
}
