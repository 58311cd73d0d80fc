//! The browsers the tests run in — Chromium, Firefox ESR and WebKitGTK (Safari's engine) —
//! and `cargo test` of a wasm crate inside one.

use crate::setup;
use std::process::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
    WebKit,
}

/// Every engine, in the order the suites run them.
pub const ALL: [Browser; 3] = [Browser::Chromium, Browser::Firefox, Browser::WebKit];

impl Browser {
    /// As the reports name it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Chromium => "Chromium",
            Self::Firefox => "Firefox ESR",
            Self::WebKit => "WebKitGTK",
        }
    }

    /// As the node tests name it (`CLIPCLOUD_E2E_BROWSER`).
    pub fn id(self) -> &'static str {
        match self {
            Self::Chromium => "chromium",
            Self::Firefox => "firefox",
            Self::WebKit => "webkit",
        }
    }

    /// The version installed (`None` when it cannot be told): as the browser reports it;
    /// WebKitGTK's from its Debian package (MiniBrowser tells it only on a display).
    pub fn version(self) -> Option<String> {
        let (program, args, prefix): (&str, &[&str], &str) = match self {
            Self::Chromium => ("chromium", &["--version"], "Chromium "),
            Self::Firefox => ("firefox-esr", &["--version"], "Mozilla Firefox "),
            Self::WebKit => ("dpkg-query", &["-W", "-f", "${Version}", "libwebkit2gtk-4.1-0"], ""),
        };
        let out = Command::new(program).args(args).output().ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        // "143.0.7499.192 built on Debian…", "2.50.6-1~deb12u2": the upstream version.
        let version = text.trim().strip_prefix(prefix)?.split_whitespace().next()?.split('-').next()?;
        (!version.is_empty()).then(|| version.to_owned())
    }
}

/// `cargo test --target wasm32-unknown-unknown` in this browser, with the emulator's URL
/// compiled in. Add `-p CRATE --test NAME` and runner arguments. WebKit also needs what
/// [`crate::browsers::Browsers::wasm_test`] adds.
///
/// wasm-bindgen-test-runner picks the browser from the driver variable. WebKitWebDriver goes
/// in as `GECKODRIVER`: the runner's Gecko path sends the capabilities file
/// (`WASM_BINDGEN_TEST_WEBDRIVER_JSON`) in a W3C session request, which WebKitWebDriver takes
/// as it is (it ignores the `moz:firefoxOptions` the runner adds), where its Safari path sends
/// no capabilities at all. The runner then prints "Firefox": the session is MiniBrowser's.
pub fn wasm_test(browser: Browser, emulator_url: &str) -> Command {
    let mut command = Command::new("cargo");
    command
        .current_dir(crate::root())
        .args(["test", "--target", "wasm32-unknown-unknown"])
        .env("CLIPCLOUD_EMULATOR_URL", emulator_url)
        .env_remove("CHROMEDRIVER")
        .env_remove("GECKODRIVER")
        .env_remove("SAFARIDRIVER")
        .env_remove("WASM_BINDGEN_TEST_WEBDRIVER_JSON")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    match browser {
        Browser::Chromium => command.env("CHROMEDRIVER", setup::CHROMEDRIVER),
        Browser::Firefox => command.env("GECKODRIVER", setup::geckodriver_path()),
        Browser::WebKit => command.env("GECKODRIVER", setup::WEBKIT_DRIVER),
    };
    command
}
