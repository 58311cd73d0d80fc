//! What a ClipCloud gateway (`crates/clipcloud-gateway`, a server in front of the API)
//! says about itself at `GET /gateway/info`, so that a client can tell whether it needs a
//! key: the path, the request, the decoder and the gateway's own encoder, spelled once.
//!
//! ```json
//! {"service":"clipcloud-gateway","version":"0.1.0","mode":"operator","apikey":"none","hold":30}
//! ```
//!
//! `hold`: the gateway holds checks up to this many seconds ([`crate::hold`]); a client
//! sets [`crate::Config::held_checks`] from it ([`Info::config_hold`]).
//!
//! Any other answer (a 404 from the real service or the emulator, a network error, a
//! body of another shape) means "no gateway here": [`decode_info`] returns `None`, and the
//! client behaves as without a gateway.

use crate::codec::{HttpRequest, HttpResponse, Method};
use crate::json;

/// The gateway's public description of itself (no key needed, no key sent).
pub const INFO_PATH: &str = "/gateway/info";

/// Where a gateway relays the service's images, `{origin}/images/{name}`: the path the
/// service's own image links use, so a page can fetch them on its own origin whatever
/// CORS the service sends.
pub const IMAGES_PATH: &str = "/images/";

/// `link`, an image link of a finished creation, fetched through the gateway at `origin`
/// (`scheme://host`); `None` when it names no image.
pub fn image_via_gateway(link: &str, origin: &str) -> Option<String> {
    let (_, name) = link.rsplit_once(IMAGES_PATH)?;
    (!name.is_empty() && !name.contains('/')).then(|| [origin, IMAGES_PATH, name].concat())
}

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
    /// Held checks offered, up to this many seconds each (`None`: not offered).
    pub hold: Option<u32>,
}

impl Info {
    /// The gateway's answer body.
    pub fn to_json(&self) -> String {
        let mut o = json::ObjectWriter::default();
        o.string("service", SERVICE);
        o.string("version", &self.version);
        o.string("mode", self.mode.as_str());
        o.string("apikey", self.apikey.as_str());
        if let Some(hold) = self.hold {
            o.integer("hold", u64::from(hold));
        }
        o.finish()
    }

    /// What [`crate::Config::hold`] should be for a client of this gateway.
    pub fn config_hold(&self) -> Option<core::time::Duration> {
        let seconds = self.hold.filter(|s| *s > 0)?;
        Some(core::time::Duration::from_secs(u64::from(seconds)).min(crate::hold::MAX))
    }
}

/// `GET {base_url}/gateway/info`, without a key. `base_url` as in [`crate::Config`] (for
/// the app served by a gateway: the page's origin).
pub fn info_request(base_url: &str) -> HttpRequest {
    let url = [crate::codec::without_trailing_slashes(base_url), INFO_PATH].concat();
    HttpRequest { method: Method::Get, url, body: None, prefer: None, authorization: None }
}

/// A gateway's answer, or `None` for anything else: another status, another service,
/// a mode or key need this client does not know.
pub fn decode_info(resp: &HttpResponse) -> Option<Info> {
    if resp.status != 200 {
        return None;
    }
    let body = json::parse(&resp.body).ok()?;
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
    // Whole seconds; anything else is "not offered" rather than a reason to ignore the gateway.
    let hold = json::get(&body, "hold")
        .and_then(|v| json::number(&v))
        .filter(|n| n.fract() == 0.0 && (1.0..=f64::from(u32::MAX)).contains(n))
        .map(|n| n as u32);
    Some(Info { version: field("version").unwrap_or_default(), mode, apikey, hold })
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
        assert_eq!(
            info,
            Info { version: "0.1.0".into(), mode: Mode::Operator, apikey: KeyNeed::None, hold: None }
        );
        assert_eq!(info.to_json(), body);
        for mode in [Mode::Relay, Mode::Operator] {
            for apikey in [KeyNeed::Required, KeyNeed::None, KeyNeed::Passphrase, KeyNeed::Token] {
                for hold in [None, Some(30)] {
                    let info = Info { version: "9".into(), mode, apikey, hold };
                    assert_eq!(decode_info(&resp(200, &info.to_json())), Some(info));
                }
            }
        }
    }

    #[test]
    fn the_hold_offered_sets_the_client_up_for_held_checks() {
        let with = |hold: &str| {
            let body = [r#"{"service":"clipcloud-gateway","mode":"relay","apikey":"required""#, hold, "}"];
            decode_info(&resp(200, &body.concat())).map(|i| i.config_hold())
        };
        assert_eq!(with(r#","hold":30"#), Some(Some(core::time::Duration::from_secs(30))));
        assert_eq!(with(r#","hold":300"#), Some(Some(crate::hold::MAX)));
        // Unreadable or absent: a gateway all the same, without held checks.
        for hold in ["", r#","hold":0"#, r#","hold":1.5"#, r#","hold":"30""#, r#","hold":-1"#] {
            assert_eq!(with(hold), Some(None), "{hold}");
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

    #[test]
    fn image_links_move_to_the_gateways_own_route() {
        let via = |link| image_via_gateway(link, "https://site.example");
        assert_eq!(
            via("https://cdn.example/images/a1.webp").as_deref(),
            Some("https://site.example/images/a1.webp")
        );
        assert_eq!(
            via("https://cdn.example/x/images/a1.webp").as_deref(),
            Some("https://site.example/images/a1.webp")
        );
        assert_eq!(via("https://cdn.example/images/"), None);
        assert_eq!(via("https://cdn.example/images/a/b.webp"), None);
        assert_eq!(via("https://cdn.example/pictures/a.webp"), None);
    }
}
