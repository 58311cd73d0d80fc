//! What a ClipCloud gateway (`crates/clipcloud-gateway`, a server in front of the API)
//! says about itself at `GET /gateway/info`, so that a client can tell whether it needs a
//! key: the path, the request, the decoder and the gateway's own encoder, spelled once.
//!
//! ```json
//! {"service":"clipcloud-gateway","version":"0.1.0","mode":"operator","apikey":"none"}
//! ```
//!
//! Any other answer (a 404 from the real service or the emulator, a network error, a
//! body of another shape) means "no gateway here": [`decode_info`] returns `None`, and the
//! client behaves as without a gateway.

use crate::codec::{HttpRequest, HttpResponse, Method};
use crate::json;

/// The gateway's public description of itself (no key needed, no key sent).
pub const INFO_PATH: &str = "/gateway/info";

/// The `service` value that tells a gateway's answer from anything else.
pub const SERVICE: &str = "clipcloud-gateway";

/// How the gateway reaches the API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Visitors bring their own key; the gateway forwards it.
    Relay,
    /// The gateway adds its own key; visitors send none (or a passphrase or token in
    /// its place, see [`KeyNeed`]).
    Operator,
}

/// What a client sends as its `apikey`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyNeed {
    /// The visitor's own ClipCloud key (relay mode).
    Required,
    /// Nothing: make the client with [`crate::Config::keyless`].
    None,
    /// The passphrase the site's operator shares, in the key's place.
    Passphrase,
    /// A visitor token signed by the embedding site's backend, in the key's place.
    Token,
}

impl Mode {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Relay => "relay",
            Self::Operator => "operator",
        }
    }
}

impl KeyNeed {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::None => "none",
            Self::Passphrase => "passphrase",
            Self::Token => "token",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Info {
    pub version: String,
    pub mode: Mode,
    pub apikey: KeyNeed,
}

impl Info {
    /// The gateway's answer body.
    pub fn to_json(&self) -> String {
        let mut o = json::ObjectWriter::default();
        o.string("service", SERVICE);
        o.string("version", &self.version);
        o.string("mode", self.mode.as_str());
        o.string("apikey", self.apikey.as_str());
        o.finish()
    }
}

/// `GET {base_url}/gateway/info`, without a key. `base_url` as in [`crate::Config`] (for
/// the app served by a gateway: the page's origin).
pub fn info_request(base_url: &str) -> HttpRequest {
    HttpRequest { method: Method::Get, url: [base_url.trim_end_matches('/'), INFO_PATH].concat(), body: None }
}

/// A gateway's answer, or `None` for anything else: another status, another service,
/// a mode or key need this client does not know.
pub fn decode_info(resp: &HttpResponse) -> Option<Info> {
    if resp.status != 200 {
        return None;
    }
    let body = json::parse(&resp.body)?;
    let field = |key| json::get(&body, key).and_then(|v| json::string(&v));
    if field("service")? != SERVICE {
        return None;
    }
    let mode = match field("mode")?.as_str() {
        "relay" => Mode::Relay,
        "operator" => Mode::Operator,
        _ => return None,
    };
    let apikey = match field("apikey")?.as_str() {
        "required" => KeyNeed::Required,
        "none" => KeyNeed::None,
        "passphrase" => KeyNeed::Passphrase,
        "token" => KeyNeed::Token,
        _ => return None,
    };
    Some(Info { version: field("version").unwrap_or_default(), mode, apikey })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, retry_after: None, body: body.into(), received_unix_secs: 0 }
    }

    #[test]
    fn the_request_carries_no_key() {
        let req = info_request("https://images.example.org/");
        assert_eq!(
            (req.method, req.url.as_str(), req.body),
            (Method::Get, "https://images.example.org/gateway/info", None)
        );
    }

    #[test]
    fn decodes_every_mode_and_round_trips() {
        let body = r#"{"service":"clipcloud-gateway","version":"0.1.0","mode":"operator","apikey":"none"}"#;
        let info = decode_info(&resp(200, body)).unwrap();
        assert_eq!(info, Info { version: "0.1.0".into(), mode: Mode::Operator, apikey: KeyNeed::None });
        assert_eq!(info.to_json(), body);
        for mode in [Mode::Relay, Mode::Operator] {
            for apikey in [KeyNeed::Required, KeyNeed::None, KeyNeed::Passphrase, KeyNeed::Token] {
                let info = Info { version: "9".into(), mode, apikey };
                assert_eq!(decode_info(&resp(200, &info.to_json())), Some(info));
            }
        }
    }

    #[test]
    fn anything_else_is_no_gateway() {
        let ok = r#"{"service":"clipcloud-gateway","mode":"relay","apikey":"required"}"#;
        assert_eq!(decode_info(&resp(200, ok)).map(|i| i.apikey), Some(KeyNeed::Required));
        for (status, body) in [
            (404, r#"{"success":false,"message":"Not found"}"#),
            (500, ok),
            (200, ""),
            (200, "<html>app</html>"),
            (200, "[]"),
            (200, r#"{"service":"something-else","mode":"relay","apikey":"required"}"#),
            (200, r#"{"service":"clipcloud-gateway","mode":"mirror","apikey":"required"}"#),
            (200, r#"{"service":"clipcloud-gateway","mode":"operator","apikey":"cookie"}"#),
            (200, r#"{"service":"clipcloud-gateway","mode":"operator"}"#),
            (200, r#"{"service":"clipcloud-gateway","mode":1,"apikey":"none"}"#),
        ] {
            assert_eq!(decode_info(&resp(status, body)), None, "{status} {body}");
        }
    }
}
