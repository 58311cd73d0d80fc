//! A creation's images: fetched from the upstream's image route for `GET /images/{name}`, so
//! a page can download or keep them whatever CORS the service sends for images. Only plain
//! image names, only `image/*` answers, at most `--max-image-bytes`, streamed (never held
//! whole in memory) and cut off at `--request-timeout`; and a finished check's links to
//! them, named for this gateway's route ([`image_name`]). Of the image host's headers, only the
//! length and the image type (one of the types [`is_image_name`] allows) pass.

use crate::forward::upstream::{Origin, Upstream};
use crate::refusal::Refusal;
use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;
use clipcloud::gateway::IMAGES_PATH;
use http_body_util::{BodyExt, Limited};
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// `<letters, digits, - or _>.<webp|png|jpg|jpeg>`, at most 160 bytes.
pub fn is_image_name(name: &str) -> bool {
    let Some((stem, extension)) = name.rsplit_once('.') else { return false };
    name.len() <= 160
        && !stem.is_empty()
        && stem.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && matches!(extension, "webp" | "png" | "jpg" | "jpeg")
}

/// The image a finished check's link names on the service's image host, if it is a plain
/// image name there; a page fetches it from this gateway's `/images/{name}` instead (whatever
/// CORS the service sends).
pub fn image_name<'a>(link: &'a str, images: &Origin) -> Option<&'a str> {
    link.strip_prefix(&images.url(IMAGES_PATH)).filter(|name| is_image_name(name))
}

/// `GET {IMAGES_PATH}{name}` from `images`: only plain image names, only `image/*` answers,
/// at most `max_bytes`, streamed and cut off after `timeout`.
pub async fn fetch(
    images: &Upstream,
    name: &str,
    method: &Method,
    max_bytes: u64,
    timeout: Duration,
) -> Result<Response, Refusal> {
    if method != Method::GET {
        return Err(Refusal::new(StatusCode::METHOD_NOT_ALLOWED, "images are read with GET"));
    }
    if !is_image_name(name) {
        return Err(Refusal::not_found("no such image"));
    }
    let answer = images
        .send(Method::GET, &[IMAGES_PATH, name].concat(), None)
        .await
        .map_err(|failure| Refusal::new(StatusCode::BAD_GATEWAY, failure.message()))?;
    let (parts, body) = answer.into_parts();
    if parts.status == StatusCode::NOT_FOUND || parts.status == StatusCode::GONE {
        return Err(Refusal::not_found("no such image (the service's image links are temporary)"));
    }
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| image_type(v.to_str().ok()?));
    if !parts.status.is_success() || content_type.is_none() {
        return Err(Refusal::new(StatusCode::BAD_GATEWAY, "the ClipCloud service did not send an image"));
    }
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > max_bytes) {
        return Err(Refusal::new(StatusCode::BAD_GATEWAY, "the image is larger than this gateway relays"));
    }
    let limited = Limited::new(body, usize::try_from(max_bytes).unwrap_or(usize::MAX));
    let bounded = Deadline { inner: limited, sleep: Box::pin(tokio::time::sleep(timeout)) };
    let mut response = Response::new(Body::new(bounded.map_err(axum::Error::new)));
    let headers = response.headers_mut();
    if let Some(content_type) = content_type {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=3600"));
    Ok(response)
}

/// The image type a `Content-Type` names, spelled by this gateway (so nothing else of the
/// header passes); `None` for anything but the types of [`is_image_name`].
fn image_type(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    ["image/webp", "image/png", "image/jpeg"].into_iter().find(|known| known.eq_ignore_ascii_case(essence))
}

/// A body that fails once its time is up, so a slow upstream cannot hold a connection.
struct Deadline<B> {
    inner: B,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

#[derive(Debug)]
struct TimedOut;

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the image did not arrive in time")
    }
}

impl std::error::Error for TimedOut {}

impl<B> HttpBody for Deadline<B>
where
    B: HttpBody + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = B::Data;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err(Box::new(TimedOut))));
        }
        Pin::new(&mut self.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_named_only_on_the_image_host() {
        let images = Origin::parse("http://img.example:81").unwrap();
        assert_eq!(image_name("http://img.example:81/images/ab12.webp", &images), Some("ab12.webp"));
        assert_eq!(image_name("https://elsewhere/images/cd.webp", &images), None);
        assert_eq!(image_name("http://img.example:81/images/../x.webp", &images), None);
        assert_eq!(image_name("http://img.example:810/images/a.webp", &images), None);
    }

    #[test]
    fn only_image_types_pass_and_spelled_here() {
        assert_eq!(image_type("IMAGE/WEBP; x=secret"), Some("image/webp"));
        assert_eq!(image_type("image/jpeg"), Some("image/jpeg"));
        assert_eq!(image_type("image/svg+xml"), None);
        assert_eq!(image_type("text/html"), None);
    }

    #[test]
    fn only_plain_image_names() {
        assert!(is_image_name("0123abcd.webp"));
        assert!(is_image_name("a-b_c.png"));
        for bad in
            ["", ".webp", "a.exe", "a/b.webp", "..%2f.webp", "a..webp", "a.webp.exe", "a b.webp", "a\\b.webp"]
        {
            assert!(!is_image_name(bad), "{bad}");
        }
        assert!(!is_image_name(&format!("{}.webp", "a".repeat(200))));
    }
}
