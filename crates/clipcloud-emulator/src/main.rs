//! `clipcloud-emulator`: the local ClipCloud API on the command line. See `--help`.

#![forbid(unsafe_code)]

use clipcloud_emulator::{parse_args, serve_with_shutdown, Config, DEMO_KEY};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = match parse_args(std::env::args_os().skip(1)) {
        Ok(config) => config,
        // `--help`, `--version` or a bad flag, printed by clap (exit status 0 or 2).
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("clipcloud-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind((config.host.as_str(), config.port)).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("clipcloud-emulator: cannot listen on {}:{}: {e}", config.host, config.port);
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("clipcloud-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Write errors (stdout closed by a reader that took only the first line) are ignored.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "clipcloud-emulator listening on http://{addr}");
    let _ = writeln!(out, "demo key: {DEMO_KEY}");
    for (key, balance) in balances(&config) {
        let _ = writeln!(out, "key {key}: balance {balance}");
    }
    let _ = out.flush();
    drop(out);

    match serve_with_shutdown(listener, config, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("clipcloud-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The keys as the server holds them: first-seen order, the last balance given.
fn balances(config: &Config) -> Vec<(&str, clipcloud_emulator::Money)> {
    let mut out: Vec<(&str, clipcloud_emulator::Money)> = Vec::new();
    for (key, balance) in &config.keys {
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = *balance,
            None => out.push((key, *balance)),
        }
    }
    out
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    eprintln!("clipcloud-emulator: shutting down");
}
