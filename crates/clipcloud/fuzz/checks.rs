// The fuzz checks, shared by the fuzz targets and the native regression test that
// replays the corpus (`crates/clipcloud/tests/fuzz_corpus.rs`). Included with
// `include!`, so it names everything by full path.

/// Any status and any body: every decoder answers a value or a typed error, never a
/// panic, and an error never shows more than a short excerpt of the body (a 120-char
/// excerpt, escaped, and a server message of at most 300 chars: well under 1,000).
/// Values come only from a 2xx answer and keep the API's promises (a plain id, a finite
/// balance, http(s) links); an error status is always an API error with that status.
pub fn check_decode(data: &[u8]) {
    use clipcloud::codec::{self, HttpResponse};
    use clipcloud::{Error, Status};

    let Some((head, body)) = data.split_first_chunk::<3>() else { return };
    let status = u16::from_le_bytes([head[0], head[1]]) % 600;
    let retry_after = (head[2] & 1 == 1).then(|| String::from_utf8_lossy(&body[..body.len().min(32)]).into_owned());
    let response = HttpResponse {
        status,
        retry_after,
        body: String::from_utf8_lossy(body).into_owned(),
        received_unix_secs: u64::from(head[2]) * 1_000_000_000,
    };
    let success = (200..300).contains(&status);
    let created = codec::decode_created(&response);
    let checked = codec::decode_check(&response, "fuzz-id");
    let balance = codec::decode_balance(&response);
    let styles = codec::decode_styles(&response);
    if let Ok(id) = &created {
        assert!(clipcloud::validate::creation_id(id).is_ok(), "an id unfit for a URL: {id:?}");
    }
    if let Ok(Status::Done(done)) = &checked {
        assert!(done.images.iter().all(|url| codec::is_http_url(url)), "{:?}", done.images);
    }
    if let Ok(balance) = &balance {
        assert!(balance.is_finite(), "balance {balance}");
    }
    let oks = [created.is_ok(), checked.is_ok(), balance.is_ok(), styles.is_ok()];
    assert!(success || oks == [false; 4], "a value from HTTP {status}");
    let errors = [created.err(), checked.err(), balance.err(), styles.err()];
    for error in errors.into_iter().flatten() {
        let text = error.to_string();
        assert!(text.chars().count() < 1_000, "error text too long: {} chars: {text}", text.chars().count());
        assert_eq!(error.status(), Some(status), "{error:?}");
        assert!(!error.may_have_started(), "a decoder cannot know that: {error:?}");
        assert!(success || matches!(error, Error::Api { .. }), "HTTP {status} read as {error:?}");
        if let Some(message) = error.api_message() {
            assert!(message.chars().count() <= 300, "a server message of {} chars", message.chars().count());
        }
    }
}

const FUZZ_ENDPOINT: clipcloud::codec::Endpoint<'static> =
    clipcloud::codec::Endpoint { base_url: "http://fuzz.test", api_key: Some("k") };

/// Any JSON a caller might pass as a request: validation answers Ok or a typed error
/// with a message, never a panic; accepted requests build a body that is JSON.
pub fn check_validate(data: &[u8]) {
    use clipcloud::{validate, AdvancedRequest, CreateRequest, Style, StyleRequest};

    let known = [Style { name: "standard".into(), ..Style::default() }];
    let requests: [Option<CreateRequest>; 2] = [
        serde_json::from_slice::<StyleRequest>(data).ok().map(Into::into),
        serde_json::from_slice::<AdvancedRequest>(data).ok().map(Into::into),
    ];
    for request in requests.into_iter().flatten() {
        for styles in [None, Some(&known[..])] {
            let broken = broken_fields(&request, styles);
            match validate::create(&request, styles) {
                Ok(()) => {
                    assert!(broken.is_empty(), "accepted although {broken:?} break the rules: {request:?}");
                    let body = FUZZ_ENDPOINT.create(&request).body.unwrap_or_default();
                    assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok(), "{body}");
                }
                Err(e) => {
                    assert!(!e.message.is_empty());
                    // `extra` has rules of its own (JSON values, no named fields) not restated here.
                    let field = e.field;
                    assert!(
                        broken.contains(&field) || field == clipcloud::Field::Extra,
                        "refused for {field:?}, which is fine: {request:?}"
                    );
                }
            }
        }
    }
    if let Ok(id) = std::str::from_utf8(data) {
        if validate::creation_id(id).is_ok() {
            // An accepted id stays inside the path.
            let url = FUZZ_ENDPOINT.check(id).url;
            assert!(url.starts_with("http://fuzz.test/api/creation/") && url.matches('?').count() == 1, "{url}");
        }
    }
}

/// The rules of docs/api.md, restated on their own: the fields of `request` that break one.
fn broken_fields(
    request: &clipcloud::CreateRequest,
    styles: Option<&[clipcloud::Style]>,
) -> Vec<clipcloud::Field> {
    use clipcloud::{CreateRequest, Field};
    let mut broken = Vec::new();
    let mut rule = |field, ok: bool| {
        if !ok {
            broken.push(field);
        }
    };
    let within = |v: Option<u32>, lo: u32, hi: u32| v.is_none_or(|v| (lo..=hi).contains(&v));
    let side = |v: Option<u32>| within(v, 256, 2048) && v.is_none_or(|v| v % 8 == 0);
    match request {
        CreateRequest::ByStyle(r) => {
            rule(Field::Prompt, !r.prompt.trim().is_empty());
            let name = r.style_name.as_str();
            let listed = styles.is_none_or(|s| s.is_empty() || s.iter().any(|s| s.name == name));
            rule(Field::Style, !name.trim().is_empty() && listed);
            rule(Field::Count, within(r.count, 1, 4));
        }
        CreateRequest::Advanced(r) => {
            rule(Field::Prompt, !r.prompt.trim().is_empty());
            rule(Field::Count, within(r.count, 1, 4));
            rule(Field::Width, side(r.width));
            rule(Field::Height, side(r.height));
            rule(Field::Quality, within(r.quality, 1, 100));
            rule(Field::Steps, within(r.steps, 1, 150));
        }
    }
    broken
}
