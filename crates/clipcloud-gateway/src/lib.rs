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
pub mod flags;
pub mod forward;
pub mod forwarded;
pub mod metrics;
pub mod operator;
pub mod pipeline;
pub mod refusal;
pub mod request_id;
pub mod secret;
pub mod store;
pub mod telemetry;

pub use config::{Config, Mode};
pub use edge::state::Gateway;

use edge::{admin, server};

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};

/// Serves `gateway` to visitors on `listener`, and its metrics and readiness on `admin`
/// (`--admin-listen`) if given, until `shutdown`; then both stop accepting and finish what
/// is in flight.
pub async fn serve<F>(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    admin: Option<TcpListener>,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let (stop, stopped) = watch::channel(false);
    let visitors = server::router(gateway.clone());
    let main = server::serve(listener, visitors, &gateway.config, async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let admin = async {
        let Some(admin) = admin else { return Ok(()) };
        let mut stopped = stopped;
        let stop = async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        server::serve(admin, admin::router(gateway.clone()), &gateway.config, stop).await
    };
    tokio::try_join!(main, admin).map(drop)
}

/// A gateway on a background thread with its own runtime, for tests and tools; stops when
/// dropped (requests in flight finish).
pub struct Running {
    addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Binds `config.listen` (and `config.admin_listen`) now, so the addresses are known
    /// and accepting on return.
    pub fn start(config: Config) -> Result<Self, String> {
        let bind = |address: &str| -> Result<std::net::TcpListener, String> {
            let listener = std::net::TcpListener::bind(address)
                .map_err(|e| format!("cannot listen on {address}: {e}"))?;
            listener.set_nonblocking(true).map_err(|e| e.to_string())?;
            Ok(listener)
        };
        let listener = bind(&config.listen)?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let admin = config.admin_listen.as_deref().map(bind).transpose()?;
        let admin_addr =
            admin.as_ref().map(|admin| admin.local_addr()).transpose().map_err(|e| e.to_string())?;
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
                    let listeners = TcpListener::from_std(listener)
                        .and_then(|listener| Ok((listener, admin.map(TcpListener::from_std).transpose()?)));
                    let (listener, admin) = match listeners {
                        Ok(listeners) => listeners,
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
                    if let Err(e) = serve(gateway, listener, admin, stop).await {
                        tracing::error!(component = "server", detail = %e, "the gateway on {addr} stopped");
                    }
                });
            })
            .map_err(|e| e.to_string())?;
        opened_rx.recv().map_err(|_| "the gateway thread ended early".to_owned())??;
        Ok(Self { addr, admin_addr, shutdown: Some(tx), thread: Some(thread) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin listener's address (`config.admin_listen`), if there is one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
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
