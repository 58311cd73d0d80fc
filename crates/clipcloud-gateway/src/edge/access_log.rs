//! The access log: one JSON line per request on stderr. It names the call, never the
//! query (where keys, passphrases and tokens travel) nor any header but the visitor's
//! identity, which the handlers put beside the answer.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// What the access log may say about a request: set by the handlers, read by the log.
#[derive(Clone, Debug, Default)]
pub struct LogNote {
    pub route: &'static str,
    pub visitor: Option<String>,
}

/// Whether to write the log (`--log-format`).
#[derive(Clone, Copy)]
pub struct AccessLog(pub bool);

/// The path as logged: at most 100 characters of it, never the query.
fn shown_path(path: &str) -> String {
    path.chars().take(100).collect()
}

pub async fn layer(State(log): State<Arc<AccessLog>>, request: Request, next: Next) -> Response {
    if !log.0 {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().as_str().chars().take(16).collect::<String>();
    let path = shown_path(request.uri().path());
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    let response = next.run(request).await;
    let note = response.extensions().get::<LogNote>().cloned().unwrap_or_default();
    let line = json!({
        "time_ms": crate::clock::unix_millis() as u64,
        "peer": peer,
        "method": method,
        "path": path,
        "call": (!note.route.is_empty()).then_some(note.route),
        "visitor": note.visitor,
        "status": response.status().as_u16(),
        "ms": started.elapsed().as_millis() as u64,
    });
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_are_bounded() {
        assert_eq!(super::shown_path(&"a".repeat(500)).len(), 100);
    }
}
