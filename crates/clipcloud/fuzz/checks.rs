// The fuzz checks, shared by the fuzz targets and the native regression test that
// replays the corpus (`crates/clipcloud/tests/fuzz_corpus.rs`). Included with
// `include!`, so it names everything by full path.

/// Any status and any body: every decoder answers a value or a typed error, never a
/// panic, and an error never shows more than a short excerpt of the body (a 120-char
/// excerpt, escaped, and a server message of at most 300 chars: well under 1,000).
pub fn check_decode(data: &[u8]) {
    use clipcloud::codec::{self, HttpResponse};

    let Some((head, body)) = data.split_first_chunk::<3>() else { return };
    let status = u16::from_le_bytes([head[0], head[1]]) % 600;
    let retry_after = (head[2] & 1 == 1).then(|| String::from_utf8_lossy(&body[..body.len().min(32)]).into_owned());
    let response = HttpResponse {
        status,
        retry_after,
        body: String::from_utf8_lossy(body).into_owned(),
        received_unix_secs: u64::from(head[2]) * 1_000_000_000,
    };
    let errors = [
        codec::decode_created(&response).err(),
        codec::decode_check(&response, "fuzz-id").err(),
        codec::decode_balance(&response).err(),
        codec::decode_styles(&response).err(),
    ];
    for error in errors.into_iter().flatten() {
        let text = error.to_string();
        assert!(text.chars().count() < 1_000, "error text too long: {} chars: {text}", text.chars().count());
        let _ = error.code();
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
            match validate::create(&request, styles) {
                Ok(()) => {
                    let body = FUZZ_ENDPOINT.create(&request).body.unwrap_or_default();
                    assert!(serde_json::from_str::<serde_json::Value>(&body).is_ok(), "{body}");
                }
                Err(e) => assert!(!e.message.is_empty()),
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
