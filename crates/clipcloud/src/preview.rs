//! The requests a client would send, for showing them (a curl command, a code sample, a
//! log), the key replaced by a placeholder. They are built by the client's own code: an
//! [`Operation`] started in a fresh [`Session`] (the input rules, the config's `soft_id`),
//! and the codec's URL and body; so what is shown cannot differ from what is sent.
//!
//! ```
//! use clipcloud::{preview, Config, StyleRequest};
//!
//! let config = Config::new("sk-secret").soft_id(1742);
//! let create = preview::create(&config, StyleRequest::new("a red apple", "HD-HQ").into(), "$KEY")?;
//! assert_eq!(create.method.as_str(), "POST");
//! assert_eq!(create.url, "https://clipcloud.clipai.pro/api/creation?apikey=$KEY");
//! assert_eq!(create.headers, [("Content-Type", "application/json".to_owned())]);
//! assert_eq!(
//!     create.body.as_deref(),
//!     Some(r#"{"prompt":"a red apple","styleName":"HD-HQ","soft_id":1742}"#)
//! );
//!
//! // The follow-up: one check of the creation the create started.
//! let check = preview::check(&config, preview::CREATION_ID, "$KEY")?;
//! assert_eq!(
//!     (check.method.as_str(), check.url.as_str(), check.body),
//!     ("GET", "https://clipcloud.clipai.pro/api/creation/CREATION_ID?apikey=$KEY", None)
//! );
//! # Ok::<(), clipcloud::Error>(())
//! ```

use crate::codec::{HttpRequest, Method};
use crate::config::{ApiKey, Config};
use crate::error::Error;
use crate::model::CreateRequest;
use crate::operation::{Call, Operation, Session, Step};
use core::time::Duration;

/// A stand-in for a creation id in a check shown before the create has answered.
pub const CREATION_ID: &str = "CREATION_ID";

/// A request as it would be sent, but for the key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Preview {
    pub method: Method,
    /// The URL, the placeholder in the key's place as given (not percent-encoded, so that
    /// a shell variable such as `$KEY` stays one). Without a key in the config, it carries
    /// none, as the request would not.
    pub url: String,
    /// The headers the request depends on ([`HttpRequest::headers`]), as the transports
    /// send them.
    pub headers: Vec<(&'static str, String)>,
    /// The JSON body.
    pub body: Option<String>,
}

/// What a client with `config` sends first for `create`: the create itself (its `soft_id`
/// filled from the config when unset), or why it would not be sent (the input rules; the
/// live styles list is not known here).
pub fn create(config: &Config, request: CreateRequest, key_placeholder: &str) -> Result<Preview, Error> {
    first_request(config, Call::Create(request), key_placeholder)
}

/// What a client with `config` sends to check `creation_id` once ([`CREATION_ID`] stands
/// for one not known yet).
pub fn check(config: &Config, creation_id: &str, key_placeholder: &str) -> Result<Preview, Error> {
    first_request(config, Call::Check(creation_id.to_owned()), key_placeholder)
}

/// The key the preview's client is given: URL-safe as it is, so it appears in the URL
/// unchanged, at its end, where the placeholder takes its place.
const STAND_IN_KEY: &str = "clipcloud-preview-key";

fn first_request(config: &Config, call: Call, key_placeholder: &str) -> Result<Preview, Error> {
    let mut config = config.clone();
    if config.api_key.is_some() {
        config.api_key = Some(ApiKey::new(STAND_IN_KEY));
    }
    let mut session = Session::new(config, 1)?;
    let mut operation = Operation::new(call);
    match operation.start(&mut session, Duration::ZERO) {
        Step::Send { request, .. } => Ok(shown(request, key_placeholder)),
        Step::Done(Err(e)) => Err(e),
        _ => Err(Error::Internal("a call's first step was not a request")),
    }
}

fn shown(request: &HttpRequest, key_placeholder: &str) -> Preview {
    let url = match request.url.strip_suffix(STAND_IN_KEY) {
        Some(without_key) => [without_key, key_placeholder].concat(),
        None => request.url.clone(),
    };
    Preview {
        method: request.method,
        url,
        headers: request.headers().map(|(name, value)| (name, value.to_owned())).collect(),
        body: request.body.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Endpoint;
    use crate::error::{ErrorCode, Field};
    use crate::model::{AdvancedRequest, StyleRequest};

    #[test]
    fn the_request_sent_but_for_the_key() {
        let config = Config::new("sk-1234567890").base_url("http://127.0.0.1:8787/").soft_id(5);
        let mut request = AdvancedRequest::new("It's a cat");
        request.width = Some(768);
        request.soft_id = Some(9);
        let shown = create(&config, request.clone().into(), "<KEY>").unwrap();
        let sent = Endpoint { base_url: "http://127.0.0.1:8787", api_key: Some("sk-1234567890") }
            .create(&request.into());
        assert_eq!(shown.url, "http://127.0.0.1:8787/api/creation?apikey=<KEY>");
        assert_eq!((shown.method, shown.body), (sent.method, sent.body));
        assert!(
            !format!("{:?}", create(&config, StyleRequest::new("x", "y").into(), "$KEY")).contains("1234")
        );
    }

    #[test]
    fn soft_id_from_the_config_when_unset() {
        let config = Config::new("k").soft_id(5);
        let body = |c: &Config| create(c, StyleRequest::new("x", "standard").into(), "$KEY").unwrap().body;
        assert_eq!(body(&config).as_deref(), Some(r#"{"prompt":"x","styleName":"standard","soft_id":5}"#));
        assert_eq!(body(&Config::new("k")).as_deref(), Some(r#"{"prompt":"x","styleName":"standard"}"#));
    }

    #[test]
    fn keyless_and_refused() {
        let gateway = Config::keyless().base_url("https://images.example.org");
        let shown = check(&gateway, CREATION_ID, "$KEY").unwrap();
        assert_eq!(shown.url, "https://images.example.org/api/creation/CREATION_ID");
        assert!(shown.headers.is_empty());
        let empty = create(&Config::new("k"), StyleRequest::new(" ", "standard").into(), "$KEY");
        assert!(matches!(empty, Err(Error::InvalidInput(e)) if e.field == Field::Prompt));
        let bad_url = check(&Config::new("k").base_url("localhost"), CREATION_ID, "$KEY").unwrap_err();
        assert_eq!(bad_url.code(), ErrorCode::InvalidInput);
        assert_eq!(
            check(&Config::new("k"), "../balance", "$KEY").unwrap_err().code(),
            ErrorCode::InvalidInput
        );
    }
}
