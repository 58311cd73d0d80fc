//! The forward layer: the one service the gateway talks to. An API call goes upstream with
//! the key the mode chose, rebuilt by the core ([`call`]); its answer comes back whole and
//! bounded, and is rebuilt from its meaning with every secret redacted ([`answer`],
//! [`scrub`]); a check may be held until the creation is ready
//! ([`hold`]); images are streamed from the service's image host ([`images`]), all over one
//! bounded HTTP client ([`upstream`]). Both modes forward through here; nothing here knows
//! which mode it serves.

pub mod answer;
pub mod call;
pub mod hold;
pub mod images;
pub mod scrub;
pub mod upstream;

use crate::refusal::Refusal;
use answer::Reading;
use axum::http::{HeaderValue, Method};
use axum::response::Response;
use call::{ApiRequest, Call};
use clipcloud::codec::{HttpRequest, HttpResponse};
use hold::Holds;
use scrub::Secrets;
use std::time::{Duration, Instant};
use upstream::{Answer, Failure, Upstream};

/// What forwarding needs: the service, its image host, the held checks and the bounds on
/// an image.
pub struct Forwarder {
    pub upstream: Upstream,
    /// Where `/images/...` comes from.
    pub images: Upstream,
    /// Held checks and their upstream pollers.
    pub holds: Holds,
    /// The most an image may weigh (`--max-image-bytes`).
    pub max_image_bytes: u64,
    /// How long an image may take to arrive (`--request-timeout`).
    pub image_timeout: Duration,
    /// The upstreams' credentials and addresses, never shown to a caller.
    pub secrets: Secrets,
}

impl Forwarder {
    /// `call` sent upstream with `key`: a check held when it asks (and there is room), a
    /// create remembered for the held checks of the creation it starts.
    pub async fn call(&self, call: &Call<'_>, key: &str) -> Result<(Response, HttpResponse), Refusal> {
        match &call.request {
            ApiRequest::Check(id) => self.check(call, id, key).await,
            ApiRequest::Create(request) => {
                // The creation's start as its held checks time it: when the create leaves.
                let sent = Instant::now();
                let forwarded = self.forward(call, key).await;
                if let Ok((_, answer)) = &forwarded {
                    self.holds.created(request, answer, sent);
                }
                forwarded
            }
            _ => self.forward(call, key).await,
        }
    }

    /// Sends `call` upstream with `key`; the answer rebuilt for the caller, and as the core
    /// reads it.
    pub async fn forward(&self, call: &Call<'_>, key: &str) -> Result<(Response, HttpResponse), Refusal> {
        let answer = self.send(&call.request.upstream(key)).await;
        self.respond(call, key, &answer)
    }

    /// Sends `request` upstream: the whole answer, or why none came.
    pub async fn send(&self, request: &HttpRequest) -> Result<Answer, Failure> {
        let method = Method::from_bytes(request.method.as_str().as_bytes()).unwrap_or(Method::GET);
        let body = request.body.clone().map(String::into_bytes);
        self.upstream.call(method, &request.url, body).await
    }

    fn respond(
        &self,
        call: &Call<'_>,
        key: &str,
        answer: &Result<Answer, Failure>,
    ) -> Result<(Response, HttpResponse), Refusal> {
        let secrets = self.secrets.with_key(key);
        answer::respond(&Reading { call, secrets: &secrets, images: self.images.origin() }, answer)
    }

    /// A check, held when it asks (`call.wait`) and there is room; else relayed at once.
    pub async fn check(
        &self,
        call: &Call<'_>,
        id: &str,
        key: &str,
    ) -> Result<(Response, HttpResponse), Refusal> {
        let held = match call.wait {
            Some(wait) => {
                let held = self.holds.wait(&self.upstream, id, key, wait, &call.network).await;
                held.map(|answer| (wait, answer))
            }
            None => None,
        };
        // Not held (not asked, at the caps, or nothing from upstream yet): relayed at once.
        let Some((wait, answer)) = held else {
            return self.forward(call, key).await;
        };
        let (mut response, read) = self.respond(call, key, &answer)?;
        if let Ok(value) = HeaderValue::from_str(&clipcloud::hold::applied(wait)) {
            response.headers_mut().insert(clipcloud::hold::PREFERENCE_APPLIED, value);
        }
        Ok((response, read))
    }

    /// The image `name` from the service's image host, streamed within this gateway's
    /// bounds (see [`images::fetch`]).
    pub async fn image(&self, name: &str, method: &Method) -> Result<Response, Refusal> {
        images::fetch(&self.images, name, method, self.max_image_bytes, self.image_timeout).await
    }
}
