//! The headless browsers the tests run in, and `cargo test` of a wasm crate inside one.

use crate::setup;
use std::process::Command;

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
