//! The API read from the other side, for servers that receive its calls (the emulator, the
//! gateway): a create's body back into the core's request types. Native only: the browser
//! builds never receive a create.

use crate::codec::{self, HttpResponse};
use crate::error::Error;
use crate::model::{AdvancedRequest, CreateRequest, StyleRequest};
use serde_json::Value;

/// What an answer to a create says about the creation, for whoever keeps accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateOutcome {
    /// Started, with this id.
    Accepted(String),
    /// Surely not started: a refusal (a 4xx, a `success: false`, or a 503 that names a
    /// time to come back).
    Refused,
    /// A server error or an unreadable answer: it may have started (and be charged).
    Unknown,
}

/// The same reading the client's `Operation` gives a create's answer.
pub fn create_outcome(response: &HttpResponse) -> CreateOutcome {
    match codec::decode_created(response) {
        Ok(id) => CreateOutcome::Accepted(id),
        Err(Error::Api { status: 500..=599, retry_after: None, .. } | Error::BadResponse { .. }) => {
            CreateOutcome::Unknown
        }
        Err(Error::Api { .. }) => CreateOutcome::Refused,
        Err(_) => CreateOutcome::Unknown,
    }
}

/// A create's JSON body: by style when `styleName` is present, else advanced (unknown
/// fields become its `extra`). `Err` is a message for a 400 answer. Not validated: run
/// [`crate::validate::create`] on the result.
pub fn decode_create_body(body: &[u8]) -> Result<CreateRequest, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Object(object) = &value else {
        return Err("the request body must be a JSON object".into());
    };
    match object.get("prompt") {
        Some(Value::String(_)) => {}
        None | Some(Value::Null) => return Err("prompt is required".into()),
        Some(_) => return Err("prompt must be a string".into()),
    }
    if object.contains_key("styleName") {
        from_value::<StyleRequest>(value).map(CreateRequest::ByStyle)
    } else {
        from_value::<AdvancedRequest>(value).map(CreateRequest::Advanced)
    }
}

fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_json::from_value(value).map_err(|e| format!("bad field: {e}"))
}

/// How many images a create asks for: [`CreateRequest::image_count`].
pub fn image_count(request: &CreateRequest) -> u32 {
    request.image_count()
}

/// The style a create names, if it is by style: [`CreateRequest::style_name`].
pub fn style_name(request: &CreateRequest) -> Option<&str> {
    request.style_name()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_outcomes() {
        let answer = |status, body: &str, retry_after: Option<&str>| HttpResponse {
            status,
            retry_after: retry_after.map(str::to_owned),
            body: body.to_owned(),
            received_unix_secs: 0,
        };
        let ok = answer(200, r#"{"success":true,"creation_id":"ab-1"}"#, None);
        assert_eq!(create_outcome(&ok), CreateOutcome::Accepted("ab-1".into()));
        for refused in [
            answer(402, r#"{"success":false,"message":"balance"}"#, None),
            answer(429, "", Some("3")),
            answer(400, "<html>", None),
            answer(503, "", Some("5")),
            answer(200, r#"{"success":false,"message":"no"}"#, None),
        ] {
            assert_eq!(create_outcome(&refused), CreateOutcome::Refused, "{refused:?}");
        }
        for unknown in [answer(500, "", None), answer(503, "", None), answer(200, "<html>", None)] {
            assert_eq!(create_outcome(&unknown), CreateOutcome::Unknown, "{unknown:?}");
        }
    }

    #[test]
    fn by_style_or_advanced() {
        let by_style = decode_create_body(br#"{"prompt":"a","styleName":"standard","count":2}"#).unwrap();
        assert_eq!((image_count(&by_style), style_name(&by_style)), (2, Some("standard")));
        let advanced = decode_create_body(br#"{"prompt":"a","width":512,"sampler":"euler"}"#).unwrap();
        assert_eq!((image_count(&advanced), style_name(&advanced)), (1, None));
        let CreateRequest::Advanced(advanced) = advanced else { panic!("advanced") };
        assert_eq!(advanced.extra.iter().collect::<Vec<_>>(), [("sampler", "\"euler\"")]);
        for (body, needle) in [
            ("{", "malformed JSON"),
            ("[]", "JSON object"),
            ("{}", "prompt is required"),
            (r#"{"prompt":1}"#, "must be a string"),
            (r#"{"prompt":"a","styleName":"s","count":"x"}"#, "bad field"),
        ] {
            let err = decode_create_body(body.as_bytes()).unwrap_err();
            assert!(err.contains(needle), "{body}: {err}");
        }
    }
}
