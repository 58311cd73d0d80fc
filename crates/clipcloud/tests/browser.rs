//! The real client, in a real browser, against the real emulator over HTTP.
//!
//! `cargo xtask test` starts the emulator and passes its address at compile time in
//! `CLIPCLOUD_EMULATOR_URL`; it runs these in headless Chromium and Firefox.
#![cfg(target_arch = "wasm32")]

use clipcloud::{Client, Config, ErrorCode, Status, StyleRequest};
use gloo_net::http::Request;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

const EMULATOR: &str = match option_env!("CLIPCLOUD_EMULATOR_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:8787",
};

/// A fresh key per test, so that balances do not depend on test order.
async fn fresh_key(balance: f64) -> String {
    mint_key(&format!(r#"{{"balance":{balance}}}"#)).await
}

/// A key minted with these settings (`POST /emulator/keys`).
async fn mint_key(settings: &str) -> String {
    let response = Request::post(&format!("{EMULATOR}/emulator/keys"))
        .header("Content-Type", "application/json")
        .body(settings.to_owned())
        .expect("request builds")
        .send()
        .await
        .expect("the emulator is running (start it with `cargo xtask test`)");
    let text = response.text().await.expect("a body from the emulator");
    let body: serde_json::Value = serde_json::from_str(&text).expect("JSON from the emulator");
    body["apikey"].as_str().expect("an apikey field").to_owned()
}

async fn client(balance: f64) -> Client<clipcloud::fetch::FetchTransport> {
    Client::new(Config::new(fresh_key(balance).await).base_url(EMULATOR)).expect("valid config")
}

/// Loads an image URL the way a page would and returns its natural size.
async fn image_size(url: &str) -> (u32, u32) {
    let img = web_sys::HtmlImageElement::new().expect("an img element");
    img.set_src(url);
    JsFuture::from(img.decode()).await.expect("the image decodes");
    (img.natural_width(), img.natural_height())
}

#[wasm_bindgen_test]
async fn generate_returns_images_that_decode_at_the_style_size() {
    // Creations of 2 s: the cold schedule's first check (500 ms) finds one running, with
    // 1.5 s to spare on a busy machine.
    let key = mint_key(r#"{"balance":50,"delay_ms":2000}"#).await;
    let client = Client::new(Config::new(key).base_url(EMULATOR)).expect("valid config");
    let mut request = StyleRequest::new("A close-up shot of a perfectly ripe red apple", "HD-HQ");
    request.count = Some(2);
    // Reports after a check that found the creation running (the first report, on
    // acceptance, has `checks: 0` and proves nothing about polling).
    let mut running = 0;
    let finished = client.generate(request, |p| running += u32::from(p.checks >= 1)).await.expect("generate");

    assert_eq!(finished.images.len(), 2);
    assert_eq!(finished.censored, 0);
    assert!(finished.images[0] != finished.images[1]);
    for url in &finished.images {
        assert!(url.starts_with(EMULATOR) && url.ends_with(".webp"), "{url}");
        assert_eq!(image_size(url).await, (1280, 720));
    }
    // The emulator takes a while: at least one check found it still running.
    assert!(running >= 1, "no check found the creation running ({running} reports)");
}

#[wasm_bindgen_test]
async fn balance_goes_down_by_the_reported_cost() {
    let client = client(20.0).await;
    let before = client.balance().await.expect("balance");
    assert_eq!(before, 20.0);
    let mut request = StyleRequest::new("two small cats", "standard");
    request.count = Some(2);
    let finished = client.generate(request, |_| {}).await.expect("generate");
    assert!((finished.cost - 2.2).abs() < 1e-9, "cost {}", finished.cost);
    let after = client.balance().await.expect("balance");
    assert!((before - after - finished.cost).abs() < 1e-9, "{before} - {after} != {}", finished.cost);
}

#[wasm_bindgen_test]
async fn create_then_check_reports_progress_then_the_result() {
    let client = client(10.0).await;
    let id = client.create(StyleRequest::new("a lighthouse at dusk", "smallHQ")).await.expect("create");
    assert_eq!(client.check(&id).await.expect("check"), Status::InProgress);
    let finished = client.wait(&id, |_| {}).await.expect("wait");
    assert_eq!(finished.creation_id, id);
    assert_eq!(finished.images.len(), 1);
    assert!(matches!(client.check(&id).await, Ok(Status::Done(_))));
}

#[wasm_bindgen_test]
async fn styles_lists_the_documented_styles_and_guards_creates() {
    let client = client(10.0).await;
    let styles = client.styles().await.expect("styles");
    let names: Vec<&str> = styles.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, clipcloud::KNOWN_STYLES);
    assert_eq!((styles[0].width, styles[0].height), (Some(512), Some(512)));
    let err = client.create(StyleRequest::new("x", "no-such-style")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[wasm_bindgen_test]
async fn a_bad_key_is_unauthorized_and_never_shown() {
    let key = "not-a-real-key-0123";
    let client = Client::new(Config::new(key).base_url(EMULATOR)).expect("valid config");
    let err = client.balance().await.unwrap_err();
    assert_eq!((err.code(), err.status()), (ErrorCode::Unauthorized, Some(401)));
    let text = format!("{err} {err:?}");
    assert!(!text.contains(key), "{text}");
    assert!(text.contains("API key"), "{text}");
}

#[wasm_bindgen_test]
async fn an_empty_prompt_is_refused_before_sending() {
    let client = client(10.0).await;
    let err = client.create(StyleRequest::new("   ", "standard")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(err.to_string(), "Invalid input: prompt must not be empty");
    assert_eq!(client.balance().await.expect("balance"), 10.0);
}

#[wasm_bindgen_test]
async fn an_unknown_creation_is_not_found() {
    let client = client(10.0).await;
    let err = client.check("00000000-0000-0000-0000-000000000000").await.unwrap_err();
    assert_eq!((err.code(), err.status()), (ErrorCode::NotFound, Some(404)));
}

#[wasm_bindgen_test]
async fn a_low_balance_is_refused() {
    let client = client(1.0).await;
    let err = client.create(StyleRequest::new("a castle", "FullHD-HQ-h")).await.unwrap_err();
    assert_eq!((err.code(), err.status()), (ErrorCode::InsufficientBalance, Some(402)));
    assert!(!err.may_have_started());
}

#[wasm_bindgen_test]
async fn an_unreachable_server_is_a_network_error() {
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let client = Client::new(Config::new("k").base_url("http://127.0.0.1:9")).expect("valid config");
    let err = client.balance().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Network, "{err:?}");
}

/// The JSON seam over the browser's own `JSON` writes and reads what serde_json does natively
/// (the unit tests in `json.rs` pin the same texts).
#[wasm_bindgen_test]
fn the_json_seam_writes_and_reads_as_natively() {
    use clipcloud::json::{self, ArrayWriter, ObjectWriter};
    let mut list = ArrayWriter::default();
    list.string("a \"quoted\"\nword");
    list.number(2.25);
    list.number(1_764_000_000_123.0);
    let mut o = ObjectWriter::default();
    o.string("s", "✓");
    o.integer("n", 512);
    o.number("whole", 512.0);
    o.number("nan", f64::NAN);
    o.boolean("no", false);
    o.value("l", &list.into_value());
    o.json("j", r#"{"x": [1, null]}"#);
    o.json("bad", "not json");
    let text = o.finish();
    assert_eq!(
        text,
        r#"{"s":"✓","n":512,"whole":512,"nan":null,"no":false,"l":["a \"quoted\"\nword",2.25,1764000000123],"j":{"x":[1,null]}}"#
    );
    let v = json::parse(&text).expect("its own output parses");
    assert_eq!(json::field(&v, "s", json::string).as_deref(), Some("✓"));
    assert_eq!(
        (json::field(&v, "n", json::whole), json::field(&v, "n", json::whole_u64)),
        (Some(512), Some(512))
    );
    assert_eq!(json::field(&v, "no", json::boolean), Some(false));
    assert!(json::get(&v, "nan").is_none() && json::get(&v, "missing").is_none());
    let l = json::get(&v, "l").expect("the array");
    assert!(json::is_array(&l) && !json::is_object(&l) && json::get(&l, "0").is_none());
    assert_eq!(json::items(&l, json::number), None, "a text among numbers");
    assert_eq!(json::stringify(&json::get(&v, "j").expect("the object")), r#"{"x":[1,null]}"#);
    assert_eq!(json::quote("line\nbreak \"q\""), r#""line\nbreak \"q\"""#);
    assert!(!json::parse("{nope").expect_err("not JSON").message().is_empty());
    assert_eq!((json::parse_number(" 12.5 "), json::parse_number(" ")), (Some(12.5), None));
}
