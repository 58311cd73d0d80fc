//! A local ClipCloud API: the forms `docs/api.md` decides, served over real HTTP, for
//! tests, demos and benchmarks. It serializes the core crate's `clipcloud::model::wire`
//! types, so client and emulator cannot drift apart.
//!
//! Run it in-process with [`Emulator::start`] (background thread, own runtime) or
//! [`serve`] (on your runtime), or as the `clipcloud-emulator` binary.
//!
//! Emulator-only extras: the query parameter `emulator_delay_ms=N` on a create sets its
//! generation time; `POST /emulator/keys` with `{"balance": 50}` hands out a fresh key.

#![forbid(unsafe_code)]

// Data: plain types and the state's parts; none imports a handler or `AppState`.
pub mod accounts;
pub mod clock;
pub mod config;
pub mod create;
pub mod creations;
pub mod error;
pub mod faults;
pub mod ids;
pub mod image_cache;
pub mod images;
pub mod ledger;
mod lock;
pub mod money;
pub mod origin;
pub mod pricing;
pub mod stats;
pub mod traffic;
// The parts together, and the HTTP side: middleware and handlers.
pub mod cors;
pub mod inject;
pub mod log;
pub mod routes;
pub mod state;

pub use clock::Clock;
pub use config::{parse_args, Config, DEMO_KEY};
pub use error::ApiError;
pub use faults::{Fault, FaultPlan};
pub use money::Money;
pub use state::AppState;

use axum::middleware::{from_fn, from_fn_with_state};
use axum::Router;
use std::future::Future;
use std::net::SocketAddr;
use tokio::sync::oneshot;

/// The whole service for this state, middleware included. Layers, outermost first:
/// request log → CORS → fault injection → endpoints, so injected faults carry CORS
/// headers and are logged like any answer.
pub fn router(state: AppState) -> Router {
    let injector = inject::Injector { faults: state.faults.clone(), ledger: state.ledger.clone() };
    let log = log::RequestLog {
        traffic: state.traffic.clone(),
        clock: state.clock.clone(),
        enabled: state.log_requests,
    };
    routes::api()
        .layer(from_fn_with_state(injector, inject::layer))
        .layer(from_fn(cors::layer))
        .layer(from_fn_with_state(log, log::layer))
        .with_state(state)
}

/// Serves on `listener` until the process ends. `config.host`/`config.port` are not used
/// (the listener is already bound).
pub async fn serve(listener: tokio::net::TcpListener, config: Config) -> std::io::Result<()> {
    serve_with_shutdown(listener, config, std::future::pending()).await
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve_with_shutdown<F>(
    listener: tokio::net::TcpListener,
    config: Config,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let state = AppState::new(&config);
    if let Ok(addr) = listener.local_addr() {
        state.origin.set_local_addr(addr);
    }
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

/// An emulator on a background thread with its own runtime; stops when dropped.
/// Convenient for blocking tests: `Emulator::start(Config { port: 0, ..Config::default() })`.
pub struct Emulator {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Emulator {
    /// Binds `config.host:config.port` (0 = ephemeral) now, so the address is known and
    /// accepting when this returns.
    pub fn start(config: Config) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind((config.host.as_str(), config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let (tx, rx) = oneshot::channel::<()>();
        std::thread::Builder::new().name(format!("clipcloud-emulator {addr}")).spawn(move || {
            runtime.block_on(async move {
                let served = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => {
                        serve_with_shutdown(listener, config, async {
                            // Either a send or the sender's drop ends the server.
                            let _ = rx.await;
                        })
                        .await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = served {
                    eprintln!("clipcloud-emulator on {addr} stopped: {e}");
                }
            });
        })?;
        Ok(Self { addr, shutdown: Some(tx) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the base URL for a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting; requests in flight finish on the background thread.
    pub fn stop(mut self) {
        self.signal_stop();
    }

    fn signal_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.signal_stop();
    }
}
