//! The requests a client would send, for showing them (a curl command, a code sample, a
//! log), the key replaced by a placeholder. They are built by the code that builds the
//! requests a client sends ([`Endpoint`]'s URLs and bodies, the config's `soft_id` added as
//! a client adds it; a test holds them equal to what an [`crate::Operation`] sends), so
//! what is shown cannot differ from what is sent.
//!
//! ```
//! use clipcloud::{preview, Config, StyleRequest};
//!
//! let config = Config::new("sk-secret").soft_id(1742);
//! let create = preview::create(&config, StyleRequest::new("a red apple", "HD-HQ").into(), "$KEY");
//! assert_eq!(create.method.as_str(), "POST");
//! assert_eq!(create.url, "https://clipcloud.clipai.pro/api/creation?apikey=$KEY");
//! assert_eq!(create.headers().collect::<Vec<_>>(), [("Content-Type", "application/json")]);
//! assert_eq!(
//!     create.body.as_deref(),
//!     Some(r#"{"prompt":"a red apple","styleName":"HD-HQ","soft_id":1742}"#)
//! );
//!
//! // The follow-up: one check of the creation the create started.
//! let check = preview::check(&config, preview::CREATION_ID, "$KEY");
//! assert_eq!(
//!     (check.method.as_str(), check.url.as_str(), check.body),
//!     ("GET", "https://clipcloud.clipai.pro/api/creation/CREATION_ID?apikey=$KEY", None)
//! );
//! ```
//!
//! Nothing here is checked: [`crate::validate`] says whether a request would be sent at all
//! (a client refuses a broken one before sending anything), and so does a client's
//! constructor for its [`Config`].

use crate::codec::{Endpoint, HttpRequest};
use crate::config::Config;
use crate::model::CreateRequest;

/// A stand-in for a creation id in a check shown before the create has answered.
pub const CREATION_ID: &str = "CREATION_ID";

/// The create a client with `config` sends for `request` (with the config's `soft_id` when
/// the request sets none), the key's placeholder in place of the key, as given: not
/// percent-encoded, so that a shell variable such as `$KEY` stays one; in its URL, or in
/// `Authorization: Bearer` for a config that sends it there ([`Config::key_as_bearer`]).
/// Without a key in the config, the request carries none, as the client's would not. Its
/// headers: [`HttpRequest::headers`].
pub fn create(config: &Config, mut request: CreateRequest, key_placeholder: &str) -> HttpRequest {
    request.default_soft_id(config.soft_id);
    shown(config, endpoint(config).create(&request), key_placeholder)
}

/// The check a client with `config` sends for `creation_id` ([`CREATION_ID`] stands for
/// one not known yet), the key shown as in [`create`].
pub fn check(config: &Config, creation_id: &str, key_placeholder: &str) -> HttpRequest {
    shown(config, endpoint(config).check(creation_id), key_placeholder)
}

/// The key the preview's endpoint is given: URL-safe as it is, so it appears in the URL
/// unchanged, at its end, where the placeholder takes its place.
const STAND_IN_KEY: &str = "clipcloud-preview-key";

fn endpoint(config: &Config) -> Endpoint<'_> {
    // A client's URL is the config's, trimmed (`Config::validated`).
    let api_key = config.api_key.as_ref().filter(|_| !config.key_as_bearer).map(|_| STAND_IN_KEY);
    Endpoint { base_url: config.base_url.trim(), api_key }
}

fn shown(config: &Config, mut request: HttpRequest, key_placeholder: &str) -> HttpRequest {
    if let Some(without_key) = request.url.strip_suffix(STAND_IN_KEY) {
        request.url = [without_key, key_placeholder].concat();
    }
    if config.key_as_bearer && config.api_key.is_some() {
        request.authorization = Some(["Bearer ", key_placeholder].concat());
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AdvancedRequest, StyleRequest};
    use crate::operation::{Call, Operation, Session, Step};
    use core::time::Duration;

    /// The first request an operation for `call` sends, as a preview shows it.
    fn sent(config: &Config, call: Call) -> HttpRequest {
        let mut session = Session::new(config.clone(), 1).unwrap();
        let mut operation = Operation::new(call);
        let Step::Send { request, .. } = operation.start(&mut session, Duration::ZERO) else {
            panic!("a call starts with a request")
        };
        let key = config.key().unwrap_or_default();
        let mut request = request.clone();
        if let Some(without_key) = request.url.strip_suffix(key).filter(|_| !key.is_empty()) {
            request.url = [without_key, "$KEY"].concat();
        }
        if let Some(value) = &mut request.authorization {
            *value = value.replace(key, "$KEY");
        }
        request
    }

    #[test]
    fn what_a_client_sends_but_for_the_key() {
        let mut advanced = AdvancedRequest::new("It's a cat");
        (advanced.width, advanced.seed, advanced.soft_id) = (Some(768), Some(7), Some(9));
        advanced.extra.insert("sampler", r#""euler""#);
        let requests: [CreateRequest; 3] = [
            StyleRequest::new("a red apple", "HD-HQ").into(),
            advanced.into(),
            AdvancedRequest::new("x").into(),
        ];
        let configs = [
            Config::new("sk-1234567890").base_url(" http://127.0.0.1:8787/ ").soft_id(5),
            Config::new("KEY"),
            Config::keyless().base_url("https://images.example.org"),
            Config::new("sk-1234567890").base_url("https://images.example.org").key_as_bearer(true),
        ];
        for config in &configs {
            for request in &requests {
                let shown = create(config, request.clone(), "$KEY");
                assert_eq!(shown, sent(config, Call::Create(request.clone())), "{config:?} {request:?}");
                assert!(!shown.url.contains("1234") && !format!("{shown:?}").contains("1234"));
            }
            assert_eq!(check(config, CREATION_ID, "$KEY"), sent(config, Call::Check(CREATION_ID.into())));
        }
        let shown = create(&configs[0], requests[0].clone(), "<KEY>");
        assert_eq!(shown.url, "http://127.0.0.1:8787/api/creation?apikey=<KEY>");
        assert_eq!(
            shown.body.as_deref(),
            Some(r#"{"prompt":"a red apple","styleName":"HD-HQ","soft_id":5}"#),
            "the config's soft_id, as the request sets none"
        );
    }

    #[test]
    fn to_a_gateway_the_key_is_a_header() {
        let config = Config::new("sk-1").base_url("https://images.example.org").key_as_bearer(true);
        let shown = check(&config, CREATION_ID, "$KEY");
        assert_eq!(shown.url, "https://images.example.org/api/creation/CREATION_ID");
        assert_eq!(shown.headers().collect::<Vec<_>>(), [("Authorization", "Bearer $KEY")]);
    }

    #[test]
    fn keyless() {
        let gateway = Config::keyless().base_url("https://images.example.org");
        let shown = check(&gateway, CREATION_ID, "$KEY");
        assert_eq!(shown.url, "https://images.example.org/api/creation/CREATION_ID");
        assert!(shown.headers().next().is_none() && shown.body.is_none());
    }
}
