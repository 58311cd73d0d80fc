//! Which pages may call the API from a browser: the gateway's own origin
//! ([`crate::edge::public_url`]), and the exact origins the operator listed (`*` in relay
//! mode only). A browser names the calling page in `Origin`; a request without one is
//! same-origin or not from a browser at all.

use crate::refusal::Refusal;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// What a request's `Origin` allows, given the gateway's `own` origin:
/// `Ok(Some(value))` to echo in `Access-Control-Allow-Origin`, `Ok(None)` for same-origin
/// or non-browser callers.
pub fn check(
    headers: &HeaderMap,
    own: Option<&str>,
    allowed: &[String],
) -> Result<Option<HeaderValue>, Refusal> {
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(None) };
    let text = origin.to_str().unwrap_or_default();
    if own.is_some_and(|own| own.eq_ignore_ascii_case(text)) {
        return Ok(None);
    }
    if allowed.iter().any(|a| a == "*" || a.eq_ignore_ascii_case(text)) {
        return Ok(Some(origin.clone()));
    }
    let shown: String = text.chars().take(80).collect();
    Err(Refusal::new(
        StatusCode::FORBIDDEN,
        format!("pages from {shown} may not use this gateway (its operator lists the sites allowed)"),
    ))
}

/// The CORS headers of an answer to an allowed cross-origin page.
pub fn allow(response: &mut Response, origin: Option<HeaderValue>) {
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("origin"));
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            // The request's id too, for a page that reports a failure.
            HeaderValue::from_static("retry-after, preference-applied, x-request-id"),
        );
    }
}

/// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`).
pub fn preflight(origin: Option<HeaderValue>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, authorization, prefer"),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    allow(&mut response, origin);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: Option<&str> = Some("https://gw.example");

    fn headers(origin: Option<&'static str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(origin) = origin {
            h.insert(header::ORIGIN, HeaderValue::from_static(origin));
        }
        h
    }

    #[test]
    fn own_and_listed_origins_only() {
        let allowed = vec!["https://blog.example".to_owned()];
        assert_eq!(check(&headers(None), OWN, &allowed).unwrap(), None);
        assert_eq!(check(&headers(Some("https://gw.example")), OWN, &allowed).unwrap(), None);
        assert_eq!(
            check(&headers(Some("https://blog.example")), OWN, &allowed).unwrap().unwrap(),
            "https://blog.example"
        );
        let refused = check(&headers(Some("https://evil.example")), OWN, &allowed).unwrap_err();
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        // The scheme counts: http on an https gateway is another origin.
        assert!(check(&headers(Some("http://gw.example")), OWN, &allowed).is_err());
        assert!(check(&headers(Some("https://gw.example")), None, &allowed).is_err(), "own origin unknown");
        assert!(check(&headers(Some("null")), OWN, &allowed).is_err());
        assert!(check(&headers(Some("https://any.example")), OWN, &["*".to_owned()]).unwrap().is_some());
    }
}
