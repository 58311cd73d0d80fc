//! Security headers on every answer the gateway gives: the app's files, the API's answers,
//! the images and the gateway's own refusals.
//!
//! - `Content-Security-Policy`: for a page, the policy of its own
//!   `<meta http-equiv="Content-Security-Policy">` (the build writes it into `index.html`;
//!   the meta tag stays) with `frame-ancestors 'none'` added, which a meta policy cannot
//!   carry. Anything else gets [`STRICT_CSP`]: a JSON answer or an image runs nothing.
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (the key can travel
//!   in a query string), `X-Frame-Options: DENY`, `Cross-Origin-Opener-Policy: same-origin`.
//! - `Cross-Origin-Resource-Policy: same-origin` for the app's files only: the API's
//!   answers and the images are read by pages on other (allowed) origins.
//! - `Strict-Transport-Security` only when the gateway is told it sits behind https.
//!
//! Layer [`layer`] outermost, so refusals from inner layers carry the headers too:
//! `router.layer(axum::middleware::from_fn_with_state(Arc::new(SecurityHeaders::new(..)), headers::layer))`.

use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;

/// The policy of every answer that is not a page.
pub const STRICT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// A page's own policy, as a header value, attached by the static files
/// ([`crate::edge::statics::Site`]) to each HTML answer as a response extension: read from the
/// file being served, so a new build in place is served with its own policy. `None`: the
/// page has no policy of its own, and gets [`STRICT_CSP`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageCsp(pub Option<HeaderValue>);

/// What [`SecurityHeaders::apply`] is putting headers on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// An HTML page of the app, with its policy (`None`: the strict default).
    Page(Option<&'a HeaderValue>),
    /// Any other file of the app (script, wasm, style, icon, a 404 for a missing file).
    File,
    /// The API's answers, images, and the gateway's own routes: read across origins.
    Service,
}

/// The headers, built once at start.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    page_csp: Option<HeaderValue>,
    strict_csp: HeaderValue,
    https: bool,
}

impl SecurityHeaders {
    /// `page_csp`: the app's policy (as [`page_csp`] reads it from `dist/index.html`), for
    /// HTML answers that carry no [`PageCsp`] of their own; `frame-ancestors 'none'` is
    /// added here. `None`, or a policy that cannot be a header, means [`STRICT_CSP`].
    /// `https`: the gateway sits behind https (sends HSTS).
    pub fn new(page_csp: Option<String>, https: bool) -> Self {
        Self {
            page_csp: page_csp.as_deref().and_then(csp_header),
            strict_csp: HeaderValue::from_static(STRICT_CSP),
            https,
        }
    }

    /// Sets every header for `answer`, replacing any value an inner handler or the
    /// upstream set.
    pub fn apply(&self, answer: Answer<'_>, headers: &mut HeaderMap) {
        let csp = match answer {
            Answer::Page(Some(policy)) => policy.clone(),
            Answer::Page(None) | Answer::File | Answer::Service => self.strict_csp.clone(),
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        let fixed: [(HeaderName, &'static str); 4] = [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (HeaderName::from_static("cross-origin-opener-policy"), "same-origin"),
        ];
        for (name, value) in fixed {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let corp = HeaderName::from_static("cross-origin-resource-policy");
        if answer == Answer::Service {
            headers.remove(&corp);
        } else {
            headers.insert(corp, HeaderValue::from_static("same-origin"));
        }
        if self.https {
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
        } else {
            headers.remove(header::STRICT_TRANSPORT_SECURITY);
        }
    }

    /// What an answer is, from the request's path and the response: a service path
    /// ([`is_service_path`]), else an HTML page (by `Content-Type`), else a file.
    pub fn apply_to(&self, request_path: &str, response: &mut Response) {
        let page = PageCsp(self.page_csp.clone());
        let page = response.extensions_mut().remove::<PageCsp>().unwrap_or(page);
        let html =
            response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| {
                v.trim_start().get(..9).is_some_and(|t| t.eq_ignore_ascii_case("text/html"))
            });
        let answer = if is_service_path(request_path) {
            Answer::Service
        } else if html {
            Answer::Page(page.0.as_ref())
        } else {
            Answer::File
        };
        self.apply(answer, response.headers_mut());
    }
}

/// The middleware: `from_fn_with_state(Arc<SecurityHeaders>, layer)`.
pub async fn layer(State(headers): State<Arc<SecurityHeaders>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let mut response = next.run(request).await;
    headers.apply_to(&path, &mut response);
    response
}

/// Paths whose answers are read by pages on other origins: the API, the images, the
/// gateway's own routes (`/gateway/info`, `/gateway/usage`).
pub fn is_service_path(path: &str) -> bool {
    ["/api", "/images", "/gateway"]
        .iter()
        .any(|prefix| path.strip_prefix(prefix).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// `policy` with `frame-ancestors 'none'` added (unless it names frame-ancestors itself),
/// as a header value; `None` if it is empty or has a character a header cannot carry.
pub fn csp_header(policy: &str) -> Option<HeaderValue> {
    let policy = policy.trim().trim_end_matches(';').trim_end();
    if policy.is_empty() {
        return None;
    }
    let names_frame_ancestors = policy.split([';', ',']).any(|directive| {
        directive
            .split_ascii_whitespace()
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case("frame-ancestors"))
    });
    let value =
        if names_frame_ancestors { policy.to_owned() } else { format!("{policy}; frame-ancestors 'none'") };
    if !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return None;
    }
    HeaderValue::from_str(&value).ok()
}

/// The policy of a page's `<meta http-equiv="Content-Security-Policy" content="...">`
/// tags in its `<head>` (several: joined with `, `, which a browser enforces as all of
/// them, as it does the tags). `None` if there is no such tag.
pub fn page_csp(html: &str) -> Option<String> {
    let policies: Vec<String> = head_tags(html)
        .into_iter()
        .filter(|(name, attributes)| {
            *name == "meta"
                && value(attributes, "http-equiv")
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("content-security-policy"))
        })
        .filter_map(|(_, attributes)| value(&attributes, "content").map(|v| v.trim().to_owned()))
        .filter(|policy| !policy.is_empty())
        .collect();
    (!policies.is_empty()).then(|| policies.join(", "))
}

/// The most preloads a page's `Link` header names.
const MAX_PRELOADS: usize = 16;

/// A page's own `<link rel="preload">` tags in its `<head>`, as a `Link` header value
/// (`None`: there are none). Sent with the page, the browser starts them when the headers
/// arrive instead of when its parser reaches the tags: on the slow-phone benchmark the wasm
/// went out about 100 ms earlier. Each keeps what makes the browser reuse it for the tag
/// and for the script's own request: `as`, `type`, `crossorigin` and `integrity`. Only the
/// page's own files (an `href` that is a path from `/`), in plain characters; anything else
/// is left to the tag, as is `modulepreload` (Chromium held the wasm behind a
/// `modulepreload` in the header until the page was parsed).
pub fn page_preloads(html: &str) -> Option<String> {
    let plain = |v: &str, more: &[u8]| {
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || more.contains(&b))
    };
    let links: Vec<String> = head_tags(html)
        .into_iter()
        .filter(|(name, _)| *name == "link")
        .filter_map(|(_, attributes)| {
            let rel = value(&attributes, "rel")?
                .split_ascii_whitespace()
                .find(|rel| rel.eq_ignore_ascii_case("preload"))
                .map(|_| "preload")?;
            let href = value(&attributes, "href")?;
            if !href.starts_with('/') || href.starts_with("//") || !plain(href, b"/-_.~%") {
                return None;
            }
            let mut link = format!("<{href}>; rel={rel}");
            if let Some(kind) = value(&attributes, "as") {
                link += &format!("; as={}", plain(kind, b"").then_some(kind)?);
            }
            if let Some(kind) = value(&attributes, "type") {
                link += &format!("; type=\"{}\"", plain(kind, b"/+-.").then_some(kind)?);
            }
            match value(&attributes, "crossorigin").map(str::trim) {
                None => {}
                Some(mode) if mode.eq_ignore_ascii_case("use-credentials") => {
                    link += "; crossorigin=use-credentials"
                }
                Some(_) => link += "; crossorigin",
            }
            if let Some(hashes) = value(&attributes, "integrity").map(str::trim) {
                link += &format!("; integrity=\"{}\"", plain(hashes, b"+/=- ").then_some(hashes)?);
            }
            Some(link)
        })
        .take(MAX_PRELOADS)
        .collect();
    (!links.is_empty()).then(|| links.join(", "))
}

fn value<'a>(attributes: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    attributes.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The `<meta>` and `<link>` tags of a page's `<head>` (`"meta"` or `"link"`, and their
/// attributes), in order. Comments, scripts and styles are skipped.
fn head_tags(html: &str) -> Vec<(&'static str, Vec<(&str, String)>)> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
        } else if let Some((name, after)) =
            ["meta", "link"].into_iter().find_map(|n| Some((n, tag(rest, n)?)))
        {
            let (attributes, after) = attributes(after);
            tags.push((name, attributes));
            rest = after;
        } else if let Some(raw) = ["script", "style"].into_iter().find(|name| tag(rest, name).is_some()) {
            // Raw text up to the closing tag: a "<meta" in a script is not a tag.
            let close = format!("</{raw}");
            let body = &rest[1..];
            rest = find_ignore_case(body, &close).map_or("", |end| &body[end..]);
        } else if tag(rest, "/head").is_some() || tag(rest, "body").is_some() {
            break;
        } else {
            rest = &rest[1..];
        }
    }
    tags
}

/// After `<name` when `s` starts with that tag (any case), else `None`.
fn tag<'a>(s: &'a str, name: &str) -> Option<&'a str> {
    let after = s.strip_prefix('<')?;
    let head = after.get(..name.len())?;
    let rest = &after[name.len()..];
    let ends = rest.chars().next().is_none_or(|c| c.is_ascii_whitespace() || c == '>' || c == '/');
    (head.eq_ignore_ascii_case(name) && ends).then_some(rest)
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// A tag's attributes (names and decoded values) up to its `>`, and the text after it.
fn attributes(mut s: &str) -> (Vec<(&str, String)>, &str) {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if s.is_empty() {
            return (out, s);
        }
        if let Some(after) = s.strip_prefix('>') {
            return (out, after);
        }
        let end =
            s.find(|c: char| c.is_ascii_whitespace() || matches!(c, '=' | '>' | '/')).unwrap_or(s.len());
        let (name, after) = s.split_at(end.max(1));
        s = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let Some(after) = s.strip_prefix('=') else {
            out.push((name, String::new()));
            continue;
        };
        s = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let (value, after) = match s.chars().next() {
            Some(quote @ ('"' | '\'')) => {
                let inner = &s[1..];
                match inner.find(quote) {
                    Some(end) => (&inner[..end], &inner[end + 1..]),
                    None => (inner, ""),
                }
            }
            _ => {
                let end = s.find(|c: char| c.is_ascii_whitespace() || c == '>').unwrap_or(s.len());
                s.split_at(end)
            }
        };
        out.push((name, decode_entities(value)));
        s = after;
    }
}

/// The character references a policy may hold in an attribute.
fn decode_entities(value: &str) -> String {
    if !value.contains('&') {
        return value.to_owned();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let known = [
            ("&amp;", '&'),
            ("&quot;", '"'),
            ("&#39;", '\''),
            ("&#x27;", '\''),
            ("&apos;", '\''),
            ("&lt;", '<'),
            ("&gt;", '>'),
        ];
        match known.iter().find(|(entity, _)| rest.starts_with(entity)) {
            Some((entity, c)) => {
                out.push(*c);
                rest = &rest[entity.len()..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "default-src 'none'; script-src 'self' 'sha256-abc+/=' 'wasm-unsafe-eval'; connect-src 'self' https://clipcloud.clipai.pro";

    fn page(head: &str) -> String {
        format!("<!doctype html>\n<html lang=\"en\">\n<head>\n  {head}\n  <title>x</title>\n</head>\n<body><meta http-equiv=\"Content-Security-Policy\" content=\"default-src *\"></body></html>")
    }

    #[test]
    fn the_policy_is_read_from_the_meta_tag_in_the_head() {
        let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">");
        assert_eq!(page_csp(&page(&meta)).as_deref(), Some(POLICY));
        // Any case, single quotes, self-closing, other attributes first, entities.
        let meta = "<META charset=utf-8 HTTP-EQUIV='content-security-policy' CONTENT='img-src &apos;self&apos; a&amp;b' />";
        assert_eq!(page_csp(&page(meta)).as_deref(), Some("img-src 'self' a&b"));
        // Two tags: both enforced, as a header with two policies.
        let two = "<meta http-equiv=\"Content-Security-Policy\" content=\"a 'none'\"><meta http-equiv=\"Content-Security-Policy\" content=\"b 'self'\">";
        assert_eq!(page_csp(&page(two)).as_deref(), Some("a 'none', b 'self'"));
        // Not a policy: other http-equiv, a comment, a script's text, a tag in <body>.
        for head in [
            "<meta http-equiv=\"refresh\" content=\"0\">",
            "<!-- <meta http-equiv=\"Content-Security-Policy\" content=\"default-src *\"> -->",
            "<script>const s = '<meta http-equiv=\"Content-Security-Policy\" content=\"default-src *\">';</script>",
            "<metadata http-equiv=\"Content-Security-Policy\" content=\"default-src *\">",
            "<meta http-equiv=\"Content-Security-Policy\" content=\"  \">",
        ] {
            assert_eq!(page_csp(&page(head)), None, "{head}");
        }
        assert_eq!(page_csp(""), None);
        assert_eq!(page_csp("<meta http-equiv=Content-Security-Policy content"), None);
    }

    #[test]
    fn the_page_preloads_become_a_link_header() {
        let wasm = "<link rel=\"preload\" href=\"/a_bg.wasm\" crossorigin=\"anonymous\" integrity=\"sha384-x+/= sha512-y\" as=\"fetch\" type=\"application/wasm\">";
        assert_eq!(
            page_preloads(&page(wasm)).as_deref(),
            Some("</a_bg.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin; integrity=\"sha384-x+/= sha512-y\"")
        );
        let two = "<LINK REL='Preload' HREF='/a.js' crossorigin=use-credentials as=script><link rel=preload href=/i as=fetch>";
        assert_eq!(
            page_preloads(&page(two)).as_deref(),
            Some("</a.js>; rel=preload; as=script; crossorigin=use-credentials, </i>; rel=preload; as=fetch")
        );
        // Left to the tag: not a preload, not the page's own file, not plain characters,
        // in a comment, a script or the body.
        for head in [
            "<link rel=\"stylesheet\" href=\"/a.css\">",
            "<link rel=\"modulepreload\" href=\"/a.js\">",
            "<link rel=\"preload\" href=\"https://cdn.example/a.js\" as=\"script\">",
            "<link rel=\"preload\" href=\"//cdn.example/a.js\" as=\"script\">",
            "<link rel=\"preload\" href=\"a.js\" as=\"script\">",
            "<link rel=\"preload\" href=\"/a>; rel=prefetch\" as=\"script\">",
            "<link rel=\"preload\" href=\"/a,b\">",
            "<link rel=\"preload\" href=\"/a\" as=\"fetch\\r\\nX: y\">",
            "<link rel=\"preload\" href=\"/a\" type='x\"y'>",
            "<link rel=\"preload\" href=\"/a\" integrity=\"sha384-&quot;\">",
            "<!-- <link rel=\"preload\" href=\"/a\"> -->",
            "<script>'<link rel=\"preload\" href=\"/a\">'</script>",
        ] {
            assert_eq!(page_preloads(&page(head)), None, "{head}");
        }
        assert_eq!(page_preloads("<head></head><body><link rel=preload href=/a></body>"), None);
        let many = "<link rel=preload href=/a as=fetch>".repeat(40);
        assert_eq!(page_preloads(&page(&many)).unwrap().matches("</a>").count(), MAX_PRELOADS);
    }

    #[test]
    fn frame_ancestors_is_added_once() {
        let value = csp_header(&format!("{POLICY};")).unwrap();
        assert_eq!(value.to_str().unwrap(), format!("{POLICY}; frame-ancestors 'none'"));
        let own = csp_header("default-src 'self'; Frame-Ancestors https://a.example").unwrap();
        assert_eq!(own.to_str().unwrap(), "default-src 'self'; Frame-Ancestors https://a.example");
        assert_eq!(csp_header(" ; "), None);
        assert_eq!(csp_header("default-src 'self'\r\nX-Evil: 1"), None);
        assert_eq!(csp_header("default-src 'sélf'"), None);
    }

    #[test]
    fn every_answer_gets_the_headers_and_hsts_only_behind_https() {
        let page_policy = csp_header(POLICY).unwrap();
        let corp = "cross-origin-resource-policy";
        for https in [false, true] {
            let headers = SecurityHeaders::new(Some(POLICY.into()), https);
            for answer in
                [Answer::Page(Some(&page_policy)), Answer::Page(None), Answer::File, Answer::Service]
            {
                let mut map = HeaderMap::new();
                map.insert(corp, HeaderValue::from_static("cross-origin"));
                map.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src *"));
                headers.apply(answer, &mut map);
                let get = |name: &str| map.get(name).map(|v| v.to_str().unwrap().to_owned());
                assert_eq!(get("x-content-type-options").as_deref(), Some("nosniff"));
                assert_eq!(get("referrer-policy").as_deref(), Some("no-referrer"));
                assert_eq!(get("x-frame-options").as_deref(), Some("DENY"));
                assert_eq!(get("cross-origin-opener-policy").as_deref(), Some("same-origin"));
                let csp = get("content-security-policy").unwrap();
                if answer == Answer::Page(Some(&page_policy)) {
                    assert!(csp.starts_with(POLICY) && csp.ends_with("; frame-ancestors 'none'"), "{csp}");
                } else {
                    assert_eq!(csp, STRICT_CSP);
                }
                let expected_corp = (answer != Answer::Service).then_some("same-origin");
                assert_eq!(get(corp).as_deref(), expected_corp, "{answer:?}");
                let hsts = https.then_some("max-age=31536000; includeSubDomains");
                assert_eq!(get("strict-transport-security").as_deref(), hsts);
            }
        }
    }

    #[test]
    fn the_kind_of_answer_comes_from_the_path_and_the_content_type() {
        let headers = SecurityHeaders::new(Some("script-src 'self'".into()), false);
        let respond = |path: &str, content_type: &str, extension: Option<PageCsp>| {
            let mut response = Response::new(axum::body::Body::empty());
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
            if let Some(extension) = extension {
                response.extensions_mut().insert(extension);
            }
            headers.apply_to(path, &mut response);
            let csp = response.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
            (csp, response.headers().contains_key("cross-origin-resource-policy"))
        };
        let started = "script-src 'self'; frame-ancestors 'none'".to_owned();
        assert_eq!(respond("/", "text/html; charset=utf-8", None), (started, true));
        let own = PageCsp(Some(HeaderValue::from_static("img-src 'self'; frame-ancestors 'none'")));
        assert_eq!(respond("/history", "TEXT/HTML", Some(own)).0, "img-src 'self'; frame-ancestors 'none'");
        assert_eq!(respond("/x", "text/html", Some(PageCsp(None))).0, STRICT_CSP);
        assert_eq!(respond("/app.js", "text/javascript", None), (STRICT_CSP.into(), true));
        // An HTML answer on a service path is not the app's page.
        assert_eq!(respond("/api/balance", "text/html", None), (STRICT_CSP.into(), false));
        assert_eq!(respond("/images/a.webp", "image/webp", None), (STRICT_CSP.into(), false));
        assert_eq!(respond("/gateway", "application/json", None), (STRICT_CSP.into(), false));
        assert!(respond("/apis", "application/json", None).1);
        assert!(respond("/imagesx/a", "application/json", None).1);
    }
}
