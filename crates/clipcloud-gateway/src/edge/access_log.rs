//! The access log and the request metrics: one `access` event per request (in the
//! request's span, which carries its id: [`crate::telemetry`]) and its count by route and
//! status ([`crate::metrics`]). The log names the call, never the query (where keys,
//! passphrases and tokens may travel) nor any header but the visitor's identity, which the
//! handlers put beside the answer.

use crate::metrics::Metrics;
use crate::pipeline::Admitted;
use crate::telemetry::ACCESS;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the access log may say about a request: set by the handlers, read by the log.
#[derive(Clone, Debug, Default)]
pub struct LogNote {
    pub route: &'static str,
    pub visitor: Option<String>,
}

/// The path as logged: at most 100 characters of it, never the query.
fn shown_path(path: &str) -> String {
    path.chars().take(100).collect()
}

/// What a request asked for, as the metrics name it: a handful of names, never the path.
fn route_of(path: &str) -> &'static str {
    match path {
        "/healthz" => "healthz",
        "/readyz" => "readyz",
        "/gateway/info" => "info",
        "/gateway/usage" => "usage",
        path if path == clipcloud::openapi::PATH => "openapi",
        path if path == "/api" || path.starts_with("/api/") => "api",
        path if path.starts_with("/images/") => "images",
        _ => "static",
    }
}

pub async fn layer(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = route_of(request.uri().path());
    // What only the log needs is read only when it is written.
    let logged = tracing::enabled!(target: ACCESS, tracing::Level::INFO).then(|| {
        let method: String = request.method().as_str().chars().take(16).collect();
        let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
        (method, shown_path(request.uri().path()), peer)
    });
    let response = next.run(request).await;
    let note = response.extensions().get::<LogNote>();
    let call = note.map(|note| note.route).filter(|route| !route.is_empty());
    let status = response.status().as_u16();
    metrics.request(call.unwrap_or(route), status);
    if call == Some("create") {
        match response.extensions().get::<Admitted>() {
            Some(Admitted(true)) => metrics.create_admitted(),
            _ => metrics.create_refused(status),
        }
    }
    if let Some((method, path, peer)) = logged {
        tracing::info!(
            target: ACCESS,
            peer,
            method,
            path,
            call,
            visitor = note.and_then(|note| note.visitor.as_deref()),
            status,
            ms = started.elapsed().as_millis() as u64,
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_bounded() {
        assert_eq!(shown_path(&"a".repeat(500)).len(), 100);
    }

    #[test]
    fn routes_are_a_few_names() {
        assert_eq!(route_of("/api/creation"), "api");
        assert_eq!(route_of("/apiary"), "static");
        assert_eq!(route_of("/images/ab.webp"), "images");
        assert_eq!(route_of("/gateway/info"), "info");
        assert_eq!(route_of("/assets/app-1234.wasm"), "static");
    }
}
