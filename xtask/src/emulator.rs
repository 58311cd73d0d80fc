//! Builds the emulator and runs it for tests on an ephemeral port.

use crate::run;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const READY_PREFIX: &str = "clipcloud-emulator listening on ";

/// Builds the emulator binary (dev profile: quick to build) and returns its path.
pub fn build() -> Result<PathBuf, String> {
    run(Command::new("cargo").args(["build", "--quiet", "-p", "clipcloud-emulator"]))?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"));
    Ok(target.join("debug").join("clipcloud-emulator"))
}

/// A running emulator; stopped when dropped.
pub struct Running {
    child: Child,
    pub url: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the emulator on a free port with the given extra flags; its request log
/// goes to `log`. Returns once it has printed its address.
pub fn start(binary: &PathBuf, flags: &[&str], log: &PathBuf) -> Result<Running, String> {
    let log_file = std::fs::File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let mut child = Command::new(binary)
        .args(["--port", "0"])
        .args(flags)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| format!("cannot start the emulator: {e}"))?;
    let stdout = child.stdout.take().ok_or("the emulator has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    // From here on, an early return stops the child.
    let mut running = Running { child, url: String::new() };
    running.url = first
        .strip_prefix(READY_PREFIX)
        .ok_or_else(|| format!("the emulator did not report its address (printed {first:?})"))?
        .trim()
        .to_owned();
    // Keep draining stdout so the emulator never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(running)
}
