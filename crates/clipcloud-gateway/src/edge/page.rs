//! A page's own headers, read from its `<head>`: the policy of its
//! `<meta http-equiv="Content-Security-Policy">` (the build writes it into `index.html`; a
//! header can add what a meta policy cannot carry) and its `<link rel="preload">` tags as a
//! `Link` header. The static files read them once per version of a page ([`PageHeaders`],
//! kept beside the page's bytes), not on every request.

use crate::edge::headers::csp_header;
use axum::http::HeaderValue;

/// What a page's `<head>` asks of its answer's headers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PageHeaders {
    /// Its policy as a `Content-Security-Policy` value ([`csp_header`]); `None`: the page
    /// has none of its own.
    pub csp: Option<HeaderValue>,
    /// Its preloads as a `Link` value ([`page_preloads`]).
    pub preloads: Option<HeaderValue>,
}

impl PageHeaders {
    /// Reads them from the page's text.
    pub fn read(html: &str) -> Self {
        Self {
            csp: page_csp(html).as_deref().and_then(csp_header),
            preloads: page_preloads(html).and_then(|link| HeaderValue::from_str(&link).ok()),
        }
    }
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
    fn the_headers_are_ready_to_send() {
        let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{POLICY}\">");
        let preload = "<link rel=preload href=/a.wasm as=fetch>";
        let read = PageHeaders::read(&page(&format!("{meta}{preload}")));
        assert_eq!(read.csp, csp_header(POLICY));
        assert_eq!(read.preloads.unwrap(), "</a.wasm>; rel=preload; as=fetch");
        assert_eq!(PageHeaders::read(&page("")), PageHeaders::default());
    }
}
