//! How a client is set up: where to send, with which key, and its time limits.

use crate::error::{Error, Field};
use crate::model::DEFAULT_BASE_URL;
use crate::poll::PollSchedule;
use crate::retry::RetryPolicy;
use core::fmt;
use core::time::Duration;

/// The API key. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for building a request. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Default: the real service. Point it at the emulator or a proxy.
    pub base_url: String,
    pub api_key: ApiKey,
    /// Developer affiliate id, added to every create that sets none.
    pub soft_id: Option<u64>,
    /// Limit for one HTTP request (each retry gets its own).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub poll: PollSchedule,
}

impl Config {
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: ApiKey::new(api_key),
            soft_id: None,
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            poll: PollSchedule::default(),
        }
    }

    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    pub fn soft_id(mut self, soft_id: u64) -> Self {
        self.soft_id = Some(soft_id);
        self
    }

    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Checks the settings a client cannot work without, and normalises the base URL.
    pub(crate) fn validated(mut self) -> Result<Self, Error> {
        if self.api_key.expose().trim().is_empty() {
            return Err(Error::invalid(Field::ApiKey, "API key must not be empty"));
        }
        let trimmed = self.base_url.trim().trim_end_matches('/');
        let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
        if !rest.is_some_and(|host| !host.is_empty() && !host.contains(['?', '#'])) {
            return Err(Error::invalid(
                Field::BaseUrl,
                [
                    "base URL must start with http:// or https:// (got \"",
                    &crate::codec::excerpt(&self.base_url),
                    "\")",
                ]
                .concat(),
            ));
        }
        self.base_url = trimmed.to_owned();
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let text = format!("{:?}", Config::new("sk-very-secret"));
        assert!(!text.contains("sk-very-secret") && text.contains("[redacted]"), "{text}");
    }

    #[test]
    fn validation() {
        let ok = Config::new("k").base_url("http://127.0.0.1:8787/").validated().unwrap();
        assert_eq!(ok.base_url, "http://127.0.0.1:8787");
        assert_eq!(Config::new("k").validated().unwrap().base_url, DEFAULT_BASE_URL);
        for bad in ["", "ftp://x", "https://", "localhost:8787", "http://x?y"] {
            let err = Config::new("k").base_url(bad).validated().unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidInput, "{bad}");
        }
        assert!(Config::new("  ").validated().is_err());
    }
}
