//! One run of the browser suites: WebKit's display and capabilities, shared by every suite,
//! and the time and outcome of each engine's suites (`supported` keeps them).

use crate::browser::{wasm_test, Browser};
use crate::display::Xvfb;
use crate::setup;
use crate::supported::{Record, Suite};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// MiniBrowser's switches: driven by WebDriver, and `navigator.storage` (estimate, persist),
/// which WebKitGTK leaves off unless asked and Safari has on.
const MINIBROWSER_ARGS: [&str; 2] = ["--automation", "--features=+StorageAPI,+StorageAPIEstimate"];

/// One run's browsers: WebKit's display, the capabilities its sessions start with, and
/// what each engine ran and how long it took.
pub struct Browsers {
    display: Xvfb,
    capabilities: PathBuf,
    pub record: Record,
}

impl Browsers {
    /// Starts WebKit's display and writes its W3C capabilities to `target/`.
    pub fn start() -> Result<Self, String> {
        let binary = setup::minibrowser()
            .ok_or("no MiniBrowser under /usr/lib/*/webkit2gtk-4.1 (cargo xtask setup)")?;
        let capabilities = serde_json::json!({
            "browserName": "MiniBrowser",
            "webkitgtk:browserOptions": { "binary": binary, "args": MINIBROWSER_ARGS },
        });
        let path = crate::root().join("target").join("webkit-capabilities.json");
        std::fs::write(&path, capabilities.to_string())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        let display = Xvfb::start()?;
        println!("WebKitGTK's display: Xvfb {}", display.display);
        Ok(Self { display, capabilities: path, record: Record::default() })
    }

    /// [`wasm_test`] with what WebKit needs besides its driver: the display and the
    /// capabilities file.
    pub fn wasm_test(&self, browser: Browser, emulator_url: &str) -> Command {
        let mut command = wasm_test(browser, emulator_url);
        if browser == Browser::WebKit {
            command
                .env("WASM_BINDGEN_TEST_WEBDRIVER_JSON", &self.capabilities)
                .env("DISPLAY", &self.display.display);
        }
        command
    }

    /// What a node test needs to start WebKit (tests/webdriver/page.mjs): the display, the
    /// driver and the capabilities.
    pub fn node_env<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("DISPLAY", &self.display.display)
            .env("CLIPCLOUD_WEBKIT_DRIVER", setup::WEBKIT_DRIVER)
            .env("CLIPCLOUD_WEBKIT_CAPABILITIES", &self.capabilities)
    }

    /// Runs `suite` in `browser`, timed, and records it when it passes.
    pub fn timed(
        &mut self,
        browser: Browser,
        name: &str,
        suite: impl FnOnce(&Self) -> Result<Option<String>, String>,
    ) -> Result<(), String> {
        let started = Instant::now();
        let detail = suite(self)?;
        let seconds = started.elapsed().as_secs_f64();
        println!("\n({} in {}: {seconds:.0} s)", name, browser.name());
        self.record.add(browser, Suite { name: name.to_owned(), detail, seconds });
        Ok(())
    }
}
