//! Pure translation between calls and HTTP: build the request (method, URL, body) and
//! decode the response into a value or an [`Error`]. No I/O here, so every rule is
//! unit-tested natively.

use crate::error::Error;
use crate::json::{self, whole};
use crate::model::{AdvancedRequest, CreateRequest, Finished, Status, Style, StyleRequest};
pub use crate::route::Method;
use crate::route::{self, Route};
use core::time::Duration;

/// A request ready for a transport. The URL or the `Authorization` header carries the
/// key: never log either.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    /// JSON text; its presence means `Content-Type: application/json`.
    pub body: Option<String>,
    /// The `Prefer` header's value, if any: a held check asks `wait=N` ([`crate::hold`]).
    pub prefer: Option<String>,
    /// The `Authorization` header's value, `Bearer KEY`, when the key goes in a header
    /// rather than the URL ([`crate::Config::key_as_bearer`]).
    pub authorization: Option<String>,
}

impl HttpRequest {
    /// The headers it is sent with: `Content-Type: application/json` with a body,
    /// `Prefer` and `Authorization` when set.
    pub fn headers(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let json = self.body.as_ref().map(|_| ("Content-Type", "application/json"));
        let prefer = self.prefer.as_deref().map(|prefer| ("Prefer", prefer));
        let key = self.authorization.as_deref().map(|value| ("Authorization", value));
        json.into_iter().chain(prefer).chain(key)
    }
}

impl core::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (path, query) = match self.url.split_once('?') {
            Some((path, _)) => (path, "?apikey=[redacted]"),
            None => (self.url.as_str(), ""),
        };
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &format_args!("{path}{query}"))
            .field("body", &self.body)
            .field("prefer", &self.prefer)
            .field("authorization", &self.authorization.as_ref().map(|_| "Bearer [redacted]"))
            .finish()
    }
}

/// What came back, as far as the API cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// The raw `Retry-After` header, if any.
    pub retry_after: Option<String>,
    pub body: String,
    /// Wall-clock arrival time, seconds since the Unix epoch: turns an HTTP-date
    /// `Retry-After` into a wait.
    pub received_unix_secs: u64,
}

/// Where calls go and with which key.
#[derive(Clone, Copy)]
pub struct Endpoint<'a> {
    /// Without a trailing slash, e.g. `https://clipcloud.clipai.pro`.
    pub base_url: &'a str,
    /// `None`: the URLs carry no `apikey` parameter (a gateway that adds its own key).
    pub api_key: Option<&'a str>,
}

impl Endpoint<'_> {
    fn url(&self, path: &str) -> String {
        let key = self.api_key.unwrap_or_default();
        let mut url = String::with_capacity(self.base_url.len() + path.len() + key.len() + 16);
        url.push_str(without_trailing_slashes(self.base_url));
        url.push_str(path);
        if let Some(key) = self.api_key {
            url.push('?');
            url.push_str(route::API_KEY_PARAM);
            url.push('=');
            crate::percent::encode_into(key, &mut url);
        }
        url
    }

    fn request(&self, route: Route<'_>, body: Option<String>) -> HttpRequest {
        HttpRequest {
            method: route.method(),
            url: self.url(&route.path()),
            body,
            prefer: None,
            authorization: None,
        }
    }

    pub fn create(&self, req: &CreateRequest) -> HttpRequest {
        self.request(Route::Create, Some(create_body(req)))
    }

    /// `id` must have passed [`crate::validate::creation_id`] (it goes into the path).
    pub fn check(&self, id: &str) -> HttpRequest {
        self.request(Route::Check(id), None)
    }

    pub fn balance(&self) -> HttpRequest {
        self.request(Route::Balance, None)
    }

    pub fn styles(&self) -> HttpRequest {
        self.request(Route::Styles, None)
    }
}

/// The create body as JSON text, spelled as `model`'s serde attributes spell it (a test
/// keeps the two equal); written without serde so that the browser build needs no
/// serializer. What [`Endpoint::create`] sends, and what [`read_create_body`] reads.
pub fn create_body(req: &CreateRequest) -> String {
    let mut o = json::ObjectWriter::default();
    let opt_str = |o: &mut json::ObjectWriter, key: &str, v: &Option<String>| {
        if let Some(v) = v {
            o.string(key, v);
        }
    };
    let opt_int = |o: &mut json::ObjectWriter, key: &str, v: Option<u64>| {
        if let Some(v) = v {
            o.integer(key, v);
        }
    };
    match req {
        CreateRequest::ByStyle(r) => {
            o.string("prompt", &r.prompt);
            o.string("styleName", &r.style_name);
            opt_str(&mut o, "negative_prompt", &r.negative_prompt);
            opt_int(&mut o, "count", r.count.map(u64::from));
            opt_int(&mut o, "soft_id", r.soft_id);
        }
        CreateRequest::Advanced(r) => {
            o.string("prompt", &r.prompt);
            opt_str(&mut o, "negative_prompt", &r.negative_prompt);
            opt_str(&mut o, "model", &r.model);
            for (key, v) in
                [("width", r.width), ("height", r.height), ("quality", r.quality), ("steps", r.steps)]
            {
                opt_int(&mut o, key, v.map(u64::from));
            }
            opt_int(&mut o, "seed", r.seed);
            opt_int(&mut o, "count", r.count.map(u64::from));
            opt_int(&mut o, "soft_id", r.soft_id);
            for (key, json) in r.extra.iter() {
                o.json(key, json);
            }
        }
    }
    o.finish()
}

/// A create body read back ([`create_body`]): by style when it names a style, else
/// advanced. `None` when it is not an object or lacks the prompt (or the style's name);
/// an optional field of the wrong type is left unset, and fields beyond the named ones
/// (an advanced request's [`crate::model::Extra`]) are not read. A server reads a create
/// strictly, extras included, with `server::decode_create_body` (native).
pub fn read_create_body(body: &json::Value) -> Option<CreateRequest> {
    let text = |key: &str| json::get(body, key).as_ref().and_then(json::string);
    let int = |key: &str| json::get(body, key).as_ref().and_then(whole);
    let big = |key: &str| json::get(body, key).as_ref().and_then(json::whole_u64);
    let prompt = text("prompt")?;
    if let Some(style_name) = text("styleName") {
        let mut r = StyleRequest::new(prompt, style_name);
        (r.negative_prompt, r.count, r.soft_id) = (text("negative_prompt"), int("count"), big("soft_id"));
        return Some(r.into());
    }
    let mut r = AdvancedRequest::new(prompt);
    (r.negative_prompt, r.model) = (text("negative_prompt"), text("model"));
    (r.width, r.height, r.quality, r.steps) = (int("width"), int("height"), int("quality"), int("steps"));
    (r.seed, r.count, r.soft_id) = (big("seed"), int("count"), big("soft_id"));
    Some(r.into())
}

/// `POST /api/creation` → the creation id.
pub fn decode_created(resp: &HttpResponse) -> Result<String, Error> {
    let body = read(resp)?;
    let id = shape(resp, required(&body, "creation_id", json::string))?;
    // It goes into the path of every check: the same rule as an id a caller gives.
    if crate::validate::creation_id(&id).is_err() {
        return Err(bad(resp, "the creation id is empty or not a plain id"));
    }
    Ok(id)
}

/// `GET /api/creation/{id}` → in progress, or done with the image links.
/// Done is decided by the presence of `results`, never by the message text.
pub fn decode_check(resp: &HttpResponse, requested_id: &str) -> Result<Status, Error> {
    let body = read(resp)?;
    let strings = |v: &json::Value| json::items(v, json::string);
    let results = shape(resp, optional(&body, "results", strings))?;
    let creation_id = shape(resp, optional(&body, "creation_id", json::string))?;
    let cost = shape(resp, optional(&body, "cost", json::number))?;
    let censored = shape(resp, optional(&body, "censored", whole))?;
    if !json::is_object(&body) {
        return Err(bad(resp, NOT_THE_API_JSON));
    }
    let Some(results) = results else {
        return Ok(Status::InProgress);
    };
    if let Some(url) = results.iter().find(|u| !is_http_url(u)) {
        return Err(bad(resp, &["a result link is not an http(s) URL: ", &excerpt(url)].concat()));
    }
    Ok(Status::Done(Finished {
        creation_id: creation_id.unwrap_or_else(|| requested_id.to_owned()),
        images: results,
        cost: cost.unwrap_or(0.0),
        censored: censored.unwrap_or(0),
    }))
}

/// `GET /api/balance` → the balance, sent as a number or a numeric string.
pub fn decode_balance(resp: &HttpResponse) -> Result<f64, Error> {
    let body = read(resp)?;
    let amount = json::get(&body, "balance").ok_or_else(|| bad(resp, NOT_THE_API_JSON))?;
    let value = match (json::number(&amount), json::string(&amount)) {
        (Some(n), _) => Some(n),
        (None, Some(text)) => json::parse_number(&text),
        (None, None) => return Err(bad(resp, NOT_THE_API_JSON)),
    };
    match value {
        Some(n) if n.is_finite() => Ok(n),
        _ => Err(bad(resp, "the balance is not a number")),
    }
}

/// `GET /api/styles` → the styles, whether sent as objects or bare names, wrapped in
/// `{"styles": [...]}` or as a bare array.
pub fn decode_styles(resp: &HttpResponse) -> Result<Vec<Style>, Error> {
    let body = read(resp)?;
    let style = |entry: &json::Value| -> Result<Style, NotTheShape> {
        if let Some(name) = json::string(entry) {
            return Ok(Style { name, ..Style::default() });
        }
        Ok(Style {
            name: required(entry, "name", json::string)?,
            description: optional(entry, "description", json::string)?,
            width: optional(entry, "width", whole)?,
            height: optional(entry, "height", whole)?,
        })
    };
    let styles = |v: &json::Value| json::items(v, |entry| style(entry).ok());
    // A bare array of entries, or an object with one under "styles".
    let styles = if json::is_array(&body) {
        styles(&body).ok_or(NotTheShape)
    } else {
        required(&body, "styles", styles)
    };
    shape(resp, styles)
}

/// `url` without the slashes it ends with: `str::trim_end_matches('/')` byte by byte,
/// without std's reverse char searcher in the wasm.
pub(crate) fn without_trailing_slashes(url: &str) -> &str {
    let end = url.bytes().rposition(|b| b != b'/').map_or(0, |last| last + 1);
    url.get(..end).unwrap_or(url)
}

/// Only links a browser can safely fetch or show.
pub fn is_http_url(url: &str) -> bool {
    // Bytes compared in place: no lowercased copy.
    let starts =
        |scheme: &[u8]| url.as_bytes().get(..scheme.len()).is_some_and(|b| b.eq_ignore_ascii_case(scheme));
    starts(b"https://") || starts(b"http://")
}

const NOT_THE_API_JSON: &str = "not the JSON the API sends";

/// A field is missing or of the wrong type.
struct NotTheShape;

fn shape<T>(resp: &HttpResponse, read: Result<T, NotTheShape>) -> Result<T, Error> {
    read.map_err(|NotTheShape| bad(resp, NOT_THE_API_JSON))
}

/// A field that may be absent or `null`, but is of the right type when present.
fn optional<T>(
    body: &json::Value,
    key: &str,
    read: impl Fn(&json::Value) -> Option<T>,
) -> Result<Option<T>, NotTheShape> {
    match json::get(body, key) {
        None => Ok(None),
        Some(field) => read(&field).map(Some).ok_or(NotTheShape),
    }
}

fn required<T>(
    body: &json::Value,
    key: &str,
    read: impl Fn(&json::Value) -> Option<T>,
) -> Result<T, NotTheShape> {
    optional(body, key, read)?.ok_or(NotTheShape)
}

/// Common reading of every answer: API errors by status or `success: false`, else the
/// parsed body, or an undecodable-response error with an excerpt.
fn read(resp: &HttpResponse) -> Result<json::Value, Error> {
    let ok_status = (200..300).contains(&resp.status);
    let body = json::parse(&resp.body).ok();
    // A body that is not an object (a bare styles array) has no envelope: fine.
    let field = |key| body.as_ref().and_then(|b| json::get(b, key));
    let message = field("message").and_then(|m| json::string(&m));
    if !ok_status {
        // An error status with an unreadable body (a proxy's HTML page, an empty 502)
        // is still best described by its status, which also drives retries.
        return Err(api_error(resp, message.as_deref()));
    }
    if field("success").and_then(|s| json::boolean(&s)) == Some(false) {
        return Err(api_error(resp, message.as_deref()));
    }
    body.ok_or_else(|| bad(resp, "the body is not valid JSON"))
}

fn api_error(resp: &HttpResponse, message: Option<&str>) -> Error {
    let message = match message {
        Some(m) if !crate::text::trim(m).is_empty() => shorten(m, MESSAGE_CHARS),
        _ => status_text(resp.status).to_owned(),
    };
    Error::Api {
        status: resp.status,
        message,
        retry_after: resp.retry_after.as_deref().and_then(|v| parse_retry_after(v, resp.received_unix_secs)),
        may_have_started: false,
    }
}

fn bad(resp: &HttpResponse, reason: &str) -> Error {
    Error::BadResponse {
        status: resp.status,
        reason: reason.to_owned(),
        excerpt: excerpt(&resp.body),
        may_have_started: false,
    }
}

/// `Retry-After`: delay-seconds, or an HTTP-date (IMF-fixdate, e.g.
/// `Wed, 21 Oct 2015 07:28:00 GMT`) read against the arrival time.
pub fn parse_retry_after(value: &str, now_unix_secs: u64) -> Option<Duration> {
    let value = crate::text::trim(value);
    if let Some(seconds) = crate::error::parse_decimal(value.as_bytes()) {
        return Some(Duration::from_secs(seconds));
    }
    let at = crate::http_date::parse(value)?;
    Some(Duration::from_secs(at.saturating_sub(now_unix_secs)))
}

const EXCERPT_CHARS: usize = 120;

/// The first characters of a body, cut on a character boundary.
pub fn excerpt(text: &str) -> String {
    shorten(text, EXCERPT_CHARS)
}

/// A server's own message is shown whole, up to a sane length.
const MESSAGE_CHARS: usize = 300;

fn shorten(text: &str, max_chars: usize) -> String {
    let trimmed = crate::text::trim(text);
    match trimmed.char_indices().nth(max_chars) {
        Some((cut, _)) => [trimmed.get(..cut).unwrap_or_default(), "…"].concat(),
        None => trimmed.to_owned(),
    }
}

fn status_text(status: u16) -> &'static str {
    match status {
        200..=299 => "the request was refused",
        400 => "Bad request",
        401 => "Missing or unknown API key",
        402 => "Balance too low",
        404 => "Not found",
        408 => "Request timeout",
        415 => "The body must be JSON (Content-Type: application/json)",
        429 => "Too many requests",
        500 => "Internal server error",
        502 => "Bad gateway",
        503 => "Service unavailable",
        504 => "Gateway timeout",
        _ => "Unexpected HTTP status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use crate::model::{AdvancedRequest, StyleRequest};

    const ENDPOINT: Endpoint<'static> =
        Endpoint { base_url: "https://example.test/", api_key: Some("k y&z") };

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse { status, retry_after: None, body: body.into(), received_unix_secs: 0 }
    }

    #[test]
    fn trailing_slashes_go_as_trim_end_matches_takes_them() {
        for url in ["", "/", "//", "http://x", "http://x/", "http://x///", "http://x/é/", "é//"] {
            assert_eq!(without_trailing_slashes(url), url.trim_end_matches('/'), "{url}");
        }
    }

    #[test]
    fn urls_carry_the_encoded_key() {
        assert_eq!(ENDPOINT.balance().url, "https://example.test/api/balance?apikey=k%20y%26z");
        assert_eq!(ENDPOINT.styles().url, "https://example.test/api/styles?apikey=k%20y%26z");
        assert_eq!(ENDPOINT.check("ab-1").url, "https://example.test/api/creation/ab-1?apikey=k%20y%26z");
        assert_eq!(ENDPOINT.balance().method, Method::Get);
    }

    #[test]
    fn without_a_key_urls_carry_no_key_parameter() {
        let keyless = Endpoint { base_url: "https://gateway.test", api_key: None };
        assert_eq!(keyless.balance().url, "https://gateway.test/api/balance");
        assert_eq!(keyless.check("ab-1").url, "https://gateway.test/api/creation/ab-1");
        let create = keyless.create(&StyleRequest::new("cat", "HD-HQ").into());
        assert_eq!((create.method, create.url.as_str()), (Method::Post, "https://gateway.test/api/creation"));
    }

    #[test]
    fn debug_of_a_request_hides_the_key() {
        let text = format!("{:?}", ENDPOINT.balance());
        assert!(!text.contains("k%20y") && text.contains("[redacted]"), "{text}");
    }

    #[test]
    fn create_bodies_use_wire_names() {
        let mut req = StyleRequest::new("a red apple", "HD-HQ");
        req.count = Some(2);
        req.soft_id = Some(1742);
        let http = ENDPOINT.create(&req.into());
        assert_eq!(http.method, Method::Post);
        assert_eq!(http.url, "https://example.test/api/creation?apikey=k%20y%26z");
        assert_eq!(
            http.body.as_deref(),
            Some(r#"{"prompt":"a red apple","styleName":"HD-HQ","count":2,"soft_id":1742}"#)
        );

        let mut adv = AdvancedRequest::new("cat");
        adv.width = Some(640);
        adv.extra.insert("sampler", r#""euler""#);
        let body = ENDPOINT.create(&adv.into()).body.unwrap_or_default();
        assert_eq!(body, r#"{"prompt":"cat","width":640,"sampler":"euler"}"#);
    }

    #[test]
    fn create_body_is_the_serde_form_of_the_model() {
        let mut style = StyleRequest::new("a \"quoted\"\n prompt ✓ \u{1}", "HD-HQ");
        style.negative_prompt = Some("blur".into());
        style.count = Some(3);
        style.soft_id = Some(1742);
        let mut adv = AdvancedRequest::new("cat");
        adv.negative_prompt = Some("dog".into());
        adv.model = Some("m".into());
        (adv.width, adv.height, adv.quality, adv.steps) = (Some(640), Some(480), Some(90), Some(30));
        (adv.seed, adv.count, adv.soft_id) = (Some(u64::from(u32::MAX) + 1), Some(2), Some(7));
        adv.extra.insert("sampler", r#""euler""#);
        adv.extra.insert("cfg", r#"{"scale": 7.5, "list": [1, null, true]}"#);
        let requests: [CreateRequest; 4] = [
            style.into(),
            StyleRequest::new("x", "standard").into(),
            adv.into(),
            AdvancedRequest::new("").into(),
        ];
        for req in requests {
            assert_eq!(create_body(&req), serde_json::to_string(&req).unwrap());
        }
    }

    #[test]
    fn create_bodies_read_back() {
        let mut style = StyleRequest::new("a red apple", "HD-HQ");
        (style.negative_prompt, style.count, style.soft_id) = (Some("blur".into()), Some(2), Some(1742));
        let mut adv = AdvancedRequest::new("cat");
        adv.model = Some("m".into());
        (adv.width, adv.height, adv.quality, adv.steps) = (Some(640), Some(480), Some(90), Some(30));
        (adv.seed, adv.count) = (Some(u64::from(u32::MAX) + 1), Some(3));
        for req in
            [style.into(), adv.into(), StyleRequest::new("x", "y").into(), AdvancedRequest::new("").into()]
        {
            let body = json::parse(&create_body(&req)).unwrap();
            assert_eq!(read_create_body(&body), Some(req));
        }
        // Lenient in the optional fields, strict in the prompt and the style's name.
        let read = |text: &str| read_create_body(&json::parse(text).unwrap());
        let mut expected = AdvancedRequest::new("p");
        expected.width = Some(768);
        assert_eq!(
            read(r#"{"prompt":"p","width":768,"height":-1,"sampler":"euler"}"#),
            Some(expected.into())
        );
        for bad in [r#"{"styleName":"s"}"#, r#"{"prompt":1,"styleName":"s"}"#, "[]", "3"] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    #[test]
    fn decodes_the_docs_examples() {
        let id = "12345678-abcd-ef12-3456-7890abcdef12";
        let created = resp(200, &format!(r#"{{"success": true, "creation_id": "{id}"}}"#));
        assert_eq!(decode_created(&created).unwrap(), id);

        let running =
            resp(200, &format!(r#"{{"success":true,"message":"In progress","creation_id":"{id}"}}"#));
        assert_eq!(decode_check(&running, id).unwrap(), Status::InProgress);

        let done = resp(
            200,
            &format!(
                r#"{{"success":true,"message":"Images processed succesfully","creation_id":"{id}","cost":2.2,"censored":0,
                "results":["https://clipcloud.clipai.pro/images/a.webp","https://clipcloud.clipai.pro/images/b.webp"]}}"#
            ),
        );
        let Status::Done(f) = decode_check(&done, id).unwrap() else { panic!("not done") };
        assert_eq!((f.images.len(), f.cost, f.censored, f.creation_id.as_str()), (2, 2.2, 0, id));
    }

    #[test]
    fn done_is_decided_by_results_not_message() {
        let r = resp(200, r#"{"success":true,"message":"In progress","results":[]}"#);
        assert!(matches!(decode_check(&r, "x"), Ok(Status::Done(_))));
        let r = resp(200, r#"{"success":true,"message":"Images processed succesfully"}"#);
        assert_eq!(decode_check(&r, "x").unwrap(), Status::InProgress);
    }

    #[test]
    fn result_links_must_be_http() {
        let r = resp(200, r#"{"success":true,"results":["javascript:alert(1)"],"cost":1}"#);
        assert_eq!(decode_check(&r, "x").unwrap_err().code(), ErrorCode::BadResponse);
    }

    #[test]
    fn balance_as_number_or_string() {
        assert_eq!(decode_balance(&resp(200, r#"{"success":true,"balance":97.8}"#)).unwrap(), 97.8);
        assert_eq!(decode_balance(&resp(200, r#"{"success":true,"balance":" 12.5 "}"#)).unwrap(), 12.5);
        let err = decode_balance(&resp(200, r#"{"success":true,"balance":"lots"}"#)).unwrap_err();
        assert_eq!(err.code(), ErrorCode::BadResponse);
    }

    #[test]
    fn styles_in_every_accepted_shape() {
        let full =
            r#"{"success":true,"styles":[{"name":"standard","description":"d","width":512,"height":512}]}"#;
        let styles = decode_styles(&resp(200, full)).unwrap();
        assert_eq!(styles[0].width, Some(512));
        let names = decode_styles(&resp(200, r#"{"success":true,"styles":["standard","HD-HQ"]}"#)).unwrap();
        assert_eq!(names[1].name, "HD-HQ");
        let bare = decode_styles(&resp(200, r#"["standard"]"#)).unwrap();
        assert_eq!(bare[0].name, "standard");
    }

    #[test]
    fn api_errors_keep_status_message_and_retry_after() {
        let mut r = resp(429, r#"{"success":false,"message":"Slow down"}"#);
        r.retry_after = Some("3".into());
        let err = decode_balance(&r).unwrap_err();
        assert_eq!(err.code(), ErrorCode::RateLimited);
        assert_eq!(err.api_message(), Some("Slow down"));
        assert!(matches!(err, Error::Api { retry_after: Some(d), .. } if d == Duration::from_secs(3)));

        let err = decode_created(&resp(200, r#"{"success":false,"message":"Nope"}"#)).unwrap_err();
        assert_eq!((err.code(), err.status()), (ErrorCode::Rejected, Some(200)));
    }

    #[test]
    fn unreadable_bodies() {
        let html = resp(200, "<html><body>Oops</body></html>");
        let err = decode_balance(&html).unwrap_err();
        assert!(matches!(&err, Error::BadResponse { excerpt, .. } if excerpt.starts_with("<html>")));
        let cut = decode_balance(&resp(200, r#"{"success":true,"bal"#)).unwrap_err();
        assert!(cut.to_string().contains("not valid JSON"), "{cut}");
        let empty = decode_created(&resp(200, "")).unwrap_err();
        assert_eq!(empty.code(), ErrorCode::BadResponse);
        let wrong = decode_created(&resp(200, r#"{"success":true}"#)).unwrap_err();
        assert_eq!(wrong.code(), ErrorCode::BadResponse);
        // An error status is described by its status even when its body is HTML.
        let gateway = decode_balance(&resp(502, "<html>Bad Gateway</html>")).unwrap_err();
        assert_eq!((gateway.code(), gateway.status()), (ErrorCode::Server, Some(502)));
    }

    #[test]
    fn retry_after_as_seconds_or_http_date() {
        let now = 1_445_412_470; // Wed, 21 Oct 2015 07:27:50 GMT
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(10)));
        // A date in the past means "now".
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now), Some(Duration::ZERO));
        for bad in [
            "soon",
            "-1",
            "Wed, 21 Oct 2015 07:28:00",
            "Wed, 32 Oct 2015 07:28:00 GMT",
            "Wed, 21 Foo 2015 07:28:00 GMT",
            "",
        ] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn excerpt_is_short_and_cut_on_char_boundary() {
        let long = "é".repeat(500);
        let e = excerpt(&long);
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
        assert!(e.ends_with('…'));
    }

    // Native only: proptest needs an OS random source.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn http_urls_as_a_lowercased_copy_tells_them(url in "(?i)(h|é)(ttps?|ttp)(:|é)//?[a-zé]{0,3}") {
            // The rule as it was written first (before 2026-12-07).
            let lower = url.get(..8).unwrap_or(&url).to_ascii_lowercase();
            proptest::prop_assert_eq!(is_http_url(&url), lower.starts_with("https://") || lower.starts_with("http://"));
        }
    }
}
