//! How a measuring process hands its figures to `cargo xtask bench`: one `BENCH {json}` line
//! per figure on its stdout, among its ordinary output.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Echoes the command's output and returns its `BENCH {json}` lines.
pub fn run(command: &mut Command) -> Result<Vec<Value>, String> {
    let mut child =
        command.stdout(Stdio::piped()).spawn().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut found = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        if let Some(at) = line.find("BENCH {") {
            let value: Value = serde_json::from_str(line[at + 6..].trim())
                .map_err(|e| format!("a BENCH line is not JSON ({e}): {line}"))?;
            found.push(value);
        } else {
            println!("{line}");
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("{command:?} failed ({status})"));
    }
    Ok(found)
}
