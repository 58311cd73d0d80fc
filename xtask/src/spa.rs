//! The single-page app (`crates/clipcloud-app`, built by Trunk from the root
//! `index.html`): release build, the size of a first visit, and its tests.

use crate::browser::{Browser, ALL};
use crate::browsers::Browsers;
use crate::glue::{esbuild, output, WASM_FEATURES};
use crate::{emulator, gateway, root, run, scenarios, setup};
use sha2::{Digest, Sha256, Sha384};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Generation time of the emulator for the end-to-end test: long enough to reload
/// the page while a creation runs.
const E2E_DELAY_MS: &str = "3000";

/// `dist/` after a release build (opt-level z, LTO, wasm-opt -Oz from binaryen 132).
pub fn build() -> Result<PathBuf, String> {
    setup::for_build()?;
    let root = root();
    println!("\n== building the SPA (release; a few minutes when cold) ==");
    let dist = root.join("dist");
    let target = crate::release_wasm::trunk_build(
        &root.join("index.html"),
        &dist,
        "app-split",
        &crate::split::RUSTFLAGS,
    )?;
    let cargo_wasm =
        target.join("wasm32-unknown-unknown").join(crate::release_wasm::PROFILE).join("clipcloud-app.wasm");
    shrink(&dist, &cargo_wasm)?;
    crate::csp::apply(&dist.join("index.html"))?;
    crate::compress::write_copies(&dist)?;
    print_sizes(&dist)?;
    crate::code_size::print(&crate::split::named_main_module(), "SPA main module");
    Ok(dist)
}

/// After Trunk: what Trunk cannot do safely, each step checked so that a change in
/// Trunk's or wasm-bindgen's output fails the build instead of the page.
/// - wasm-opt shortens the names between the main wasm module and its JS to one to three
///   letters (`--minify-imports-and-exports-and-modules`), and the glue and the split's link
///   module follow its name map (short_names.rs);
/// - esbuild minifies the glue and the stylesheet (Trunk's own minifier breaks the glue), and
///   bundles the app's JS modules (wasm-bindgen's snippets, `crates/clipcloud-app/web/`) into
///   the glue: one file to download, not a module request each;
/// - each rewritten file gets a name from its new content (Trunk's `filehash` scheme), and
///   index.html its new name and `integrity` (SRI) hash, so caches and checks stay right.
///
/// The CSP (csp.rs) is written afterwards, over the final inline script.
fn shrink(dist: &Path, cargo_wasm: &Path) -> Result<(), String> {
    let index = dist.join("index.html");
    let mut page = read(&index)?;
    let js = between(&page, "import init, * as bindings from '/", "'")?.to_owned();
    let wasm = between(&page, "module_or_path: '/", "'")?.to_owned();
    let lazy = crate::split::apply(cargo_wasm, dist, &js, &wasm)?;
    page = crate::split::with_lazy_links(&page, &lazy)?;

    // The app exports nothing to JavaScript; the classes in the glue come from a dependency
    // (wasm-streams, through Leptos's server functions, which a client-side app never
    // calls). Out of the glue, and their exports out of the wasm, so wasm-opt drops their code
    // (the split emptied its table slots, dead_slots.rs); checked below.
    let (glue, unused) = without_classes(&read(&dist.join(&js))?)?;
    let module = std::fs::read(dist.join(&wasm)).map_err(|e| format!("cannot read {wasm}: {e}"))?;
    let module = without_exports(&module, &unused)?;
    std::fs::write(dist.join(&wasm), module).map_err(|e| format!("cannot write {wasm}: {e}"))?;
    // Names kept (`-g`) in a copy for `code_size::print`; the shipped module has none.
    let named = crate::split::named_main_module();
    let map = output(
        Command::new(setup::node_tools_bin().join("wasm-opt"))
            .arg(dist.join(&wasm))
            .args(["--remove-unused-module-elements", "--minify-imports-and-exports-and-modules", "-g"])
            .args(WASM_FEATURES)
            .arg("-o")
            .arg(&named),
    )?;
    crate::split::without_names(&named, &dist.join(&wasm))?;
    let dead = format!("{}::", crate::split::DEAD_CRATE);
    let left: Vec<String> = crate::code_size::by_function(&named)?
        .into_iter()
        .filter_map(|(name, _)| name.contains(&dead).then_some(name))
        .collect();
    if !left.is_empty() {
        return Err(format!("the main module still holds code of wasm-streams: {left:?}"));
    }
    let names = crate::short_names::Names::parse(&map)?;
    let glue = crate::short_names::in_glue(&glue, &names)?;
    crate::split::rename_in_link_module(dist, &names)?;
    std::fs::write(dist.join(&js), glue).map_err(|e| format!("cannot write the glue: {e}"))?;
    minify(&dist.join(&js))?;
    crate::split::remove_link_module(dist)?;
    page = without_snippets(&page, dist)?;

    // The glue and its wasm share one name hash, as Trunk names them.
    let new_js = renamed(&js, ".js", &[&dist.join(&js), &dist.join(&wasm)])?;
    let new_wasm = renamed(&wasm, "_bg.wasm", &[&dist.join(&js), &dist.join(&wasm)])?;
    let mut renames = vec![(js, new_js), (wasm, new_wasm)];
    let css = between(&page, "<link rel=\"stylesheet\" href=\"/", "\"")?.to_owned();
    minify(&dist.join(&css))?;
    let new_css = renamed(&css, ".css", &[&dist.join(&css)])?;
    renames.push((css, new_css));

    for (old, new) in &renames {
        if old != new {
            std::fs::rename(dist.join(old), dist.join(new))
                .map_err(|e| format!("cannot rename {old} to {new}: {e}"))?;
            if !page.contains(old.as_str()) {
                return Err(format!("index.html does not name {old}"));
            }
            page = page.replace(old.as_str(), new);
        }
    }
    let page = with_integrity(&page, dist)?;
    std::fs::write(&index, page).map_err(|e| format!("cannot write {}: {e}", index.display()))
}

/// The glue without its exported classes (each `export class`, its `Symbol.dispose`
/// line and its `FinalizationRegistry`), and the wasm exports only they called.
fn without_classes(glue: &str) -> Result<(String, Vec<String>), String> {
    let mut glue = glue.to_owned();
    let mut exports = Vec::new();
    while let Some(at) = glue.find("export class ") {
        let name_end = at + glue[at..].find(" {").ok_or("an export class without a body")?;
        let name = glue[at + "export class ".len()..name_end].to_owned();
        let end = at + glue[at..].find("\n}\n").ok_or("an export class not closed at column 0")? + 3;
        let dispose =
            format!("if (Symbol.dispose) {name}.prototype[Symbol.dispose] = {name}.prototype.free;\n");
        let finalization_at = glue
            .find(&format!("const {name}Finalization = "))
            .ok_or_else(|| format!("no FinalizationRegistry for the exported class {name}"))?;
        let finalization_end = finalization_at
            + glue[finalization_at..].find(";\n").ok_or("an unterminated FinalizationRegistry")?
            + 2;
        if finalization_at < end {
            return Err(format!("the glue defines {name}Finalization before the class"));
        }
        for part in [&glue[at..end], &glue[finalization_at..finalization_end]] {
            exports.extend(part.split("wasm.").skip(1).map(|rest| {
                rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap_or("").to_owned()
            }));
        }
        // Later in the text first, so the earlier offsets stay valid.
        glue.replace_range(finalization_at..finalization_end, "");
        glue.replace_range(at..end, "");
        if !glue.contains(&dispose) {
            return Err(format!("the glue has no Symbol.dispose line for {name}"));
        }
        glue = glue.replacen(&dispose, "", 1);
        if glue.contains(&format!("{name}.")) || glue.contains(&format!("{name}Finalization")) {
            return Err(format!("the glue still uses the class {name} after removing it"));
        }
    }
    exports.sort();
    exports.dedup();
    Ok((glue, exports))
}

/// The wasm module without the named exports (each must exist).
fn without_exports(module: &[u8], names: &[String]) -> Result<Vec<u8>, String> {
    use crate::wasm_sections::put_leb;
    fn leb(bytes: &[u8], at: &mut usize) -> Result<usize, String> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let byte = *bytes.get(*at).ok_or("the wasm ends inside a number")?;
            *at += 1;
            value |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
            shift += 7;
        }
    }
    let mut dropped = 0;
    let out = crate::wasm_sections::rewritten(module, 7, |section| {
        let mut pos = 0;
        let count = leb(section, &mut pos)?;
        let mut kept = Vec::new();
        for _ in 0..count {
            let start = pos;
            let len = leb(section, &mut pos)?;
            let name = section.get(pos..pos + len).ok_or("an export name runs past its section")?;
            pos += len + 1; // the name, then the kind
            leb(section, &mut pos)?;
            if names.iter().any(|n| n.as_bytes() == name) {
                dropped += 1;
            } else {
                kept.push(start..pos);
            }
        }
        let mut body = Vec::new();
        put_leb(&mut body, kept.len());
        for range in kept {
            body.extend_from_slice(&section[range]);
        }
        Ok(body)
    })?;
    if dropped != names.len() {
        return Err(format!("the wasm lacks some of the exports {names:?}"));
    }
    Ok(out)
}

/// esbuild's minifier, in place (a stylesheet or an ES module, by the file's extension).
fn minify(file: &Path) -> Result<(), String> {
    let minified = file.with_extension(format!(
        "min.{}",
        file.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let mut command = Command::new(esbuild()?);
    command.arg(file).args(["--minify", "--log-level=warning"]);
    if file.extension().is_some_and(|e| e == "js") {
        // Tree shaking drops the helpers only the removed parts used; a FinalizationRegistry
        // (wasm-bindgen's closures) is kept: it is in use. `--bundle` takes the snippets in.
        command.args(["--bundle", "--format=esm", "--target=es2022", "--tree-shaking=true"]);
    }
    run(command.arg(format!("--outfile={}", minified.display())))?;
    std::fs::rename(&minified, file).map_err(|e| format!("cannot replace {}: {e}", file.display()))
}

/// The page without Trunk's `modulepreload` links to wasm-bindgen's snippets, and `dist`
/// without the snippets: they are in the glue now (`minify` bundles them).
fn without_snippets(page: &str, dist: &Path) -> Result<String, String> {
    const LINK: &str = "<link rel=\"modulepreload\" href=\"/snippets/";
    let mut page = page.to_owned();
    while let Some(at) = page.find(LINK) {
        let end = at + page[at..].find('>').ok_or("an unclosed modulepreload link")? + 1;
        // The tag and the line break after it.
        let end = if page[end..].starts_with('\n') { end + 1 } else { end };
        page.replace_range(at..end, "");
    }
    let snippets = dist.join("snippets");
    if snippets.exists() {
        std::fs::remove_dir_all(&snippets)
            .map_err(|e| format!("cannot remove {}: {e}", snippets.display()))?;
    }
    Ok(page)
}

/// `name-<16 hex>SUFFIX` with the hash replaced by one of `files`' new content.
fn renamed(name: &str, suffix: &str, files: &[&Path]) -> Result<String, String> {
    let stem = name.strip_suffix(suffix).ok_or_else(|| format!("{name} does not end in {suffix}"))?;
    let (base, old_hash) = stem.rsplit_once('-').ok_or_else(|| format!("{name} has no hash"))?;
    // Trunk writes its hash without leading zeros: up to 16 hex digits.
    if !(1..=16).contains(&old_hash.len()) || !old_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{name}: Trunk's filehash is not hex digits"));
    }
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?);
    }
    let hex = clipcloud::hex::encode(&hasher.finalize()[..8]);
    Ok(format!("{base}-{hex}{suffix}"))
}

/// Every `integrity="sha384-..."` of a tag that names a file of `dist` by `href="/..."`,
/// computed again from the file.
fn with_integrity(page: &str, dist: &Path) -> Result<String, String> {
    const ATTR: &str = "integrity=\"sha384-";
    let mut out = String::with_capacity(page.len());
    let mut rest = page;
    let mut count = 0;
    while let Some(at) = rest.find(ATTR) {
        let tag_start = rest[..at].rfind('<').ok_or("an integrity attribute outside a tag")?;
        let href = between(&rest[tag_start..at], "href=\"/", "\"")
            .or_else(|_| {
                let end = at + rest[at..].find('>').ok_or("an unclosed tag")?;
                between(&rest[tag_start..end], "href=\"/", "\"")
            })?
            .to_owned();
        let file = dist.join(&href);
        let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let value_start = at + ATTR.len();
        let value_end = value_start + rest[value_start..].find('"').ok_or("an unclosed integrity value")?;
        out.push_str(&rest[..value_start]);
        out.push_str(&clipcloud::base64::encode(&Sha384::digest(&bytes)));
        rest = &rest[value_end..];
        count += 1;
    }
    out.push_str(rest);
    if count == 0 {
        return Err("index.html has no integrity attribute: did Trunk's output change?".into());
    }
    Ok(out)
}

/// The text between `start` and the next `end`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Result<&'a str, String> {
    let from = text.find(start).ok_or_else(|| format!("no `{start}` in index.html"))? + start.len();
    let len = text[from..].find(end).ok_or_else(|| format!("no `{end}` after `{start}`"))?;
    Ok(&text[from..from + len])
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// One file a page downloads and its size: raw, `gzip -9` (the yardstick the size
/// targets use), and as the gateway serves it (its precompressed copies, if written).
pub struct FileSize {
    pub name: String,
    pub raw: u64,
    pub gzip9: u64,
    pub served: Option<crate::compress::Copies>,
}

/// Everything a first visit downloads: the page, its JS glue, the wasm and the CSS
/// (the icon is inline); not the lazy modules ([`lazy_sizes`]).
pub fn sizes(dist: &Path) -> Result<Vec<FileSize>, String> {
    let lazy = crate::split::lazy_modules(&read(&dist.join("index.html"))?);
    Ok(all_sizes(dist)?.into_iter().filter(|f| !lazy.contains(&f.name)).collect())
}

/// The lazy modules, each fetched when its panel is first opened or 3 s after the first connection.
pub fn lazy_sizes(dist: &Path) -> Result<Vec<FileSize>, String> {
    let lazy = crate::split::lazy_modules(&read(&dist.join("index.html"))?);
    Ok(all_sizes(dist)?.into_iter().filter(|f| lazy.contains(&f.name)).collect())
}

fn all_sizes(dist: &Path) -> Result<Vec<FileSize>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dist)
        .map_err(|e| format!("cannot read {}: {e}", dist.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_some_and(|e| ["html", "js", "wasm", "css"].iter().any(|x| e == *x))
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        out.push(FileSize {
            name: file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            raw: std::fs::metadata(&file).map_err(|e| e.to_string())?.len(),
            gzip9: crate::gzip9_len(&file)? as u64,
            served: crate::compress::copies(&file),
        });
    }
    Ok(out)
}

pub fn print_sizes(dist: &Path) -> Result<(), String> {
    let sizes = sizes(dist)?;
    println!("\nSPA first visit ({}), bytes:", dist.display());
    println!("  {:<44} {:>8} {:>8} {:>14} {:>12}", "file", "raw", "gzip -9", "served gzip", "served br");
    let row = |name: &str, raw: u64, gz: u64, served: Option<crate::compress::Copies>| {
        let (served_gz, served_br) =
            served.map_or(("-".into(), "-".into()), |c| (c.gzip.to_string(), c.brotli.to_string()));
        println!("  {name:<44} {raw:>8} {gz:>8} {served_gz:>14} {served_br:>12}");
    };
    for f in &sizes {
        row(&f.name, f.raw, f.gzip9, f.served);
    }
    let sum = |size: fn(&FileSize) -> u64| sizes.iter().map(size).sum::<u64>();
    let served = sizes.iter().map(|f| f.served).sum::<Option<crate::compress::Copies>>();
    row("total", sum(|f| f.raw), sum(|f| f.gzip9), served);
    println!(
        "\nSPA lazy modules (each fetched when its panel opens, or 3 s after the first connection), bytes:"
    );
    for f in &lazy_sizes(dist)? {
        row(&f.name, f.raw, f.gzip9, f.served);
    }
    println!("  (served: the precompressed copies the gateway sends, brotli to browsers that ask for it, gzip by zopfli)");
    Ok(())
}

/// `cargo xtask spa-size`: build, then print the sizes (printed by `build`).
pub fn size_command() -> Result<(), String> {
    build().map(drop)
}

/// The SPA's tests: its pure logic natively, its components in Chromium, Firefox ESR and
/// WebKitGTK (wasm-bindgen-test), then the release build end to end in the three, served by
/// the gateway in front of an emulator.
pub fn test(emulator_binary: &Path, emulator_url: &str, browsers: &mut Browsers) -> Result<(), String> {
    let root = root();
    println!("\n== SPA: pure logic, native ==");
    run(Command::new("cargo").current_dir(&root).args(["test", "-p", "clipcloud-app"]))?;

    println!("\n== SPA: building the components' browser tests once for the three engines ==");
    run(browsers.wasm_test(Browser::Chromium, emulator_url).args(["-p", "clipcloud-app", "--no-run"]))?;
    for browser in ALL {
        println!("\n== SPA: components in {} ==", browser.name());
        browsers.timed(browser, "app components", |b| {
            let passed = crate::supported::cargo_tests(
                b.wasm_test(browser, emulator_url).args(["-p", "clipcloud-app"]),
            )?;
            Ok(Some(crate::supported::tests_counted(passed)))
        })?;
    }
    end_to_end(emulator_binary, browsers)
}

/// `cargo xtask e2e`: only the release build end to end (after the app's own changes).
pub fn e2e_command() -> Result<(), String> {
    setup::all()?;
    let mut browsers = Browsers::start()?;
    end_to_end(&emulator::build()?, &mut browsers)?;
    browsers.record.print_times();
    Ok(())
}

/// The release build end to end in each engine (built once), served by gateways in front of
/// an emulator of its own.
fn end_to_end(emulator_binary: &Path, browsers: &mut Browsers) -> Result<(), String> {
    let root = root();
    let dist = build()?;
    // The app as it is deployed: the gateway serves it and relays the API (relay mode, the
    // visitor's key) to the emulator, which the tests also call directly for fresh keys.
    let target = root.join("target");
    let log = target.join("emulator-spa-e2e.log");
    let emulator = emulator::start(&emulator_binary.to_path_buf(), &["--delay-ms", E2E_DELAY_MS], &log)?;
    let gateway_log = target.join("gateway-spa-e2e.log");
    let log_file = std::fs::File::create(&gateway_log)
        .map_err(|e| format!("cannot create {}: {e}", gateway_log.display()))?;
    let gateway_binary = gateway::build()?;
    // Held checks off here: these tests count the checks the app's own schedule sends to the
    // emulator. The operator-key gateways below offer them (the default), as deployed.
    let served = gateway::start(
        &gateway_binary,
        "127.0.0.1:0",
        &emulator.url,
        &dist,
        &["--hold-max", "0"],
        Stdio::from(log_file),
    )?;
    let project = root.join("tests").join("e2e-spa");
    run(Command::new("npm").current_dir(&project).args(["ci", "--no-audit", "--no-fund"]))?;
    println!("\n== SPA: the gallery's ZIP module, in Node.js ==");
    run(Command::new("node").current_dir(&project).args([
        "--test",
        "--test-reporter",
        "spec",
        "zip.test.mjs",
    ]))?;
    let key_file = scenarios::operator_key_file()?;
    for browser in ALL {
        // Operator-key mode, a fresh one per browser (its ledger in memory).
        let operator_log = target.join(format!("gateway-operator-{}.log", browser.id()));
        let operator_log_file = std::fs::File::create(&operator_log)
            .map_err(|e| format!("cannot create {}: {e}", operator_log.display()))?;
        let operator_flags = scenarios::operator_flags(&key_file);
        let operator_flags: Vec<&str> = operator_flags.iter().map(String::as_str).collect();
        let operator = gateway::start(
            &gateway_binary,
            "127.0.0.1:0",
            &emulator.url,
            &dist,
            &operator_flags,
            Stdio::from(operator_log_file),
        )?;
        println!(
            "\n== SPA end to end in {}: {} in front of {} (logs: {}, {}) ==",
            browser.name(),
            served.url,
            emulator.url,
            gateway_log.display(),
            log.display()
        );
        let urls = scenarios::Urls { spa: &served.url, operator: &operator.url, emulator: &emulator.url };
        let mut tally = None;
        browsers.timed(browser, "app end to end", |b| {
            // The offline scenario starts and stops a gateway of its own, serving this build.
            let own_gateway =
                [("CLIPCLOUD_GATEWAY_BIN", gateway_binary.as_path()), ("CLIPCLOUD_SPA_DIST", dist.as_path())];
            let counted = scenarios::run(b, browser, &urls, browser.id(), None, &own_gateway)?;
            let detail = format!("{} scenarios, axe-core among them", counted.passed);
            tally = Some(counted);
            Ok(Some(detail))
        })?;
        if let Some(tally) = tally {
            browsers.record.could_not(browser, &tally);
        }
    }
    crate::behind_proxies::end_to_end(browsers, &gateway_binary, &emulator.url, &dist)?;
    println!("screenshots of the gallery: tests/artifacts/gallery*.png");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLUE: &str = "export class Sink {\n    free() {\n        wasm.__wbg_sink_free(this.p, 0);\n    }\n    write(c) {\n        return wasm.sink_write(this.p, c);\n    }\n}\nif (Symbol.dispose) Sink.prototype[Symbol.dispose] = Sink.prototype.free;\nfunction __wbg_get_imports() {\n    const import0 = {\n        __proto__: null,\n        __wbg_a_1: function(arg0) {\n            return arg0;\n        },\n        __wbg_b_2: function() { return handleError(function (arg0) {\n            arg0.x();\n        }, arguments); },\n        __wbg_c_3: function(arg0) { return arg0 + 1; },\n    };\n    return { __proto__: null, \"./app_bg.js\": import0 };\n}\nconst SinkFinalization = (typeof FinalizationRegistry === 'undefined')\n    ? { register: () => {}, unregister: () => {} }\n    : new FinalizationRegistry(ptr => wasm.__wbg_sink_free(ptr, 1));\nfunction f() { wasm.__wbindgen_start(); }\n";

    #[test]
    fn exported_classes_leave_the_glue_with_their_exports() {
        let (glue, exports) = without_classes(GLUE).unwrap();
        assert_eq!(exports, ["__wbg_sink_free", "sink_write"]);
        assert!(!glue.contains("Sink"), "{glue}");
        assert!(glue.starts_with("function __wbg_get_imports() {"), "{glue}");
        assert!(glue.contains("function f() { wasm.__wbindgen_start(); }"));
        // No class: nothing to do.
        assert_eq!(without_classes(&glue).unwrap(), (glue.clone(), vec![]));
    }

    /// A wasm module with only an export section (enough for `without_exports`).
    fn module_exporting(names: &[&str]) -> Vec<u8> {
        let mut body = vec![names.len() as u8];
        for (i, name) in names.iter().enumerate() {
            body.push(name.len() as u8);
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(&[0, i as u8]); // a function, its index
        }
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        module.extend_from_slice(&[7, body.len() as u8]);
        module.extend_from_slice(&body);
        module
    }

    #[test]
    fn exports_are_dropped_by_name() {
        let module = module_exporting(&["memory", "sink_write", "main"]);
        let out = without_exports(&module, &["sink_write".to_owned()]).unwrap();
        assert_eq!(out[..8], module[..8]);
        // Indexes stay as they were: only the entry goes.
        let expected = [&[7u8, 17, 2, 6][..], b"memory", &[0, 0, 4], b"main", &[0, 2]].concat();
        assert_eq!(out[8..], expected[..]);
        assert!(without_exports(&module, &["absent".to_owned()]).is_err());
        assert!(without_exports(b"not wasm", &[]).is_err());
    }

    #[test]
    fn renamed_files_and_integrity_follow_the_content() {
        let dir = std::env::temp_dir().join(format!("xtask-spa-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("app-0123456789abcdef.css"), "a{b:c}").unwrap();
        let name =
            renamed("app-0123456789abcdef.css", ".css", &[&dir.join("app-0123456789abcdef.css")]).unwrap();
        // sha256("a{b:c}"), first 8 bytes.
        let hex = clipcloud::hex::encode(&Sha256::digest(b"a{b:c}")[..8]);
        assert_eq!(name, format!("app-{hex}.css"));
        // Trunk drops leading zeros from its hash.
        assert!(renamed("app-123.css", ".css", &[&dir.join("app-0123456789abcdef.css")]).is_ok());
        assert!(renamed("app.css", ".css", &[]).is_err());

        let page = "<link rel=\"stylesheet\" href=\"/app-0123456789abcdef.css\" integrity=\"sha384-old\"/>\n<link rel=\"modulepreload\" href=\"/app-0123456789abcdef.css\" crossorigin=\"anonymous\" integrity=\"sha384-old\">";
        let out = with_integrity(page, &dir).unwrap();
        let sri = format!("sha384-{}", clipcloud::base64::encode(&Sha384::digest(b"a{b:c}")));
        assert_eq!(out.matches(&sri).count(), 2, "{out}");
        assert!(with_integrity("<p>no hashes</p>", &dir).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
