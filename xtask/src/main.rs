//! Project commands, so a fresh machine needs nothing but cargo:
//!
//!   cargo xtask serve   install what is missing, build the SPA, run the emulator serving it, print the URL
//!   cargo xtask test    install what is missing, run every test (native + browsers)
//!   cargo xtask setup   only install what is missing
//!   cargo xtask fuzz    fuzz the core's decoder and validation for a bounded time
//!   cargo xtask package build the npm package (target/npm/) and print its sizes
//!   cargo xtask spa-size build the SPA (release) and print what a first visit downloads
//!   cargo xtask bench   build release artifacts, measure sizes, time-to-result, concurrency, overhead

mod bench;
mod code_size;
mod compress;
mod csp;
mod emulator;
mod fuzz;
mod glue;
mod lint;
mod package;
mod setup;
mod spa;
mod test;

use std::process::{Command, ExitCode};

const USAGE: &str = "usage: cargo xtask <setup | serve [--port N] | test | package | spa-size | bench [--quick] | fuzz [SECONDS]>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("setup") => setup::all(),
        Some("serve") => serve(&args[1..]),
        Some("test") => test::all(),
        Some("fuzz") => fuzz::all(&args[1..]),
        Some("package") => package::command(),
        Some("spa-size") => spa::size_command(),
        Some("bench") => bench::command(&args[1..]),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Builds the SPA (release) and runs the emulator serving it and the API in the
/// foreground on a fixed port (default 8787).
fn serve(args: &[String]) -> Result<(), String> {
    let port = match args {
        [] => "8787".to_owned(),
        [flag, port] if flag == "--port" => port.clone(),
        _ => return Err(USAGE.to_owned()),
    };
    let dist = spa::build()?;
    let binary = emulator::build()?;
    println!(
        "\nOpen http://127.0.0.1:{port}/ (the app; the demo key demo-key is pre-filled). Ctrl-C stops.\n"
    );
    run(Command::new(binary).args(["--port", &port]).arg("--static-dir").arg(dist))
}

/// Runs a command with inherited output; fails with the command line if it fails.
pub fn run(command: &mut Command) -> Result<(), String> {
    let status = command.status().map_err(|e| format!("cannot start {command:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// The size of a file as a server sends it compressed: `gzip -9`, without the file's name
/// and time in the header (`-n`).
pub fn gzip9_len(path: &std::path::Path) -> Result<usize, String> {
    let out = Command::new("gzip")
        .args(["-9", "-n", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip failed on {}", path.display()));
    }
    Ok(out.stdout.len())
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
