//! The browsers the tests run in — Chromium, Firefox ESR and WebKitGTK (Safari's engine) —
//! and what a run of them shares: WebKit's display and capabilities, and the time and
//! outcome of each engine's suites (`supported` keeps them).

use crate::display::Xvfb;
use crate::setup;
use crate::supported::{Record, Suite};
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Browser {
    Chromium,
    Firefox,
    WebKit,
}

/// Every engine, in the order the suites run them.
pub const ALL: [Browser; 3] = [Browser::Chromium, Browser::Firefox, Browser::WebKit];

/// WebKitGTK's WebDriver (Debian's `webkit2gtk-driver`); it starts MiniBrowser.
pub const WEBKIT_DRIVER: &str = "/usr/bin/WebKitWebDriver";

/// MiniBrowser's switches: driven by WebDriver, and `navigator.storage` (estimate, persist),
/// which WebKitGTK leaves off unless asked and Safari has on.
const MINIBROWSER_ARGS: [&str; 2] = ["--automation", "--features=+StorageAPI,+StorageAPIEstimate"];

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
/// [`Browsers::wasm_test`] adds.
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
        Browser::WebKit => command.env("GECKODRIVER", WEBKIT_DRIVER),
    };
    command
}

/// MiniBrowser, under the multiarch directory of this machine's libraries.
pub fn minibrowser() -> Option<PathBuf> {
    std::fs::read_dir("/usr/lib")
        .ok()?
        .flatten()
        .map(|dir| dir.path().join("webkit2gtk-4.1").join("MiniBrowser"))
        .find(|path| path.is_file())
}

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
        let binary =
            minibrowser().ok_or("no MiniBrowser under /usr/lib/*/webkit2gtk-4.1 (cargo xtask setup)")?;
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
            .env("CLIPCLOUD_WEBKIT_DRIVER", WEBKIT_DRIVER)
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
