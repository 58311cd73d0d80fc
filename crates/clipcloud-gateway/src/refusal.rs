//! Answers the gateway gives itself, in the API's own error shape
//! (`{"success":false,"message":...}`, with the request's id as `request_id`:
//! [`crate::request_id`]) and with the status the core already maps to a typed error:
//! 400/413/415 invalid input, 401/403 unauthorized, 402 budget, 404 not found, 429 (with
//! `Retry-After`) rate limited, 502/503/504 the service's trouble.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::model::wire::ErrorBody;
use serde::Serialize;

#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    pub message: String,
    pub retry_after_secs: Option<u64>,
}

impl Refusal {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into(), retry_after_secs: None }
    }

    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }
}

/// The API's error shape, and the id of the request it answers.
#[derive(Serialize)]
struct Body {
    #[serde(flatten)]
    error: ErrorBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
}

/// A JSON body in the API's error shape, naming the request being handled, if any.
pub fn error_body(message: &str) -> Vec<u8> {
    let error = ErrorBody { success: false, message: Some(message.to_owned()) };
    let body = Body { error, request_id: crate::request_id::current() };
    serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"success":false}"#.to_vec())
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut response = (self.status, error_body(&self.message)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_body_names_the_request() {
        let body: serde_json::Value = serde_json::from_slice(&error_body("no")).unwrap();
        assert_eq!(body, serde_json::json!({ "success": false, "message": "no" }));
        let body = crate::request_id::scope(Some("r-7".into()), async { error_body("no") }).await;
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, serde_json::json!({ "success": false, "message": "no", "request_id": "r-7" }));
    }
}
