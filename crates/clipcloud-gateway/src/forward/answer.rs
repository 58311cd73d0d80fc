//! The answer for the caller, rebuilt from what the service said: its body is read as the
//! core reads the call's answer, and a new body is written from the fields the API defines
//! (a creation's id; a check's state, images, cost and censored count; a balance; the
//! styles; an error's status and message), so nothing else of the service's body reaches
//! the caller. The text that does pass (a message, a style's name) has every secret and the
//! upstream's address redacted ([`Secrets`]); a finished check's image links are moved to
//! this gateway. Of the service's headers only `Retry-After` passes, as a number of seconds.

use crate::forward::call::{ApiRequest, Call};
use crate::forward::images::image_name;
use crate::forward::scrub::Secrets;
use crate::forward::upstream::{Answer, Failure, Origin};
use crate::refusal::Refusal;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clipcloud::codec::{self, HttpResponse};
use clipcloud::gateway::IMAGES_PATH;
use clipcloud::model::wire::{
    Amount, BalanceBody, CheckBody, CreatedBody, StyleEntry, StylesBody, MESSAGE_DONE, MESSAGE_IN_PROGRESS,
};
use clipcloud::{Error, Status, Style};
use serde::Serialize;

/// What the service's answer is read against: the call it answers, what to redact from it,
/// and the image host whose links move to this gateway.
pub struct Reading<'a> {
    pub call: &'a Call<'a>,
    pub secrets: &'a Secrets,
    pub images: &'a Origin,
}

/// The answer for the caller, rebuilt from what came from upstream; and the service's
/// answer as the core reads it (its own status and body, secrets redacted), for settling.
pub fn respond(
    reading: &Reading<'_>,
    answer: &Result<Answer, Failure>,
) -> Result<(Response, HttpResponse), Refusal> {
    let answer = answer.as_ref().map_err(|&failure| {
        let refusal = Refusal::new(
            match failure {
                // Surely not sent: a 503 with a time to come back tells the client so.
                Failure::Unreachable => StatusCode::SERVICE_UNAVAILABLE,
                Failure::Timeout => StatusCode::GATEWAY_TIMEOUT,
                Failure::Broken => StatusCode::BAD_GATEWAY,
            },
            failure.message(),
        );
        if failure == Failure::Unreachable {
            refusal.retry_after(5)
        } else {
            refusal
        }
    })?;
    let received = HttpResponse {
        status: answer.status.as_u16(),
        retry_after: answer.retry_after.as_ref().and_then(|v| v.to_str().ok()).map(str::to_owned),
        body: String::from_utf8_lossy(&answer.body).into_owned(),
        received_unix_secs: crate::clock::unix_now(),
    };
    let response = match rebuild(reading, &received) {
        Ok(body) => {
            let mut response = (answer.status, body).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(refusal) => refusal.into_response(),
    };
    let read_back = HttpResponse {
        body: reading.secrets.redact(&received.body),
        retry_after: received.retry_after.filter(|v| !reading.secrets.found_in(v)),
        ..received
    };
    Ok((response, read_back))
}

/// The body for the caller of a successful answer, or the refusal an error becomes.
fn rebuild(reading: &Reading<'_>, received: &HttpResponse) -> Result<Vec<u8>, Refusal> {
    let status = StatusCode::from_u16(received.status).unwrap_or(StatusCode::BAD_GATEWAY);
    if !(status.is_success() || status.is_client_error() || status.is_server_error()) {
        // A redirect (or anything else) would send the caller elsewhere: not the API's answer.
        return Err(Refusal::new(
            StatusCode::BAD_GATEWAY,
            format!(
                "the ClipCloud service answered HTTP {}, which is not an answer of its API",
                status.as_u16()
            ),
        ));
    }
    let secrets = reading.secrets;
    let cannot_read = || {
        // What the service said cannot be read: it may have acted on the request.
        Refusal::new(StatusCode::BAD_GATEWAY, "the ClipCloud service sent an answer this gateway cannot read")
    };
    let decoded = match &reading.call.request {
        // An id that holds a secret cannot be passed on, and nothing else names the creation.
        ApiRequest::Create(_) => codec::decode_created(received).map(|id| {
            (!secrets.found_in(&id)).then(|| json(&CreatedBody { success: true, creation_id: id }))
        }),
        ApiRequest::Check(id) => {
            codec::decode_check(received, id).map(|status| Some(json(&check_body(reading, id, status))))
        }
        ApiRequest::Balance => codec::decode_balance(received)
            .map(|balance| Some(json(&BalanceBody { success: true, balance: Amount::Number(balance) }))),
        ApiRequest::Styles => codec::decode_styles(received).map(|styles| {
            let styles =
                styles.into_iter().map(|style| StyleEntry::Full(redact_style(secrets, style))).collect();
            Some(json(&StylesBody::Wrapped { success: true, styles }))
        }),
    };
    match decoded {
        Ok(Some(body)) => Ok(body),
        Err(Error::Api { status: code, message, retry_after, .. }) => {
            let refusal =
                Refusal::new(StatusCode::from_u16(code).unwrap_or(status), secrets.redact(&message));
            Err(match retry_after {
                Some(wait) => refusal.retry_after(wait.as_secs()),
                None => refusal,
            })
        }
        Ok(None) | Err(_) => Err(cannot_read()),
    }
}

/// A check's answer from its meaning: the creation asked about, in progress or finished
/// with its images (those on the service's image host moved to this gateway).
fn check_body(reading: &Reading<'_>, id: &str, status: Status) -> CheckBody {
    let mut body = CheckBody {
        success: true,
        message: Some(MESSAGE_IN_PROGRESS.to_owned()),
        creation_id: Some(id.to_owned()),
        cost: None,
        censored: None,
        results: None,
    };
    if let Status::Done(finished) = status {
        // Without the gateway's own origin (no `Host`), the path alone.
        let own = reading.call.own_origin.as_deref().unwrap_or_default();
        let links = finished.images.iter().map(|link| match image_name(link, reading.images) {
            Some(name) if !reading.secrets.found_in(name) => [own, IMAGES_PATH, name].concat(),
            _ => reading.secrets.redact(link),
        });
        body.message = Some(MESSAGE_DONE.to_owned());
        body.cost = Some(finished.cost);
        body.censored = Some(finished.censored);
        body.results = Some(links.collect());
    }
    body
}

fn redact_style(secrets: &Secrets, style: Style) -> Style {
    Style {
        name: secrets.redact(&style.name),
        description: style.description.map(|text| secrets.redact(&text)),
        ..style
    }
}

fn json(body: &impl Serialize) -> Vec<u8> {
    // The wire types are plain data: serializing them cannot fail.
    serde_json::to_vec(body).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "Sk-Live-0123456789abcdef";

    fn answer(status: u16, body: &str) -> Result<Answer, Failure> {
        Ok(Answer {
            status: StatusCode::from_u16(status).unwrap(),
            content_type: None,
            retry_after: Some(HeaderValue::from_static("7")),
            body: body.as_bytes().to_vec(),
        })
    }

    fn read(request: ApiRequest<'_>, status: u16, body: &str) -> (u16, String, Option<String>) {
        let images = Origin::parse("http://user:hunter22@up.example:81").unwrap();
        let secrets = Secrets::of_upstream(&[&images]).with_key(KEY);
        let call = Call {
            request,
            given_key: None,
            own_origin: Some("https://gw.example".into()),
            wait: None,
            network: String::new(),
        };
        let reading = Reading { call: &call, secrets: &secrets, images: &images };
        let (response, _) = respond(&reading, &answer(status, body)).unwrap();
        let retry_after = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
        let status = response.status().as_u16();
        let body = body_text(response);
        (status, body, retry_after)
    }

    fn body_text(response: Response) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes =
            runtime.block_on(http_body_util::BodyExt::collect(response.into_body())).unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn only_the_fields_the_api_defines_pass() {
        let created = read(
            ApiRequest::Create(clipcloud::StyleRequest::new("a", "standard").into()),
            200,
            &format!(r#"{{"success":true,"creation_id":"ab-1","echo":"{KEY}","upstream":"up.example:81"}}"#),
        );
        assert_eq!(created, (200, r#"{"success":true,"creation_id":"ab-1"}"#.into(), None));
        let done = read(
            ApiRequest::Check("ab-1"),
            200,
            r#"{"success":true,"message":"Sk-Live-0123","creation_id":"other","cost":2.2,"censored":0,"results":["http://up.example:81/images/a1.webp","https://cdn.example/x.webp?k=Sk-Live-0123456"],"x":1}"#,
        );
        assert_eq!(
            done.1,
            r#"{"success":true,"message":"Images processed succesfully","creation_id":"ab-1","cost":2.2,"censored":0,"results":["https://gw.example/images/a1.webp","https://cdn.example/x.webp?k=[redacted]"]}"#
        );
        let running = read(ApiRequest::Check("ab-1"), 200, r#"{"success":true,"message":"hi up.example"}"#);
        assert_eq!(running.1, r#"{"success":true,"message":"In progress","creation_id":"ab-1"}"#);
        let balance = read(ApiRequest::Balance, 200, r#"{"success":true,"balance":"12.5","key":"x"}"#);
        assert_eq!(balance.1, r#"{"success":true,"balance":12.5}"#);
        let styles = read(
            ApiRequest::Styles,
            200,
            r#"["standard",{"name":"anime","description":"by hunter22","extra":1}]"#,
        );
        assert_eq!(
            styles.1,
            r#"{"success":true,"styles":[{"name":"standard"},{"name":"anime","description":"by [redacted]"}]}"#
        );
    }

    #[test]
    fn errors_keep_status_and_message_and_redirects_become_502() {
        let escaped: String = KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
        let (status, body, retry_after) = read(
            ApiRequest::Balance,
            429,
            &format!(r#"{{"success":false,"message":"slow down, {escaped}"}}"#),
        );
        assert_eq!((status, retry_after.as_deref()), (429, Some("7")));
        assert_eq!(body, r#"{"success":false,"message":"slow down, [redacted]"}"#);
        let (status, body, retry_after) = read(ApiRequest::Balance, 302, "");
        assert_eq!((status, retry_after), (502, None));
        assert!(
            body.starts_with(r#"{"success":false,"message":"the ClipCloud service answered HTTP 302"#),
            "{body}"
        );
        let (status, _, _) = read(ApiRequest::Balance, 200, "<html>");
        assert_eq!(status, 502);
        let (status, body, _) = read(ApiRequest::Balance, 500, "<html>up.example</html>");
        assert_eq!((status, body.contains("up.example")), (500, false));
        let (status, _, _) = read(
            ApiRequest::Create(clipcloud::StyleRequest::new("a", "standard").into()),
            200,
            &format!(r#"{{"success":true,"creation_id":"{}"}}"#, &KEY[8..]),
        );
        assert_eq!(status, 502, "an id that is a secret is not passed on");
    }
}
