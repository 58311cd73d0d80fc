//! The fault-injection middleware: picks a fault for a request (forced by the header or
//! the query, else drawn from the key's plan) and answers with it instead of the endpoint.

use crate::error::ApiError;
use crate::faults::{Fault, FaultBook, HEADER, QUERY_PARAM};
use crate::ledger::Ledger;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::pin::Pin;
use std::task::{Context, Poll};

fn forced(request: &Request) -> Option<Fault> {
    let from_header = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let from_query = request.uri().query().and_then(|q| {
        q.split('&').find_map(|pair| {
            pair.strip_prefix(QUERY_PARAM).and_then(|v| v.strip_prefix('=')).map(str::to_owned)
        })
    });
    from_header.or(from_query).and_then(|name| Fault::parse(&name).ok())
}

/// The API key in a request's query (`apikey=`), as the client sent it.
pub(crate) fn api_key(request: &Request) -> Option<String> {
    request.uri().query()?.split('&').find_map(|pair| pair.strip_prefix("apikey=").map(str::to_owned))
}

/// What the middleware needs: the plans and counts, and whose key and image is whose.
#[derive(Clone, Debug)]
pub struct Injector {
    pub faults: FaultBook,
    pub ledger: Ledger,
}

/// The middleware: answers with a fault instead of the endpoint, now and then.
pub async fn layer(State(injector): State<Injector>, request: Request, next: Next) -> Response {
    let Injector { faults, ledger } = injector;
    let path = request.uri().path().to_owned();
    // Whose plan: the key in the URL, or for an image, the key that created it.
    let owner = api_key(&request).or_else(|| ledger.image_owner(&path));
    let plan = faults.plan(owner.as_deref());
    let fault = forced(&request).or_else(|| {
        let (random, which) = faults.random_draw();
        plan.pick(&path, random, which)
    });
    let Some(fault) = fault else { return next.run(request).await };
    faults.count(owner.as_deref().filter(|key| ledger.knows(key)), fault);
    if fault == Fault::Slow {
        // Real time, whatever the clock: a slow answer is about the network.
        tokio::time::sleep(plan.slow).await;
        return next.run(request).await;
    }
    respond(fault)
}

const TRUNCATED_JSON: &str = r#"{"success":true,"message":"In progr"#;
const HTML_PAGE: &str = "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\
<body><h1>Bad Gateway</h1><p>The upstream server did not answer in time.</p></body></html>\n";

fn error_json(status: StatusCode, message: &str, retry_after: Option<u64>) -> Response {
    let mut error = ApiError::new(status, message);
    error.retry_after = retry_after;
    error.into_response()
}

fn respond(fault: Fault) -> Response {
    match fault {
        Fault::Status(503) => {
            error_json(StatusCode::SERVICE_UNAVAILABLE, "service busy (injected fault)", Some(1))
        }
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error_json(status, "server trouble (injected fault)", None)
        }
        Fault::RateLimited => ApiError::too_many_requests(1).into_response(),
        Fault::ExpiredImage => {
            error_json(StatusCode::NOT_FOUND, "this image link has expired (injected fault)", None)
        }
        Fault::Truncated => ([(header::CONTENT_TYPE, "application/json")], TRUNCATED_JSON).into_response(),
        Fault::HtmlPage => ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], HTML_PAGE).into_response(),
        Fault::WrongContentType => {
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Service temporarily unavailable")
                .into_response()
        }
        Fault::Drop | Fault::Slow => {
            let mut response = Response::new(Body::new(BrokenBody));
            response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
    }
}

/// A body that fails at once: the server closes the connection instead of answering.
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "injected fault: drop",
        ))))
    }
}
