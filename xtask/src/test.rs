//! Every test: native unit and HTTP tests, then the browser suites in headless Chromium,
//! Firefox ESR and WebKitGTK against a real emulator, each engine timed; a run where all
//! pass writes the supported-browsers record (supported.rs).

use crate::browser::{Browser, ALL};
use crate::browsers::Browsers;
use crate::supported::cargo_tests;
use crate::{emulator, run, setup};
use std::process::Command;

/// Generation time of the test emulator: long enough that a first check finds a
/// creation still running, short enough for a quick suite.
const TEST_DELAY_MS: &str = "600";

pub fn all() -> Result<(), String> {
    setup::all()?;
    crate::fresh_home::check()?;
    crate::lint::all()?;
    let root = crate::root();

    println!("\n== native tests ==");
    // The workspace's default members: the wasm-only crates are tested in browsers below.
    run(Command::new("cargo").current_dir(&root).arg("test"))?;
    crate::contract::all(false)?;
    browser_suites()?;
    // The container image serves the app the browser suites built.
    crate::image::test(&root.join("dist"))?;
    println!("\nall tests passed");
    Ok(())
}

/// `cargo xtask browsers`: only the browser suites (and the record they write).
pub fn browsers_command() -> Result<(), String> {
    setup::all()?;
    browser_suites()
}

/// Every browser suite in the three engines against a real emulator, each engine timed; when
/// all pass, the supported-browsers record and the README's table from it.
fn browser_suites() -> Result<(), String> {
    let root = crate::root();
    let binary = emulator::build()?;
    let log = root.join("target").join("emulator-browser-tests.log");
    let emulator = emulator::start(&binary, &["--delay-ms", TEST_DELAY_MS], &log)?;
    println!("\nemulator for browser tests: {} (log: {})", emulator.url, log.display());
    let mut browsers = Browsers::start()?;

    // Each suite built once, then run in each engine: the time per engine is the run's alone.
    let suites: [(&str, &str, &[Browser], &[&str]); 3] = [
        ("core client", "clipcloud", &ALL, &["--test", "browser"]),
        ("allocator", "clipcloud-alloc", &ALL, &["--test", "browser"]),
        // 300 creations through faults: the engine matters little, the time does.
        ("chaos", "clipcloud", &[Browser::Chromium], &["--test", "chaos", "--", "--nocapture"]),
    ];
    for (name, package, engines, args) in suites {
        let (target, _) = args.split_at(2);
        run(browsers
            .wasm_test(Browser::Chromium, &emulator.url)
            .args(["-p", package, "--no-run"])
            .args(target))?;
        for &browser in engines {
            println!("\n== {name} in {} ==", browser.name());
            browsers.timed(browser, name, |b| {
                let passed =
                    cargo_tests(b.wasm_test(browser, &emulator.url).args(["-p", package]).args(args))?;
                Ok(Some(crate::supported::tests_counted(passed)))
            })?;
        }
    }
    println!("\n== npm package: packed, installed from the tarball: Node.js, Deno, Bun, workerd, Chromium, Firefox ESR, WebKitGTK ==");
    crate::package::test(&binary, &mut browsers)?;
    crate::spa::test(&binary, &emulator.url, &mut browsers)?;
    browsers.record.print_times();
    browsers.record.write()?;
    println!("\nevery browser suite passed");
    Ok(())
}
