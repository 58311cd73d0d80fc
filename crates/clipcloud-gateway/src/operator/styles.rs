//! `GET /api/styles` in operator-key mode: every page view preloads it, and it goes
//! upstream with the operator's key, so the service's answer is kept for a minute
//! ([`TTL`]) and shared by every visitor; with `--allow-style`, it lists only the styles
//! allowed. One fetch at a time: callers that come meanwhile wait for it.

use crate::refusal::Refusal;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::Value;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// How long the styles answer is kept.
pub const TTL: Duration = Duration::from_secs(60);
/// The most a kept answer may weigh (the forward layer bounds answers already).
const MOST: usize = 256 * 1024;

pub struct StylesCache {
    kept: Mutex<Option<Kept>>,
    /// `--allow-style`; empty: any.
    allowed: Vec<String>,
}

struct Kept {
    at: Instant,
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Kept {
    fn response(&self) -> Response {
        let mut response = Response::new(Body::from(self.body.clone()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers.clone();
        response
    }
}

impl StylesCache {
    pub fn new(allowed: Vec<String>) -> Self {
        Self { kept: Mutex::new(None), allowed }
    }

    /// The styles answer: the one kept if it is fresh, else `fetch`'s (kept when it is a
    /// success; a failure is passed on and asked again next time).
    pub async fn answer<F>(&self, fetch: F) -> Result<Response, Refusal>
    where
        F: Future<Output = Result<Response, Refusal>>,
    {
        let mut kept = self.kept.lock().await;
        if let Some(fresh) = kept.as_ref().filter(|k| k.at.elapsed() < TTL) {
            return Ok(fresh.response());
        }
        let response = fetch.await?;
        if !response.status().is_success() {
            return Ok(response);
        }
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, MOST).await.map_err(|_| {
            Refusal::new(StatusCode::BAD_GATEWAY, "the ClipCloud service's styles answer broke off")
        })?;
        let body = only_allowed(&body, &self.allowed).map_or(body, Bytes::from);
        let fresh = Kept { at: Instant::now(), status: parts.status, headers: parts.headers, body };
        Ok(kept.insert(fresh).response())
    }
}

/// A styles answer (`{"styles": [...]}` or a bare list, of names or objects with a
/// `name`) with only the `allowed` styles; `None` when there is nothing to take out or it
/// is not such an answer.
fn only_allowed(body: &[u8], allowed: &[String]) -> Option<Vec<u8>> {
    if allowed.is_empty() {
        return None;
    }
    let mut answer: Value = serde_json::from_slice(body).ok()?;
    let styles = match &mut answer {
        Value::Array(styles) => styles,
        Value::Object(fields) => fields.get_mut("styles")?.as_array_mut()?,
        _ => return None,
    };
    styles.retain(|style| {
        let name = style.as_str().or_else(|| style.get("name").and_then(Value::as_str));
        name.is_some_and(|name| allowed.iter().any(|a| a == name))
    });
    serde_json::to_vec(&answer).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_allowed_styles_are_listed() {
        let allowed = ["standard".to_owned(), "graffiti".to_owned()];
        let answer = br#"{"success":true,"styles":[{"name":"standard"},{"name":"HD-HQ"},"graffiti","x"]}"#;
        let shown: Value = serde_json::from_slice(&only_allowed(answer, &allowed).unwrap()).unwrap();
        assert_eq!(shown, serde_json::json!({"success": true, "styles": [{"name": "standard"}, "graffiti"]}));
        let bare = br#"["HD-HQ", {"name": "graffiti"}]"#;
        assert_eq!(only_allowed(bare, &allowed).as_deref(), Some(br#"[{"name":"graffiti"}]"#.as_slice()));
        assert_eq!(only_allowed(answer, &[]), None, "no list: as it came");
        assert_eq!(only_allowed(b"not json", &allowed), None);
    }
}
