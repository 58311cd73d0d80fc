//! The app's end-to-end scenarios (`tests/e2e-spa/spa.test.mjs`), run by node in one engine
//! against the servers given, and what their operator-key gateway is started with.

use crate::browser::Browser;
use crate::browsers::Browsers;
use crate::root;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The key the operator-mode gateway adds: the emulator's demo key (balance 100; the other
/// tests use fresh keys of their own).
const E2E_OPERATOR_KEY: &str = "demo-key";

/// The key file of the operator-key gateways (the emulator's demo key).
pub fn operator_key_file() -> Result<PathBuf, String> {
    let key_file = root().join("target").join("e2e-operator-key.txt");
    std::fs::write(&key_file, format!("{}\n", E2E_OPERATOR_KEY))
        .map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
    Ok(key_file)
}

/// The operator-key gateway the scenarios expect, its key in `key_file`: one image a day,
/// from the one address the browser has, reserved at its price before it is seen.
pub fn operator_flags(key_file: &Path) -> Vec<String> {
    let flags = [
        "--ledger",
        ":memory:",
        "--daily-cap",
        "1.1",
        "--creates-per-minute",
        "30",
        "--address-share",
        "100",
        "--max-price-per-image",
        "1.1",
    ];
    ["--key-file".to_owned(), key_file.to_string_lossy().into_owned()]
        .into_iter()
        .chain(flags.map(str::to_owned))
        .collect()
}

/// Where `spa.test.mjs` finds the app: served in relay mode and in operator-key mode, and the
/// emulator behind them (the tests' fresh keys).
pub struct Urls<'a> {
    pub spa: &'a str,
    pub operator: &'a str,
    pub emulator: &'a str,
}

/// Runs `tests/e2e-spa/spa.test.mjs` in `browser` against `urls` (only the scenarios whose
/// names match `only`, if given), its TAP report as `target/e2e-<report>.tap`, with `env`
/// added to its environment; returns what passed and what was skipped.
pub fn run(
    b: &Browsers,
    browser: Browser,
    urls: &Urls,
    report: &str,
    only: Option<&str>,
    env: &[(&str, &Path)],
) -> Result<crate::supported::Tally, String> {
    let root = root();
    let report = root.join("target").join(format!("e2e-{report}.tap"));
    let mut node = Command::new("node");
    node.current_dir(root.join("tests").join("e2e-spa"))
        .args(["--test", "--test-reporter", "spec", "--test-reporter-destination", "stdout"])
        .args(["--test-reporter", "tap", "--test-reporter-destination"])
        .arg(&report);
    if let Some(pattern) = only {
        node.arg(format!("--test-name-pattern={pattern}"));
    }
    node.arg("spa.test.mjs")
        .env("CLIPCLOUD_E2E_BROWSER", browser.id())
        .env("CLIPCLOUD_SPA_URL", urls.spa)
        .env("CLIPCLOUD_EMULATOR_URL", urls.emulator)
        .env("CLIPCLOUD_OPERATOR_URL", urls.operator)
        .env("CLIPCLOUD_ARTIFACTS", root.join("tests").join("artifacts"));
    for (name, value) in env {
        node.env(name, value);
    }
    crate::run(b.node_env(&mut node))?;
    let report =
        std::fs::read_to_string(&report).map_err(|e| format!("cannot read {}: {e}", report.display()))?;
    crate::supported::tap(&report, None)
}
