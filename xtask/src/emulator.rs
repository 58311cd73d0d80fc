//! Builds the emulator and runs it for tests on an ephemeral port.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

const READY_PREFIX: &str = "clipcloud-emulator listening on ";

/// Builds the emulator binary and returns its path.
pub fn build() -> Result<PathBuf, String> {
    crate::build_binary("clipcloud-emulator")
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
    let mut command = Command::new(binary);
    command.args(["--port", "0"]).args(flags);
    spawn(command, "the emulator", READY_PREFIX, Stdio::from(log_file))
}

/// Starts a server (`name` for errors) whose first stdout line is `{ready_prefix}URL`;
/// returns once that line is read. Its stderr goes to `stderr`.
pub fn spawn(mut command: Command, name: &str, ready_prefix: &str, stderr: Stdio) -> Result<Running, String> {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let stdout = child.stdout.take().ok_or_else(|| format!("{name} has no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().and_then(Result::ok).unwrap_or_default();
    // From here on, an early return stops the child.
    let mut running = Running { child, url: String::new() };
    running.url = first
        .strip_prefix(ready_prefix)
        .ok_or_else(|| format!("{name} did not report its address (printed {first:?})"))?
        .trim()
        .to_owned();
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok(running)
}

impl Running {
    /// Waits until the server ends by itself (or Ctrl-C ends it).
    pub fn wait(mut self) -> Result<(), String> {
        let status = self.child.wait().map_err(|e| e.to_string())?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("the server stopped ({status})"))
        }
    }
}
