//! A virtual X display of the run's own, for WebKitGTK: its MiniBrowser has no headless
//! mode. Xvfb picks a free display number itself (`-displayfd`), so runs side by side never
//! share one; the display stops when dropped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Xvfb {
    child: Child,
    /// The `DISPLAY` value, e.g. `:3`.
    pub display: String,
}

impl Xvfb {
    /// Starts Xvfb and returns once it accepts clients (it reports its number only then).
    pub fn start() -> Result<Self, String> {
        let mut child = Command::new("Xvfb")
            // The number goes to stdout; no TCP port, only the local socket.
            .args(["-displayfd", "1", "-nolisten", "tcp", "-screen", "0", "1920x1200x24"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start Xvfb (cargo xtask setup installs it): {e}"))?;
        let mut line = String::new();
        let read = child.stdout.take().map(|out| BufReader::new(out).read_line(&mut line));
        let number = line.trim();
        if !matches!(read, Some(Ok(_))) || number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("Xvfb did not report its display (printed {line:?})"));
        }
        Ok(Self { display: format!(":{number}"), child })
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
