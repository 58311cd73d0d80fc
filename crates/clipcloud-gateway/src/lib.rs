//! `clipcloud-gateway`: the production server in front of the ClipCloud API.
//!
//! It serves the app from a `dist/` folder and relays the API's four calls and its images
//! to one upstream service, in one of two modes ([`config::Mode`]): **relay** (visitors
//! bring their own key) or **operator key** (the gateway adds its own key, behind origin
//! checks, visitor identity, rate limits, spend caps and a ledger). Deny by default: only
//! the routes [`clipcloud::Route`] names go upstream, every request is bounded in size and
//! time, and no secret appears in a response or a log line.
//!
//! The layers, outermost first: the HTTP [`edge`]; the [`pipeline`] of a call's phases
//! (admit → key → forward → settle) with one policy per mode; the [`operator`]'s identity,
//! limits and accounts; the [`forward`] layer to the service; the [`store`]. See
//! docs/gateway.md, "Layout".

#![forbid(unsafe_code)]

pub mod clock;
pub mod config;
pub mod edge;
pub mod error_log;
pub mod forward;
pub mod forwarded;
pub mod operator;
pub mod pipeline;
pub mod refusal;
pub mod secret;
pub mod store;

pub use config::{Config, Mode, USAGE};
pub use edge::state::Gateway;

use edge::server;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// Opens the gateway's state for `config` and serves on `listener` until `shutdown`.
pub async fn run<F>(listener: TcpListener, config: Config, shutdown: F) -> Result<(), String>
where
    F: Future<Output = ()> + Send + 'static,
{
    let gateway = Arc::new(Gateway::open(config).await?);
    let app = server::router(gateway.clone());
    server::serve(listener, app, &gateway.config, shutdown).await.map_err(|e| e.to_string())
}

/// A gateway on a background thread with its own runtime, for tests and tools; stops when
/// dropped (requests in flight finish).
pub struct Running {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Binds `config.listen` now, so the address is known and accepting on return.
    pub fn start(config: Config) -> Result<Self, String> {
        let listener = std::net::TcpListener::bind(&config.listen)
            .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
        listener.set_nonblocking(true).map_err(|e| e.to_string())?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (tx, rx) = oneshot::channel::<()>();
        let (opened_tx, opened_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let thread = std::thread::Builder::new()
            .name(format!("clipcloud-gateway {addr}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(e) => return drop(opened_tx.send(Err(e.to_string()))),
                    };
                    let gateway = match Gateway::open(config).await {
                        Ok(gateway) => Arc::new(gateway),
                        Err(e) => return drop(opened_tx.send(Err(e))),
                    };
                    let _ = opened_tx.send(Ok(()));
                    let stop = async {
                        let _ = rx.await;
                    };
                    let app = server::router(gateway.clone());
                    if let Err(e) = server::serve(listener, app, &gateway.config, stop).await {
                        eprintln!("clipcloud-gateway on {addr} stopped: {e}");
                    }
                });
            })
            .map_err(|e| e.to_string())?;
        opened_rx.recv().map_err(|_| "the gateway thread ended early".to_owned())??;
        Ok(Self { addr, shutdown: Some(tx), thread: Some(thread) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting and waits until the requests in flight have finished.
    pub fn stop(mut self) {
        self.signal_stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn signal_stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.signal_stop();
    }
}
