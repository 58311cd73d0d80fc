//! Every test: native unit and HTTP tests, then the core client in headless Chromium
//! and Firefox against a real emulator.

use crate::browser::{wasm_test, Browser};
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

    let binary = emulator::build()?;
    let log = root.join("target").join("emulator-browser-tests.log");
    let emulator = emulator::start(&binary, &["--delay-ms", TEST_DELAY_MS], &log)?;
    println!("\nemulator for browser tests: {} (log: {})", emulator.url, log.display());

    for browser in [Browser::Chromium, Browser::Firefox] {
        println!("\n== core client in headless {} ==", browser.name());
        run(wasm_test(browser, &emulator.url).args(["-p", "clipcloud", "--test", "browser"]))?;
        println!("\n== the wasm builds' allocator in headless {} ==", browser.name());
        run(wasm_test(browser, &emulator.url).args(["-p", "clipcloud-alloc", "--test", "browser"]))?;
    }
    println!("\n== chaos: the core client through injected faults, headless Chromium ==");
    run(wasm_test(Browser::Chromium, &emulator.url).args([
        "-p",
        "clipcloud",
        "--test",
        "chaos",
        "--",
        "--nocapture",
    ]))?;
    println!("\n== npm package: packed, installed from the tarball: Node.js, Deno, Bun, workerd, Chromium, Firefox ==");
    crate::package::test(&binary)?;
    crate::spa::test(&binary, &emulator.url)?;
    crate::image::test(&root.join("dist"))?;
    println!("\nall tests passed");
    Ok(())
}
