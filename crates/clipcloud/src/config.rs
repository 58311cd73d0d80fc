//! How a client is set up: where to send, with which key (or none, for a gateway that
//! adds its own), and its time limits.

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
    /// `None`: requests carry no key at all, for a gateway in operator-key mode that adds
    /// its own ([`Config::keyless`]). The real service always needs one.
    pub api_key: Option<ApiKey>,
    /// Developer affiliate id, added to every create that sets none.
    pub soft_id: Option<u64>,
    /// Limit for one HTTP request (each retry gets its own).
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub poll: PollSchedule,
    /// The longest hold the server offers for a check ([`crate::hold`]; a gateway says so
    /// in `/gateway/info`, see [`crate::gateway::Info::hold`]): while waiting, each check
    /// asks to be held until the creation is ready, instead of following the schedule.
    /// `None` (the default, and right for the plain service): the schedule.
    pub hold: Option<Duration>,
    /// Send the key as `Authorization: Bearer KEY` instead of `?apikey=KEY`, so that it is
    /// in no URL (which every proxy's access log keeps): for a ClipCloud gateway, which
    /// takes either (its `/gateway/info` answers, see [`crate::gateway`]). `false` (the
    /// default): the plain service, whose docs ask for `?apikey=`.
    pub key_as_bearer: bool,
}

impl Config {
    pub fn new(api_key: impl Into<String>) -> Self {
        // Not `..Self::keyless()`: this spelling is 37 B smaller in the npm package's wasm.
        let mut config = Self::keyless();
        config.api_key = Some(ApiKey::new(api_key));
        config
    }

    /// A client that sends no key, for a gateway in operator-key mode (its
    /// `/gateway/info` says `"apikey": "none"`; see [`crate::gateway::Info`]): the
    /// gateway adds its own key. Set [`Config::base_url`] to the gateway; without one the
    /// client is refused, as the real service needs a key.
    pub fn keyless() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            soft_id: None,
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            poll: PollSchedule::default(),
            hold: None,
            key_as_bearer: false,
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

    /// Held checks, up to `max` (at most [`crate::hold::MAX`]) each: see [`Config::hold`].
    pub fn held_checks(mut self, max: Duration) -> Self {
        self.hold = Some(max.min(crate::hold::MAX));
        self
    }

    /// The key in `Authorization: Bearer`, not the URL: see [`Config::key_as_bearer`].
    pub fn key_as_bearer(mut self, yes: bool) -> Self {
        self.key_as_bearer = yes;
        self
    }

    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Checks the settings a client cannot work without, and normalises the base URL.
    pub(crate) fn validated(mut self) -> Result<Self, Error> {
        if self.api_key.as_ref().is_some_and(|key| crate::text::trim(key.expose()).is_empty()) {
            return Err(Error::invalid(Field::ApiKey, "API key must not be empty"));
        }
        let trimmed = crate::codec::without_trailing_slashes(crate::text::trim(&self.base_url));
        let rest = trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://"));
        if !rest.is_some_and(|host| !host.is_empty() && !host.bytes().any(|b| b == b'?' || b == b'#')) {
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
        if self.api_key.is_none() && trimmed.eq_ignore_ascii_case(DEFAULT_BASE_URL) {
            return Err(Error::invalid(Field::ApiKey, KEY_NEEDED));
        }
        self.base_url = trimmed.to_owned();
        Ok(self)
    }

    /// The key to send, if any.
    pub fn key(&self) -> Option<&str> {
        self.api_key.as_ref().map(ApiKey::expose)
    }
}

/// Why a client without a key is refused for the real service.
const KEY_NEEDED: &str =
    "an API key is required: only a gateway that adds its own key can be used without one (set the base URL to it)";

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

    #[test]
    fn keyless_needs_a_gateway() {
        let ok = Config::keyless().base_url("https://images.example.org/").validated().unwrap();
        assert_eq!((ok.key(), ok.base_url.as_str()), (None, "https://images.example.org"));
        // The real service always needs a key, however its URL is spelled.
        for service in [DEFAULT_BASE_URL, "https://ClipCloud.clipai.pro/", " https://clipcloud.clipai.pro "] {
            let err = Config::keyless().base_url(service).validated().unwrap_err();
            assert!(
                matches!(&err, Error::InvalidInput(e) if e.field == Field::ApiKey && e.message == KEY_NEEDED),
                "{service}: {err:?}"
            );
        }
        assert_eq!(Config::keyless().validated().unwrap_err().code(), crate::ErrorCode::InvalidInput);
        // An empty key is still an empty key, not "no key".
        assert!(Config::new("").base_url("https://images.example.org").validated().is_err());
        assert_eq!(Config::new("k").key(), Some("k"));
    }
}
