//! Security headers on every answer the gateway gives: the app's files, the API's answers,
//! the images and the gateway's own refusals.
//!
//! - `Content-Security-Policy`: for a page, the policy of its own
//!   `<meta http-equiv="Content-Security-Policy">` (the build writes it into `index.html`;
//!   the meta tag stays) with `frame-ancestors 'none'` added, which a meta policy cannot
//!   carry. The app's service worker ([`WORKER_PATH`]) gets [`WORKER_CSP`]: it asks its own
//!   origin for the page and the app's files. Anything else gets [`STRICT_CSP`]: a JSON
//!   answer or an image runs nothing.
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

/// The policy of every answer that is not a page (nor the service worker).
pub const STRICT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Where the app registers its service worker (`crates/clipcloud-app/src/device/offline.rs`).
pub const WORKER_PATH: &str = "/sw.js";

/// The service worker's policy: [`STRICT_CSP`] and requests to its own origin. The worker
/// asks the network for the page before its offline copy, and for an app file its cache
/// lacks; WebKit counts even the browser's own Navigation Preload against the worker's
/// `connect-src`. Safe: only the worker's own code runs under it (`script-src` stays
/// `'none'`: no `importScripts`, no `eval`), and its origin is one it already controls;
/// no other origin is reachable from it.
pub const WORKER_CSP: &str = "default-src 'none'; connect-src 'self'; frame-ancestors 'none'";

const HSTS: &str = "max-age=31536000; includeSubDomains";

/// A page's own policy, as a header value, attached by the static files
/// ([`crate::edge::statics::Site`]) to each HTML answer as a response extension: read from the
/// version of the file being served ([`crate::edge::page`]), so a new build in place is served
/// with its own policy. `None`: the page has no policy of its own, and gets [`STRICT_CSP`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageCsp(pub Option<HeaderValue>);

/// What [`SecurityHeaders::apply`] is putting headers on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer<'a> {
    /// An HTML page of the app, with its policy (`None`: the strict default).
    Page(Option<&'a HeaderValue>),
    /// The app's service worker's script.
    Worker,
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
    worker_csp: HeaderValue,
    https: bool,
}

impl SecurityHeaders {
    /// `page_csp`: the app's policy (as [`crate::edge::page::page_csp`] reads it from `dist/index.html`), for
    /// HTML answers that carry no [`PageCsp`] of their own; `frame-ancestors 'none'` is
    /// added here. `None`, or a policy that cannot be a header, means [`STRICT_CSP`].
    /// `https`: the gateway sits behind https (sends HSTS).
    pub fn new(page_csp: Option<String>, https: bool) -> Self {
        Self {
            page_csp: page_csp.as_deref().and_then(csp_header),
            strict_csp: HeaderValue::from_static(STRICT_CSP),
            worker_csp: HeaderValue::from_static(WORKER_CSP),
            https,
        }
    }

    /// Sets every header for `answer`, replacing any value an inner handler or the
    /// upstream set.
    pub fn apply(&self, answer: Answer<'_>, headers: &mut HeaderMap) {
        let csp = match answer {
            Answer::Page(Some(policy)) => policy.clone(),
            Answer::Worker => self.worker_csp.clone(),
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
    /// ([`is_service_path`]), else an HTML page (by `Content-Type`), else the service worker
    /// (JavaScript at [`WORKER_PATH`]: a browser runs a worker's script only as JavaScript),
    /// else a file.
    pub fn apply_to(&self, request_path: &str, response: &mut Response) {
        let page = PageCsp(self.page_csp.clone());
        let page = response.extensions_mut().remove::<PageCsp>().unwrap_or(page);
        let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let is = |kind: &str| {
            content_type.is_some_and(|v| {
                v.trim_start().get(..kind.len()).is_some_and(|t| t.eq_ignore_ascii_case(kind))
            })
        };
        let answer = if is_service_path(request_path) {
            Answer::Service
        } else if is("text/html") {
            Answer::Page(page.0.as_ref())
        } else if request_path == WORKER_PATH && is("text/javascript") {
            Answer::Worker
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

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "default-src 'none'; script-src 'self' 'sha256-abc+/=' 'wasm-unsafe-eval'; connect-src 'self' https://clipcloud.clipai.pro";

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
            for answer in [
                Answer::Page(Some(&page_policy)),
                Answer::Page(None),
                Answer::Worker,
                Answer::File,
                Answer::Service,
            ] {
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
                } else if answer == Answer::Worker {
                    assert_eq!(csp, WORKER_CSP);
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
        // The service worker may ask its own origin, and no other; only its script gets that.
        assert_eq!(respond("/sw.js", "text/javascript; charset=utf-8", None), (WORKER_CSP.into(), true));
        assert_eq!(respond("/sw.js", "application/json", None).0, STRICT_CSP);
        assert_eq!(respond("/lazy/sw.js", "text/javascript", None).0, STRICT_CSP);
        assert!(WORKER_CSP.starts_with("default-src 'none'; connect-src 'self';"));
        assert!(!WORKER_CSP.contains("script-src") && !WORKER_CSP.contains('*'));
        // An HTML answer on a service path is not the app's page.
        assert_eq!(respond("/api/balance", "text/html", None), (STRICT_CSP.into(), false));
        assert_eq!(respond("/images/a.webp", "image/webp", None), (STRICT_CSP.into(), false));
        assert_eq!(respond("/gateway", "application/json", None), (STRICT_CSP.into(), false));
        assert!(respond("/apis", "application/json", None).1);
        assert!(respond("/imagesx/a", "application/json", None).1);
    }
}
