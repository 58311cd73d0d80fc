//! Errors no answer shows (storage that cannot be read, a held check's poller that cannot
//! save), as error events of the log ([`crate::telemetry`]): `component`, `event` and
//! `detail` fields. Callers pass storage errors, which name no key, token or password.

pub fn write(component: &str, event: &str, detail: &str) {
    tracing::error!(component, event, detail);
}
