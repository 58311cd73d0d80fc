//! Every test: native unit and HTTP tests, then the core client in headless Chromium
//! and Firefox against a real emulator.

use crate::{emulator, run, setup};
use std::process::Command;

/// Generation time of the test emulator: long enough that a first check finds a
/// creation still running, short enough for a quick suite.
const TEST_DELAY_MS: &str = "600";

pub fn all() -> Result<(), String> {
    setup::all()?;
    let root = crate::root();

    println!("\n== native tests ==");
    run(Command::new("cargo").current_dir(&root).args(["test", "--workspace"]))?;

    let binary = emulator::build()?;
    let log = root.join("target").join("emulator-browser-tests.log");
    let emulator = emulator::start(&binary, &["--delay-ms", TEST_DELAY_MS], &log)?;
    println!("\nemulator for browser tests: {} (log: {})", emulator.url, log.display());

    let browsers = [
        ("Chromium", "CHROMEDRIVER", setup::CHROMEDRIVER.to_owned()),
        ("Firefox", "GECKODRIVER", setup::geckodriver_path().to_string_lossy().into_owned()),
    ];
    for (name, variable, driver) in browsers {
        println!("\n== browser tests in headless {name} ==");
        run(Command::new("cargo")
            .current_dir(&root)
            .args(["test", "-p", "clipcloud", "--target", "wasm32-unknown-unknown", "--test", "browser"])
            .env("CLIPCLOUD_EMULATOR_URL", &emulator.url)
            .env_remove("CHROMEDRIVER")
            .env_remove("GECKODRIVER")
            .env_remove("SAFARIDRIVER")
            .env(variable, driver)
            .env("WASM_BINDGEN_TEST_TIMEOUT", "120"))?;
    }
    println!("\nall tests passed");
    Ok(())
}
