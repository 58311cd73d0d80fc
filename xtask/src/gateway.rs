//! Builds the gateway and runs it in front of an emulator: what serves the app, for the
//! end-to-end tests and `cargo xtask serve`.

use crate::emulator::{spawn, Running};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const READY_PREFIX: &str = "clipcloud-gateway listening on ";

/// Builds the gateway binary and returns its path.
pub fn build() -> Result<PathBuf, String> {
    crate::build_binary("clipcloud-gateway")
}

/// Operator-key mode with the emulator's demo key, as `cargo xtask serve` runs it: the
/// page needs no key, the demo key's whole balance (100) for one visitor (and its address),
/// the ledger in memory (no file left behind). The key goes to `target/<name>-operator-key.txt`.
pub fn demo_operator_flags(name: &str) -> Result<Vec<String>, String> {
    let key_file = crate::root().join("target").join(format!("{name}-operator-key.txt"));
    std::fs::write(&key_file, format!("{}\n", crate::DEMO_KEY))
        .map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
    let key_file = key_file.to_string_lossy().into_owned();
    let flags = [
        "--ledger",
        ":memory:",
        "--visitor-daily-spend",
        "100",
        "--daily-cap",
        "100",
        "--address-share",
        "100",
    ];
    Ok(["--key-file".to_owned(), key_file].into_iter().chain(flags.map(str::to_owned)).collect())
}

/// The gateway on `listen` (`127.0.0.1:0`: a free port) in front of `upstream`, serving
/// `dist`, with the extra flags (none: relay mode). Its access log goes to `stderr`.
/// Returns once it has printed its address.
pub fn start(
    binary: &Path,
    listen: &str,
    upstream: &str,
    dist: &Path,
    flags: &[&str],
    stderr: Stdio,
) -> Result<Running, String> {
    let mut command = Command::new(binary);
    command.args(["--listen", listen, "--upstream", upstream]).arg("--static-dir").arg(dist).args(flags);
    // Only what is given here: no setting from the caller's environment.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("CLIPCLOUD_GATEWAY_") {
            command.env_remove(name);
        }
    }
    spawn(command, "the gateway", READY_PREFIX, stderr)
}
