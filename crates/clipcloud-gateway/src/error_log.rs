//! Error lines on stderr, one JSON object each like the access log's, for trouble no answer
//! shows (storage that cannot be read, a held check's poller that cannot save). Callers pass
//! storage errors, which name no key, token or password.

/// `{"level":"error","component":…,"event":…,"detail":…}` on stderr.
pub fn write(component: &str, event: &str, detail: &str) {
    eprintln!(
        "{}",
        serde_json::json!({ "level": "error", "component": component, "event": event, "detail": detail })
    );
}
