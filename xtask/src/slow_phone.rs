//! `cargo xtask bench`'s first visit on a slow phone: the app as `cargo xtask serve` serves
//! it (the gateway in operator-key mode in front of an emulator) and, as the floor, a
//! Leptos "hello" page (`tests/bench/hello`) built the same way in the same run, each
//! loaded five times by `xtask/tools/slow-phone.mjs` (Chromium, 4× CPU slowdown, 1.6 Mbps
//! / 750 kbps / 150 ms, a phone's window, empty cache). Figures only; nothing fails on speed.

use crate::{compress, csp, emulator, gateway, release_wasm, root, setup};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const RUNS: &str = "5";
const LINE_PREFIX: &str = "SLOW_PHONE ";

/// Builds the hello page, serves it and the app's `dist` (already built), measures both.
pub fn measure(app_dist: &Path) -> Result<Value, String> {
    let root = root();
    println!(
        "\n== bench: first visit on a slow phone (hello page build, then {RUNS} visits of each page) =="
    );
    let hello = root.join("target").join("bench-hello");
    release_wasm::trunk_build(&root.join("tests/bench/hello/index.html"), &hello, "app", &[])?;
    // As the app is served: its policy, and the precompressed copies the gateway sends.
    csp::apply(&hello.join("index.html"))?;
    compress::write_copies(&hello)?;

    let target = root.join("target");
    let emulator =
        emulator::start(&emulator::build()?, &["--quiet"], &target.join("emulator-slow-phone.log"))?;
    // `cargo xtask serve`'s settings: the page needs no key.
    let mut operator = gateway::demo_operator_flags("slow-phone")?;
    operator.extend(["--log-format", "off"].map(str::to_owned));
    let operator: Vec<&str> = operator.iter().map(String::as_str).collect();
    let binary = gateway::build()?;
    let app = gateway::start(&binary, "127.0.0.1:0", &emulator.url, app_dist, &operator, Stdio::null())?;
    // Relay mode: the hello page makes no call, so it gets no preload of the app's first calls.
    let floor = gateway::start(
        &binary,
        "127.0.0.1:0",
        &emulator.url,
        &hello,
        &["--log-format", "off"],
        Stdio::null(),
    )?;

    setup::node_tools()?;
    let mut node = Command::new("node");
    node.current_dir(root.join("xtask").join("tools"))
        .args(["slow-phone.mjs", RUNS])
        .arg(format!("app={}/", app.url))
        .arg(format!("hello={}/", floor.url))
        .stdout(Stdio::piped());
    let mut child = node.spawn().map_err(|e| format!("cannot start node slow-phone.mjs: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout from slow-phone.mjs")?;
    let mut found = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        match line.strip_prefix(LINE_PREFIX) {
            Some(json) => {
                found =
                    Some(serde_json::from_str(json).map_err(|e| format!("slow-phone.mjs: not JSON ({e})"))?)
            }
            None => println!("{line}"),
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("slow-phone.mjs failed ({status})"));
    }
    found.ok_or_else(|| "slow-phone.mjs printed no result".into())
}

/// The report's lines: the medians, and the app against its floor.
pub fn report(result: &Value) -> String {
    if let Some(error) = result["error"].as_str() {
        return format!("\nFirst visit on a slow phone: not measured ({error})\n");
    }
    let pages = &result["pages"];
    let ms = |page: &str, key: &str| pages[page][format!("{key}_median")].as_f64();
    let show = |x: Option<f64>| x.map_or("-".to_owned(), |x| format!("{x:.0}"));
    let mut out = String::from(
        "\nFirst visit on a slow phone (Chromium, 4x CPU slowdown, 1.6 Mbps / 750 kbps / 150 ms RTT, \
         412x823, empty cache; ms from navigation, median of 5):\n",
    );
    out += &format!(
        "  app: style cards, Create enabled and connected {}; first paint {}; app running {}; wasm arrived {}; \
         {} bytes\n",
        show(ms("app", "ready")),
        show(ms("app", "fcp")),
        show(ms("app", "create")),
        show(ms("app", "wasm")),
        show(ms("app", "bytes"))
    );
    out += &format!(
        "  app's lazy panels: preloaded {}; the article helper shown {} ms after a click on it\n",
        show(ms("app", "lazy")),
        show(ms("app", "open_panel"))
    );
    out += &format!(
        "  Leptos \"hello\" page (the floor): shown {}; {} bytes\n",
        show(ms("hello", "ready")),
        show(ms("hello", "bytes"))
    );
    if let (Some(app), Some(hello)) = (ms("app", "ready"), ms("hello", "ready")) {
        out += &format!("  app / floor: {:.2}x, {:.0} ms more\n", app / hello, app - hello);
    }
    out
}
