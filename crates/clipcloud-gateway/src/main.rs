//! `clipcloud-gateway`: see `--help` and docs/gateway.md.

#![forbid(unsafe_code)]

use clipcloud_gateway::config;
use clipcloud_gateway::edge::{admin, server};
use clipcloud_gateway::telemetry;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let config = match config::from_process() {
        Ok(config) => config,
        // `--help`, `--version`, or settings that do not work, printed by clap (exit status 0
        // or 2) before there is a log: plain words for the person who typed them.
        Err(e) => e.exit(),
    };
    // Kept to the end: dropping it writes out the log's last lines.
    let _log = telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(component = "startup", detail = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: clipcloud_gateway::Config) -> ExitCode {
    let bind = |address: String| async move {
        tokio::net::TcpListener::bind(&address).await.map_err(|e| {
            tracing::error!(component = "startup", address, detail = %e, "cannot listen");
        })
    };
    let Ok(listener) = bind(config.listen.clone()).await else { return ExitCode::FAILURE };
    let admin = match config.admin_listen.clone() {
        Some(address) => match bind(address).await {
            Ok(admin) => Some(admin),
            Err(()) => return ExitCode::FAILURE,
        },
        None => None,
    };
    let Ok(addr) = listener.local_addr() else { return ExitCode::FAILURE };
    let mode = match config.operator() {
        None => "relay mode: visitors bring their own key".to_owned(),
        Some(operator) => format!("operator-key mode: visitors send {}", operator.access.key_need().as_str()),
    };
    let upstream = config.upstream.to_string();
    let gateway = match clipcloud_gateway::Gateway::open(config).await {
        Ok(gateway) => std::sync::Arc::new(gateway),
        Err(e) => {
            tracing::error!(component = "startup", detail = e, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", server::ready_line(addr));
        if let Some(admin_addr) = admin.as_ref().and_then(|admin| admin.local_addr().ok()) {
            let _ = writeln!(out, "{}", admin::ready_line(admin_addr));
        }
        let _ = writeln!(out, "{mode}; upstream {upstream}");
        let _ = out.flush();
    }
    match clipcloud_gateway::serve(gateway, listener, admin, shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(component = "server", detail = %e, "stopped");
            ExitCode::FAILURE
        }
    }
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
    tracing::info!(component = "shutdown", "shutting down, finishing requests in flight");
}
