//! The HTTP side: the routes, the layers every answer passes through, and a connection loop
//! with bounds axum's own `serve` does not set — headers within `--header-timeout` (which
//! also closes idle keep-alive connections), caps on open connections in all and per
//! address ([`connections`]), answers that must be read ([`write_deadline`]), a cap on a
//! head's size with hyper's own refusals given the gateway's headers ([`parse_refusals`]) —
//! and a graceful shutdown that lets requests in flight finish.
//!
//! [`connections`]: crate::edge::connections
//! [`write_deadline`]: crate::edge::write_deadline
//! [`parse_refusals`]: crate::edge::parse_refusals

use crate::config::{Access, Config};
use crate::edge::connections::Connections;
use crate::edge::headers::{PageCsp, SecurityHeaders};
use crate::edge::parse_refusals::{OwnAnswers, Waiting, MAX_HEAD, MAX_HEADERS};
use crate::edge::request_rate::{self, RequestRate};
use crate::edge::state::Gateway;
use crate::edge::statics::CONNECT_PRELOAD;
use crate::edge::write_deadline::WriteDeadline;
use crate::edge::{access_log, api, headers, images, info, readiness};
use crate::pipeline::operator_mode::OperatorMode;
use crate::refusal::Refusal;
use crate::request_id::{self, RequestIds};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{from_fn, from_fn_with_state, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::any::Any;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveHeadersLayer;
use tower_http::trace::TraceLayer;

/// The most hyper buffers for a connection: above [`MAX_HEAD`], so the head's own limit
/// is the one that applies, exactly.
const MAX_BUFFER: usize = 2 * MAX_HEAD;
/// How long a shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(30);

/// Every route, with the layers every answer passes through.
pub fn router(gateway: Arc<Gateway>) -> Router {
    with_layers(routes(gateway.clone()), &gateway)
}

fn routes(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/healthz", get(info::healthz))
        .route("/readyz", get(readiness::readyz))
        .route("/gateway/info", get(info::info))
        .route("/gateway/usage", get(info::usage))
        .route(clipcloud::openapi::PATH, get(info::openapi))
        .route("/api", any(api::handle))
        .route("/api/{*rest}", any(api::handle))
        .route("/images/{name}", any(images::relay))
        .fallback(fallback)
        .with_state(gateway)
}

/// The layers, outermost first: the request's id (a trusted proxy's, else made; echoed in
/// the answer) → credentials marked sensitive (never in Debug output) → the request's log
/// span → the access log and metrics → security headers → the id for refusals' bodies →
/// a panic answered with a 500 → the rate per address → the time limit → the handler. So refusals, time-outs and
/// panics carry the headers, the id, a log line and a count too.
fn with_layers(routes: Router, gateway: &Gateway) -> Router {
    let timeout = gateway.config.limits.request_timeout;
    let page_csp = gateway.site.as_ref().and_then(|site| site.page_csp()).map(str::to_owned);
    let security = Arc::new(SecurityHeaders::new(page_csp, gateway.config.https));
    let trusted = gateway.config.trusted_proxies.clone();
    let id_header = HeaderName::from_static(request_id::HEADER);
    let sensitive = [header::AUTHORIZATION, header::PROXY_AUTHORIZATION, header::COOKIE, header::SET_COOKIE];
    let request_rate = Arc::new(RequestRate::new(
        gateway.config.limits.request_rate_per_address,
        gateway.config.prefixes,
        trusted.clone(),
    ));
    let span = TraceLayer::new_for_http()
        .make_span_with(request_span)
        .on_request(())
        .on_response(())
        .on_body_chunk(())
        .on_eos(())
        .on_failure(());
    routes
        .layer(from_fn(move |request: Request, next: Next| time_limit(timeout, request, next)))
        .layer(from_fn_with_state(request_rate, request_rate::layer))
        .layer(CatchPanicLayer::custom(panic_answer))
        .layer(from_fn(id_for_refusals))
        .layer(from_fn_with_state(security, headers::layer))
        .layer(from_fn_with_state(gateway.metrics.clone(), access_log::layer))
        .layer(span)
        .layer(SetSensitiveHeadersLayer::new(sensitive))
        .layer(PropagateRequestIdLayer::new(id_header.clone()))
        .layer(SetRequestIdLayer::new(id_header, RequestIds::new()))
        .layer(from_fn(move |mut request: Request, next: Next| {
            let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
            request_id::keep_only_trusted(request.headers_mut(), peer, &trusted);
            next.run(request)
        }))
}

/// The request's id, as the layers before made or kept it.
fn id_of<B>(request: &axum::http::Request<B>) -> Option<&str> {
    request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok())
}

/// The span every log line about a request is in: its id.
fn request_span(request: &Request) -> tracing::Span {
    tracing::info_span!("request", request_id = id_of(request).unwrap_or_default())
}

/// The request's id as [`Refusal`]'s body names it, while the request is handled.
async fn id_for_refusals(request: Request, next: Next) -> Response {
    let id = id_of(&request).map(str::to_owned);
    request_id::scope(id, next.run(request)).await
}

/// A handler that panicked: a 500 in the API's shape (the panic itself is logged by the
/// hook `crate::telemetry` sets); the other requests go on.
fn panic_answer(_: Box<dyn Any + Send + 'static>) -> Response {
    Refusal::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the gateway failed on this request (its log has the details); try again",
    )
    .into_response()
}

/// The app's files, when there are any; in operator-key mode its pages with the visitor's
/// cookie (when the request brought none) and, when the app's first calls need no key
/// (open access), [`CONNECT_PRELOAD`].
async fn fallback(State(gateway): State<Arc<Gateway>>, request: Request) -> Response {
    match &gateway.site {
        Some(site) => {
            let mut response = site.serve(request.method(), request.uri(), request.headers()).await;
            // Only pages carry a policy of their own.
            let page = response.extensions().get::<PageCsp>().is_some();
            let Some(operator) = gateway.operator.as_ref().filter(|_| page) else { return response };
            if matches!(operator.settings.access, Access::Open) {
                // After the page's own preloads: the wasm is what the app waits for first.
                response.headers_mut().append(header::LINK, HeaderValue::from_static(CONNECT_PRELOAD));
            }
            // The cookie comes with the page, before the app's first create: what it creates
            // is its own from the start.
            if let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>() {
                let mode = OperatorMode::new(operator, &gateway.config);
                if let Some(cookie) = mode.page_cookie(*peer, request.headers()).await {
                    response.headers_mut().append(header::SET_COOKIE, cookie);
                }
            }
            response
        }
        None => {
            let shown: String = request.uri().path().chars().take(80).collect();
            Refusal::not_found(format!("no such endpoint: {shown}")).into_response()
        }
    }
}

async fn time_limit(limit: Duration, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            Refusal::new(StatusCode::GATEWAY_TIMEOUT, "the request took longer than this gateway allows")
                .into_response()
        }
    }
}

/// Serves `app` on `listener` with `config`'s bounds until `shutdown` completes, then stops
/// accepting and gives requests in flight up to 30 s to finish.
pub async fn serve<F>(listener: TcpListener, app: Router, config: &Config, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let limits = &config.limits;
    // The answers no route makes (refusals at accept, hyper's own) are not pages.
    let security = Arc::new(SecurityHeaders::new(None, config.https));
    let connections = Arc::new(Connections::new(
        limits.max_connections,
        limits.max_connections_per_address,
        config.prefixes,
        config.trusted_proxies.clone(),
        &security,
    ));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(MAX_HEAD)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_BUFFER)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        // Always accepting: a connection beyond the caps is refused at once, not queued.
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: breathe, then go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admitted = match connections.admit(peer.ip()) {
            Ok(admitted) => admitted,
            Err(refused) => {
                connections.refuse(stream, refused);
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let waiting = Waiting::default();
        let asked = waiting.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            asked.asked(request.method());
            request.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(request.map(Body::new))
        });
        let socket = WriteDeadline::new(stream, limits.write_timeout, limits.min_write_rate);
        let socket = OwnAnswers::new(socket, security.clone(), waiting);
        let connection = graceful.watch(http.serve_connection(TokioIo::new(socket), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(admitted);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
    Ok(())
}

/// The first line a started gateway prints (tests and scripts read the address from it).
pub fn ready_line(addr: SocketAddr) -> String {
    format!("clipcloud-gateway listening on http://{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::forward::upstream::Origin;
    use tokio::sync::oneshot;

    /// The gateway's own routes, layers and all, plus two of the test's: one that panics,
    /// one that answers when told.
    async fn with_test_routes(release: oneshot::Receiver<()>) -> Router {
        let config = Config::relay(Origin::parse("http://127.0.0.1:9").unwrap());
        let gateway = Arc::new(Gateway::open(config).await.unwrap());
        let release = Arc::new(std::sync::Mutex::new(Some(release)));
        let routes = routes(gateway.clone()).route("/test/panic", get(panics)).route(
            "/test/slow",
            get(move || {
                let release = release.lock().unwrap().take();
                async move {
                    if let Some(release) = release {
                        let _ = release.await;
                    }
                    "done"
                }
            }),
        );
        with_layers(routes, &gateway)
    }

    async fn panics() -> &'static str {
        panic!("a handler's bug")
    }

    fn get_request(path: &str) -> Request {
        let mut request = Request::new(Body::empty());
        *request.uri_mut() = path.parse().unwrap();
        request
    }

    #[tokio::test]
    async fn a_panic_is_a_500_in_the_apis_shape_and_the_others_go_on() {
        let (release, released) = oneshot::channel();
        let app = with_test_routes(released).await;
        // A request in flight when another one's handler panics.
        let slow = tokio::spawn(app.clone().oneshot(get_request("/test/slow")));
        let panicked = app.clone().oneshot(get_request("/test/panic")).await.unwrap();
        assert_eq!(panicked.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = panicked.headers()[request_id::HEADER].to_str().unwrap().to_owned();
        let body = http_body_util::BodyExt::collect(panicked.into_body()).await.unwrap().to_bytes();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["success"], false);
        assert!(body["message"].as_str().unwrap().contains("failed on this request"), "{body}");
        assert_eq!(body["request_id"], id.as_str(), "the answer names the request");
        release.send(()).unwrap();
        let slow = slow.await.unwrap().unwrap();
        assert_eq!(slow.status(), StatusCode::OK);
        let after = app.oneshot(get_request("/healthz")).await.unwrap();
        assert_eq!(after.status(), StatusCode::OK, "and later ones are served");
    }
}
