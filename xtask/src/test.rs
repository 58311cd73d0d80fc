//! Every test: native unit and HTTP tests, then the core client in headless Chromium
//! and Firefox against a real emulator.

use crate::{emulator, run, setup};
use std::process::Command;

/// Generation time of the test emulator: long enough that a first check finds a
/// creation still running, short enough for a quick suite.
const TEST_DELAY_MS: &str = "600";

pub fn all() -> Result<(), String> {
    setup::all()?;
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
    println!("\n== npm package: packed, installed from the tarball, in headless Chromium and Firefox ==");
    crate::package::test(&binary)?;
    crate::spa::test(&binary, &emulator.url)?;
    println!("\nall tests passed");
    Ok(())
}

#[derive(Clone, Copy)]
pub enum Browser {
    Chromium,
    Firefox,
}

impl Browser {
    pub fn name(self) -> &'static str {
        match self {
            Self::Chromium => "Chromium",
            Self::Firefox => "Firefox",
        }
    }
}

/// `cargo test --target wasm32-unknown-unknown` in this browser (wasm-bindgen-test-runner
/// picks the browser from the driver variable), with the emulator's URL compiled in.
/// Add `-p CRATE --test NAME` and runner arguments.
pub fn wasm_test(browser: Browser, emulator_url: &str) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(crate::root())
        .args(["test", "--target", "wasm32-unknown-unknown"])
        .env("CLIPCLOUD_EMULATOR_URL", emulator_url)
        .env_remove("CHROMEDRIVER")
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    match browser {
        Browser::Chromium => command.env("CHROMEDRIVER", setup::CHROMEDRIVER),
        Browser::Firefox => command.env("GECKODRIVER", setup::geckodriver_path()),
    };
    command
}
