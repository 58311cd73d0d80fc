//! One error type for the whole client. Every failure is a value with a stable
//! [`ErrorCode`] and a message a person can read; none of them carries the API key.

use core::fmt;
use core::time::Duration;

/// Stable, machine-readable error codes (the npm package's `error.code` strings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The input was refused before sending, or the API answered 400/415.
    InvalidInput,
    /// 401: missing or unknown API key.
    Unauthorized,
    /// 402: the balance is too low for this creation.
    InsufficientBalance,
    /// 404: unknown creation id (or another key's).
    NotFound,
    /// 429: too many requests.
    RateLimited,
    /// 5xx: trouble on the service's side.
    Server,
    /// Any other refusal by the API (other statuses, or 200 with `success: false`).
    Rejected,
    /// The request did not complete: offline, DNS, CORS, connection reset.
    Network,
    /// No answer within the time allowed.
    Timeout,
    /// The caller cancelled the call.
    Aborted,
    /// The answer was not the JSON the API sends.
    BadResponse,
    /// A bug in this client, not the caller's doing nor the service's.
    Internal,
}

impl ErrorCode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::Unauthorized => "unauthorized",
            Self::InsufficientBalance => "insufficient_balance",
            Self::NotFound => "not_found",
            Self::RateLimited => "rate_limited",
            Self::Server => "server",
            Self::Rejected => "rejected",
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::Aborted => "aborted",
            Self::BadResponse => "bad_response",
            Self::Internal => "internal",
        }
    }

    fn from_status(status: u16) -> Self {
        match status {
            400 | 413 | 415 | 422 => Self::InvalidInput,
            401 | 403 => Self::Unauthorized,
            402 => Self::InsufficientBalance,
            404 | 410 => Self::NotFound,
            429 => Self::RateLimited,
            500..=599 => Self::Server,
            _ => Self::Rejected,
        }
    }
}

/// Which input a refusal is about: every field of a request, a client's settings and a
/// call's options, in the Rust crate and the npm package alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Field {
    Prompt,
    NegativePrompt,
    Style,
    Count,
    /// An advanced request's model.
    Model,
    Width,
    Height,
    Quality,
    Steps,
    Seed,
    /// An advanced request's `extra` fields.
    Extra,
    /// The developer affiliate id (`soft_id`, `softId`).
    SoftId,
    CreationId,
    BaseUrl,
    ApiKey,
    /// A call's time limit (`timeoutMs` in the npm package).
    Timeout,
    /// A call's abort signal.
    Signal,
    /// A call's progress callback (`onProgress`).
    OnProgress,
    /// The HTTP function a client is given (`fetch` in the npm package).
    Fetch,
    /// A call's input as a whole (e.g. not an object).
    Input,
    /// Whether checks ask to be held ([`crate::hold`]; `heldChecks` in the npm package).
    HeldChecks,
}

impl Field {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Prompt => "prompt",
            Self::NegativePrompt => "negative prompt",
            Self::Style => "style",
            Self::Count => "count",
            Self::Model => "model",
            Self::Width => "width",
            Self::Height => "height",
            Self::Quality => "quality",
            Self::Steps => "steps",
            Self::Seed => "seed",
            Self::Extra => "extra",
            Self::SoftId => "soft id",
            Self::CreationId => "creation id",
            Self::BaseUrl => "base URL",
            Self::ApiKey => "API key",
            Self::Timeout => "timeout",
            Self::Signal => "signal",
            Self::OnProgress => "progress callback",
            Self::Fetch => "fetch",
            Self::Input => "input",
            Self::HeldChecks => "held checks",
        }
    }
}

/// A rule the input broke, found before anything was sent.
#[derive(Clone, Debug, PartialEq)]
pub struct InvalidInput {
    pub field: Field,
    /// Complete sentence, e.g. "count must be between 1 and 4 (got 9)".
    pub message: String,
}

impl fmt::Display for InvalidInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Everything that can go wrong in a call.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// Refused by validation; nothing was sent.
    InvalidInput(InvalidInput),
    /// The API answered with an error status, or 200 with `success: false`.
    Api {
        status: u16,
        /// The API's own words, or a description of the status when it gave none.
        message: String,
        /// From `Retry-After`, when the API asked us to wait.
        retry_after: Option<Duration>,
        /// True for a create answered by a server error: it may have started anyway.
        may_have_started: bool,
    },
    /// The answer could not be read as the API's JSON.
    BadResponse {
        status: u16,
        /// What was wrong with it.
        reason: String,
        /// The start of the body, to recognise an HTML error page or a proxy's answer.
        excerpt: String,
        /// True for a create: something answered, so it may have reached the service.
        may_have_started: bool,
    },
    /// The request failed on the way.
    Network {
        message: String,
        /// True for a create that may have reached the service: check before creating again.
        may_have_started: bool,
    },
    /// No answer in time.
    Timeout { may_have_started: bool },
    /// Cancelled by the caller.
    Aborted,
    /// A bug in this client (a step driven out of order, a call that ended with the
    /// wrong kind of output): says what, for a bug report. Never the caller's doing.
    Internal(&'static str),
}

impl Error {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::Api { status, .. } => ErrorCode::from_status(*status),
            Self::BadResponse { .. } => ErrorCode::BadResponse,
            Self::Network { .. } => ErrorCode::Network,
            Self::Timeout { .. } => ErrorCode::Timeout,
            Self::Aborted => ErrorCode::Aborted,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// The HTTP status when an answer arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } | Self::BadResponse { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The API's own message, when it sent one.
    pub fn api_message(&self) -> Option<&str> {
        match self {
            Self::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// True when a create failed in a way that leaves open whether the service
    /// accepted it (and will charge for it).
    pub fn may_have_started(&self) -> bool {
        matches!(
            self,
            Self::Api { may_have_started: true, .. }
                | Self::BadResponse { may_have_started: true, .. }
                | Self::Network { may_have_started: true, .. }
                | Self::Timeout { may_have_started: true }
        )
    }

    pub(crate) fn invalid(field: Field, message: impl Into<String>) -> Self {
        Self::InvalidInput(InvalidInput { field, message: message.into() })
    }

    /// Replaces every occurrence of `secret` in the texts this error carries. Texts
    /// that come from outside (server messages, body excerpts, browser errors) could
    /// echo the request URL and with it the key.
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        match &mut self {
            Self::InvalidInput(InvalidInput { message: text, .. })
            | Self::Api { message: text, .. }
            | Self::Network { message: text, .. } => redact_in_place(text, secret),
            Self::BadResponse { reason, excerpt, .. } => {
                redact_in_place(reason, secret);
                redact_in_place(excerpt, secret);
            }
            Self::Timeout { .. } | Self::Aborted | Self::Internal(_) => {}
        }
        self
    }
}

fn redact_in_place(text: &mut String, secret: &str) {
    *text = redact_text(core::mem::take(text), secret);
}

pub(crate) fn redact_text(text: String, secret: &str) -> String {
    // Char by char, not `str::replace`: its substring searcher and char-boundary panics
    // would cost the browser build kilobytes. A key (valid UTF-8) can only start on a
    // character boundary, so this finds every occurrence.
    if secret.is_empty() {
        return text;
    }
    let mut out = String::new();
    let mut rest = text.as_str();
    let mut found = false;
    loop {
        if let Some(after) = rest.strip_prefix(secret) {
            out.push_str("[redacted]");
            rest = after;
            found = true;
            continue;
        }
        let mut chars = rest.chars();
        match chars.next() {
            Some(c) => out.push(c),
            None => break,
        }
        rest = chars.as_str();
    }
    if found {
        out
    } else {
        text
    }
}

const STARTED_HINT: &str =
    " The creation may have been started: check your recent creations or balance before creating it again.";

impl Error {
    /// The message for people, as `Display` writes it. Put together with `push_str`: no
    /// `core::fmt` formatter in the browser builds' path (the npm package's error values).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let hint = |out: &mut String, may_have_started: bool| {
            if may_have_started {
                out.push_str(STARTED_HINT);
            }
        };
        match self {
            Self::InvalidInput(e) => {
                out.push_str("Invalid input: ");
                out.push_str(&e.message);
            }
            Self::Api { status, message, retry_after, may_have_started } => {
                out.push_str(match ErrorCode::from_status(*status) {
                    // The API itself answers 401; 403 comes from a gateway in front of it
                    // (a page's origin or a visitor token refused), whose message says why.
                    ErrorCode::Unauthorized if *status == 403 => "Access was refused",
                    ErrorCode::Unauthorized => "The API key was refused",
                    // The key's balance, or a gateway's spending limit (its message says which).
                    ErrorCode::InsufficientBalance => "Not enough credit",
                    ErrorCode::NotFound => "Not found",
                    ErrorCode::RateLimited => "Too many requests",
                    ErrorCode::Server => "The service had trouble",
                    ErrorCode::InvalidInput => "The service refused the request",
                    _ => "The service answered with an error",
                });
                if *status != 200 {
                    out.push_str(" (HTTP ");
                    out.push_str(&decimal(u64::from(*status)));
                    out.push(')');
                }
                out.push_str(": ");
                out.push_str(message);
                if let Some(wait) = retry_after.filter(|w| *status == 429 && !w.is_zero()) {
                    out.push_str(" (try again in ");
                    out.push_str(&decimal(wait.as_secs().max(1)));
                    out.push_str(" s)");
                }
                if *may_have_started {
                    out.push('.');
                }
                hint(&mut out, *may_have_started);
            }
            Self::BadResponse { status, reason, excerpt, may_have_started } => {
                out.push_str("The service sent an unreadable answer (HTTP ");
                out.push_str(&decimal(u64::from(*status)));
                out.push_str(", ");
                out.push_str(reason);
                out.push_str("): ");
                out.push_str(&quoted(excerpt));
                out.push('.');
                hint(&mut out, *may_have_started);
            }
            Self::Network { message, may_have_started } => {
                out.push_str("Network error: ");
                out.push_str(message);
                out.push('.');
                hint(&mut out, *may_have_started);
            }
            Self::Timeout { may_have_started } => {
                out.push_str("The service did not answer in time.");
                hint(&mut out, *may_have_started);
            }
            Self::Aborted => out.push_str("The call was cancelled."),
            Self::Internal(what) => {
                out.push_str("A bug in the ClipCloud client (please report it): ");
                out.push_str(what);
                out.push('.');
            }
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// `n` in decimal, without `core::fmt`.
pub(crate) fn decimal(n: u64) -> String {
    // Most significant digit first, straight into the string (no buffer to reverse).
    let mut power = 1u64;
    while n / power >= 10 {
        power *= 10;
    }
    let mut out = String::with_capacity(20);
    loop {
        out.push(char::from(b'0' + (n / power % 10) as u8));
        if power < 10 {
            return out;
        }
        power /= 10;
    }
}

/// `text` as `str::parse::<u64>` reads it: ASCII digits after an optional `+`; `None` when
/// there are none or the number passes `u64::MAX`. Without std's generic integer parser
/// and its 128-bit overflow checks, which the npm package's wasm would carry for
/// `Retry-After` alone.
pub(crate) fn parse_decimal(text: &[u8]) -> Option<u64> {
    const LIMIT: u64 = u64::MAX / 10;
    let digits = match text {
        [b'+', rest @ ..] => rest,
        all => all,
    };
    if digits.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &byte in digits {
        let digit = u64::from(byte.wrapping_sub(b'0'));
        if digit > 9 || n > LIMIT || (n == LIMIT && digit > u64::MAX % 10) {
            return None;
        }
        n = n * 10 + digit;
    }
    Some(n)
}

/// `text` in double quotes, with quotes, backslashes and control characters escaped
/// (as `{:?}` would, for the characters a body excerpt holds).
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                out.push_str("\\u{");
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let n = u32::from(c);
                let mut started = false;
                for shift in (0..6).rev() {
                    let d = (n >> (shift * 4)) & 15;
                    if d != 0 || started || shift == 0 {
                        started = true;
                        out.push(char::from(HEX[d as usize]));
                    }
                }
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl std::error::Error for Error {}

impl From<InvalidInput> for Error {
    fn from(e: InvalidInput) -> Self {
        Self::InvalidInput(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_status() {
        let api = |status| Error::Api {
            status,
            message: String::new(),
            retry_after: None,
            may_have_started: false,
        };
        assert_eq!(api(401).code(), ErrorCode::Unauthorized);
        assert_eq!(api(402).code(), ErrorCode::InsufficientBalance);
        assert_eq!(api(404).code(), ErrorCode::NotFound);
        assert_eq!(api(415).code(), ErrorCode::InvalidInput);
        assert_eq!(api(429).code(), ErrorCode::RateLimited);
        assert_eq!(api(503).code(), ErrorCode::Server);
        assert_eq!(api(200).code(), ErrorCode::Rejected);
        assert_eq!(ErrorCode::InsufficientBalance.as_str(), "insufficient_balance");
    }

    #[test]
    fn redaction_removes_the_key_everywhere() {
        let key = "sk-secret-123";
        let errors = [
            Error::Api {
                status: 500,
                message: format!("bad key {key}"),
                retry_after: None,
                may_have_started: true,
            },
            Error::BadResponse {
                status: 200,
                reason: key.into(),
                excerpt: format!("<p>{key}</p>"),
                may_have_started: false,
            },
            Error::Network { message: format!("GET /x?apikey={key} failed"), may_have_started: false },
        ];
        for e in errors {
            let e = e.redact(key);
            assert!(!format!("{e} {e:?}").contains(key), "{e:?}");
        }
    }

    #[test]
    fn messages_without_fmt_read_as_before() {
        assert_eq!(
            redact_text("é-key-é key-keykey".into(), "key"),
            "é-[redacted]-é [redacted]-[redacted][redacted]"
        );
        assert_eq!(redact_text("no secret here".into(), ""), "no secret here");
        assert_eq!(decimal(0), "0");
        assert_eq!(decimal(u64::MAX), u64::MAX.to_string());
        for text in ["<html>", "a \"b\" \\ c\n\r\t\u{1}\u{7f}é…", ""] {
            assert_eq!(quoted(text), format!("{text:?}"));
        }
        let e = Error::Api {
            status: 401,
            message: "Unknown key".into(),
            retry_after: None,
            may_have_started: false,
        };
        assert_eq!(e.to_string(), "The API key was refused (HTTP 401): Unknown key");
    }

    #[test]
    fn refusals_of_a_gateway_read_clearly() {
        let api = |status, message: &str, retry_after| Error::Api {
            status,
            message: message.into(),
            retry_after,
            may_have_started: false,
        };
        let budget = api(402, "This site has reached its spending limit for today (0.10 credits).", None);
        assert_eq!(
            budget.to_string(),
            "Not enough credit (HTTP 402): This site has reached its spending limit for today (0.10 credits)."
        );
        let origin = api(403, "pages from https://evil.example may not use this gateway", None);
        assert_eq!(
            origin.to_string(),
            "Access was refused (HTTP 403): pages from https://evil.example may not use this gateway"
        );
        let limited = api(429, "too many creations", Some(Duration::from_secs(12)));
        assert_eq!(
            limited.to_string(),
            "Too many requests (HTTP 429): too many creations (try again in 12 s)"
        );
        assert_eq!(api(429, "slow down", None).to_string(), "Too many requests (HTTP 429): slow down");
        assert_eq!(api(413, "the request body is over 65536 bytes", None).code(), ErrorCode::InvalidInput);
    }

    #[test]
    fn a_bug_here_is_not_told_as_a_cancelled_call() {
        let e = Error::Internal("an operation was driven out of order");
        assert_eq!((e.code(), e.code().as_str()), (ErrorCode::Internal, "internal"));
        assert_eq!(
            e.to_string(),
            "A bug in the ClipCloud client (please report it): an operation was driven out of order."
        );
        assert!(!e.may_have_started());
    }

    #[test]
    fn may_have_started_is_in_the_message() {
        let e = Error::Timeout { may_have_started: true };
        assert!(e.may_have_started());
        assert!(e.to_string().contains("may have been started"));
        assert!(!Error::Timeout { may_have_started: false }.to_string().contains("started"));
    }

    // Native only: proptest needs an OS random source.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn redaction_is_str_replace(text in "[ab é…]{0,16}", secret in "[ab é…]{0,3}") {
            let expected = if secret.is_empty() { text.clone() } else { text.replace(&secret, "[redacted]") };
            proptest::prop_assert_eq!(redact_text(text, &secret), expected);
        }

        #[test]
        fn decimal_is_to_string(n in proptest::num::u64::ANY) {
            proptest::prop_assert_eq!(decimal(n), n.to_string());
        }

        #[test]
        fn parse_decimal_is_str_parse(text in "[+-]?[0-9 a]{0,21}|[+]?1844674407370955161[0-9]") {
            proptest::prop_assert_eq!(parse_decimal(text.as_bytes()), text.parse::<u64>().ok());
        }

        #[test]
        fn parse_decimal_reads_decimal(n in proptest::num::u64::ANY) {
            proptest::prop_assert_eq!(parse_decimal(decimal(n).as_bytes()), Some(n));
        }
    }

    #[test]
    fn parse_decimal_stops_at_the_largest_u64() {
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        assert_eq!(parse_decimal(b"+007"), Some(7));
        for bad in ["", "+", "-1", "1 ", "++1", "0x1"] {
            assert_eq!(parse_decimal(bad.as_bytes()), None, "{bad}");
        }
    }
}
