//! The wire format, pinned with literal JSON: the endpoints in-process through the router
//! on a clock the test moves; the binary over real HTTP on an ephemeral port.

mod common;

use clipcloud_emulator::{ids, Config};
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const STANDARD_2: &str = r#"{"prompt":"a red apple on a table","styleName":"standard","count":2}"#;

fn assert_uuid_shaped(id: &str) {
    let groups: Vec<&str> = id.split('-').collect();
    assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
    assert!(id.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
}

fn assert_error(r: &Response, status: u16) -> String {
    assert_eq!(r.status, status, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    let object = body.as_object().expect("object");
    assert_eq!(object.len(), 2, "{body}");
    assert_eq!(body["success"], json!(false));
    let message = body["message"].as_str().expect("message").to_string();
    assert!(!message.is_empty());
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    message
}

#[tokio::test]
async fn create_by_style_answers_a_uuid_shaped_id() {
    let app = App::new();
    let r =
        app.post_json("/api/creation?apikey=demo-key", r#"{"prompt":"a cat","styleName":"standard"}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let id = r.json()["creation_id"].as_str().unwrap().to_string();
    assert_uuid_shaped(&id);
    assert_eq!(r.text(), format!(r#"{{"success":true,"creation_id":"{id}"}}"#));

    let second = app.create("demo-key", 0, r#"{"prompt":"a cat","styleName":"standard"}"#).await;
    assert_uuid_shaped(&second);
    assert_ne!(id, second);
}

#[tokio::test]
async fn ids_are_deterministic_per_seed() {
    let first = App::new().create("demo-key", 0, r#"{"prompt":"x","styleName":"standard"}"#).await;
    let again = App::new().create("demo-key", 0, r#"{"prompt":"y","styleName":"smallHQ"}"#).await;
    assert_eq!(first, again);
}

#[tokio::test]
async fn advanced_create_defaults_to_512() {
    let app = App::new();
    let id =
        app.create("demo-key", 0, r#"{"prompt":"a cat","model":"sdxl","quality":80,"extra":{"a":1}}"#).await;
    let done = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await.json();
    assert_eq!(done["cost"], json!(1.1));
    let url = done["results"][0].as_str().unwrap().to_string();
    let bytes = app.get(path_of(&url)).await.body;
    let decoder = image_webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(decoder.dimensions(), (512, 512));
}

#[tokio::test]
async fn check_in_progress_exact_body() {
    let app = App::new();
    let id = app.create("demo-key", 1000, STANDARD_2).await;
    let r = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), format!(r#"{{"success":true,"message":"In progress","creation_id":"{id}"}}"#));
}

#[tokio::test]
async fn check_done_exact_body() {
    let app = App::new();
    let id = app.create("demo-key", 0, STANDARD_2).await;
    let r = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await;
    assert_eq!(r.status, 200);
    let (a, b) = (ids::image_id(&id, 0), ids::image_id(&id, 1));
    let host = app.host();
    assert_eq!(
        r.text(),
        format!(
            r#"{{"success":true,"message":"Images processed succesfully","creation_id":"{id}","cost":2.2,"censored":0,"results":["http://{host}/images/{a}.webp","http://{host}/images/{b}.webp"]}}"#
        )
    );
    let body = r.json();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 6);
    for url in body["results"].as_array().unwrap() {
        let url = url.as_str().unwrap();
        let name = url.rsplit('/').next().unwrap().strip_suffix(".webp").unwrap();
        assert!(ids::is_image_id(name), "{url}");
    }
}

#[tokio::test]
async fn in_progress_then_done_after_the_delay() {
    let app = App::new();
    let id = app.create("demo-key", 300, STANDARD_2).await;
    let target = format!("/api/creation/{id}?apikey=demo-key");
    assert_eq!(app.get(&target).await.json()["message"], json!("In progress"));
    app.clock.advance(Duration::from_millis(299));
    assert_eq!(app.get(&target).await.json()["message"], json!("In progress"));
    app.clock.advance(Duration::from_millis(1));
    assert_eq!(app.get(&target).await.json()["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn result_urls_use_the_host_header_or_public_url() {
    let app = App::new();
    let id = app.create("demo-key", 0, r#"{"prompt":"a cat","styleName":"standard"}"#).await;
    let target = format!("/api/creation/{id}?apikey=demo-key");
    let r = app.request("GET", &target, &[("Host", "emulator.test:1234")], b"").await;
    let url = r.json()["results"][0].as_str().unwrap().to_string();
    assert_eq!(url, format!("http://emulator.test:1234/images/{}.webp", ids::image_id(&id, 0)));

    let app = App::with(Config {
        port: 0,
        public_url: Some("https://images.example.test".into()),
        log_requests: false,
        ..Config::default()
    });
    let id = app.create("demo-key", 0, r#"{"prompt":"a cat","styleName":"standard"}"#).await;
    let r = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await;
    let url = r.json()["results"][0].as_str().unwrap().to_string();
    assert_eq!(url, format!("https://images.example.test/images/{}.webp", ids::image_id(&id, 0)));
}

async fn results(app: &App, id: &str) -> Vec<String> {
    let body = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await.json();
    body["results"].as_array().expect("done").iter().map(|u| u.as_str().unwrap().to_string()).collect()
}

async fn fetch_webp(app: &App, url: &str) -> (Vec<u8>, (u32, u32)) {
    let r = app.get(path_of(url)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("image/webp"));
    assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));
    assert_eq!(&r.body[..4], b"RIFF");
    assert_eq!(&r.body[8..12], b"WEBP");
    let decoder = image_webp::WebPDecoder::new(std::io::Cursor::new(r.body.clone())).expect("valid WebP");
    let size = decoder.dimensions();
    (r.body, size)
}

#[tokio::test]
async fn images_are_webp_of_the_right_size_and_deterministic() {
    let app = App::new();
    let first = results(&app, &app.create("demo-key", 0, STANDARD_2).await).await;
    let (a, size_a) = fetch_webp(&app, &first[0]).await;
    let (b, size_b) = fetch_webp(&app, &first[1]).await;
    assert_eq!((size_a, size_b), ((512, 512), (512, 512)));
    assert_ne!(a, b, "images of one creation differ");
    // Cached bytes are the same bytes.
    assert_eq!(fetch_webp(&app, &first[0]).await.0, a);

    let again = results(&app, &app.create("demo-key", 0, STANDARD_2).await).await;
    assert_ne!(again[0], first[0], "a new creation has new URLs");
    assert_eq!(fetch_webp(&app, &again[0]).await.0, a, "same prompt, same picture");

    let other = results(
        &app,
        &app.create("demo-key", 0, r#"{"prompt":"a green pear","styleName":"standard"}"#).await,
    )
    .await;
    assert_ne!(fetch_webp(&app, &other[0]).await.0, a);
}

#[tokio::test]
async fn style_and_advanced_sizes() {
    let app = App::new();
    for (body, size) in [
        (r#"{"prompt":"p","styleName":"HQ-640-1024-v"}"#, (640, 1024)),
        (r#"{"prompt":"p","styleName":"pop-art"}"#, (768, 768)),
        (r#"{"prompt":"p","width":1024,"height":256}"#, (1024, 256)),
    ] {
        let urls = results(&app, &app.create("demo-key", 0, body).await).await;
        assert_eq!(fetch_webp(&app, &urls[0]).await.1, size, "{body}");
    }
}

#[tokio::test]
async fn full_hd_renders_at_its_size_and_price() {
    let app = App::new();
    let id = app.create("demo-key", 0, r#"{"prompt":"a wide valley","styleName":"FullHD-HQ-h"}"#).await;
    let done = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await.json();
    assert_eq!(done["cost"], json!(3.3));
    let (_, size) = fetch_webp(&app, done["results"][0].as_str().unwrap()).await;
    assert_eq!(size, (1920, 1080));
}

#[tokio::test]
async fn balance_goes_down_by_the_cost() {
    let app = App::new();
    let r = app.get("/api/balance?apikey=demo-key").await;
    assert_eq!(r.text(), r#"{"success":true,"balance":100.0}"#);
    let id = app.create("demo-key", 0, STANDARD_2).await;
    let r = app.get("/api/balance?apikey=demo-key").await;
    assert_eq!(r.text(), r#"{"success":true,"balance":97.8}"#);
    let done = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await.json();
    assert_eq!(done["cost"], json!(2.2));
    assert_eq!(app.balance("demo-key").await, 97.8);

    let key = app.fresh_key(10.0).await;
    app.create(&key, 0, r#"{"prompt":"x","styleName":"HD-HQ","count":3}"#).await;
    assert_eq!(app.balance(&key).await, 3.4);
}

#[tokio::test]
async fn styles_lists_all_twenty_in_order_with_sizes() {
    let app = App::new();
    let r = app.get("/api/styles?apikey=demo-key").await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["success"], json!(true));
    let styles = body["styles"].as_array().unwrap();
    let names: Vec<&str> = styles.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, clipcloud::model::KNOWN_STYLES);
    assert!(r.text().starts_with(r#"{"success":true,"styles":[{"name":"standard","description":""#));
    let sizes: Vec<(u64, u64)> =
        styles.iter().map(|s| (s["width"].as_u64().unwrap(), s["height"].as_u64().unwrap())).collect();
    assert_eq!(
        sizes,
        [
            (512, 512),
            (512, 512),
            (1280, 720),
            (1920, 1080),
            (1080, 1920),
            (768, 768),
            (768, 768),
            (768, 768),
            (768, 768),
            (768, 768),
            (768, 768),
            (768, 768),
            (768, 512),
            (832, 448),
            (832, 640),
            (1024, 640),
            (1200, 640),
            (1280, 720),
            (512, 768),
            (640, 1024),
        ]
    );
    for style in styles {
        assert_eq!(style.as_object().unwrap().len(), 4, "{style}");
        assert!(!style["description"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn unauthorized_without_or_with_unknown_key() {
    let app = App::new();
    let id = app.create("demo-key", 0, STANDARD_2).await;
    for key in ["", "?apikey=", "?apikey=nope"] {
        let message = assert_error(&app.post_json(&format!("/api/creation{key}"), STANDARD_2).await, 401);
        assert!(message.contains("API key"), "{message}");
        assert_error(&app.get(&format!("/api/creation/{id}{key}")).await, 401);
        assert_error(&app.get(&format!("/api/balance{key}")).await, 401);
        assert_error(&app.get(&format!("/api/styles{key}")).await, 401);
    }
    // The key is checked before the content type and the body.
    let r = app.request("POST", "/api/creation?apikey=nope", &[("Content-Type", "text/plain")], b"{").await;
    assert_error(&r, 401);
}

#[tokio::test]
async fn unsupported_media_type_unless_json() {
    let app = App::new();
    let target = "/api/creation?apikey=demo-key";
    let r = app.request("POST", target, &[("Content-Type", "text/plain")], STANDARD_2.as_bytes()).await;
    assert_error(&r, 415);
    assert_error(&app.request("POST", target, &[], STANDARD_2.as_bytes()).await, 415);
    // 415 comes before the body is looked at.
    assert_error(&app.request("POST", target, &[("Content-Type", "text/plain")], b"{").await, 415);
    let r = app
        .request(
            "POST",
            target,
            &[("Content-Type", "Application/JSON; charset=utf-8")],
            STANDARD_2.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn bad_requests() {
    let app = App::new();
    for (body, needle) in [
        ("{not json", "malformed JSON"),
        ("", "malformed JSON"),
        ("[]", "object"),
        (r#"{"styleName":"standard"}"#, "prompt"),
        (r#"{"prompt":null,"styleName":"standard"}"#, "prompt"),
        (r#"{"prompt":42}"#, "prompt"),
        (r#"{"prompt":"","styleName":"standard"}"#, "prompt"),
        (r#"{"prompt":"a cat","styleName":""}"#, "style"),
        (r#"{"prompt":"a cat","styleName":"Standard"}"#, "unknown style"),
        (r#"{"prompt":"a cat","styleName":"standard","count":9}"#, "count"),
        (r#"{"prompt":"a cat","styleName":"standard","count":0}"#, "count"),
        (r#"{"prompt":"a cat","styleName":"standard","count":"2"}"#, "bad field"),
        (r#"{"prompt":"a cat","width":100}"#, "width"),
        (r#"{"prompt":"a cat","height":4096}"#, "height"),
        (r#"{"prompt":"a cat","width":515}"#, "multiple of 8"),
        (r#"{"prompt":"a cat","quality":101}"#, "quality"),
        (r#"{"prompt":"a cat","steps":0}"#, "steps"),
        (r#"{"prompt":"a cat","seed":-1}"#, "bad field"),
    ] {
        let message = assert_error(&app.post_json("/api/creation?apikey=demo-key", body).await, 400);
        assert!(message.contains(needle), "{body}: {message}");
    }
    let r = app.post_json("/api/creation?apikey=demo-key&emulator_delay_ms=soon", STANDARD_2).await;
    assert!(assert_error(&r, 400).contains("emulator_delay_ms"));
    // Nothing was charged.
    assert_eq!(app.balance("demo-key").await, 100.0);
}

#[tokio::test]
async fn payment_required_when_the_balance_is_short() {
    let app = App::new();
    let key = app.fresh_key(2.0).await;
    let r = app.post_json(&format!("/api/creation?apikey={key}"), STANDARD_2).await;
    let message = assert_error(&r, 402);
    assert!(message.contains("2.2"), "{message}");
    assert_eq!(app.balance(&key).await, 2.0);
    app.create(&key, 0, r#"{"prompt":"a cat","styleName":"standard"}"#).await;
    assert_eq!(app.balance(&key).await, 0.9);
}

#[tokio::test]
async fn not_found() {
    let app = App::new();
    let id = app.create("demo-key", 1000, STANDARD_2).await;
    assert_error(&app.get("/api/creation/12345678-abcd-ef12-3456-7890abcdef12?apikey=demo-key").await, 404);
    let other = app.fresh_key(10.0).await;
    assert_error(&app.get(&format!("/api/creation/{id}?apikey={other}")).await, 404);
    assert_error(&app.get("/nope").await, 404);
    assert_error(&app.get("/api/creation/?apikey=demo-key").await, 404);
    assert_error(&app.post_json("/api/nope?apikey=demo-key", "{}").await, 404);
    assert_error(&app.get(&format!("/images/{}.webp", "0".repeat(64))).await, 404);
    assert_error(&app.get("/images/not-an-image.png").await, 404);
    // Not ready yet: no image either.
    assert_error(&app.get(&format!("/images/{}.webp", ids::image_id(&id, 0))).await, 404);
    assert_error(&app.request("DELETE", "/api/balance?apikey=demo-key", &[], b"").await, 405);
}

#[tokio::test]
async fn nsfw_prompts_are_censored_and_refunded() {
    let app = App::new();
    let key = app.fresh_key(10.0).await;
    let id = app.create(&key, 300, r#"{"prompt":"an NSFW scene","styleName":"standard","count":2}"#).await;
    // Charged in full while in progress.
    assert_eq!(app.balance(&key).await, 7.8);
    app.clock.advance(Duration::from_millis(300));
    let r = app.get(&format!("/api/creation/{id}?apikey={key}")).await;
    assert_eq!(
        r.text(),
        format!(
            r#"{{"success":true,"message":"Images processed succesfully","creation_id":"{id}","cost":0.0,"censored":2,"results":[]}}"#
        )
    );
    assert_eq!(app.balance(&key).await, 10.0);
    // Withheld images have no URL that works.
    assert_error(&app.get(&format!("/images/{}.webp", ids::image_id(&id, 0))).await, 404);

    // Refunded at completion even if nobody checks the creation.
    app.create(&key, 0, r#"{"prompt":"nsfw","styleName":"HD-HQ"}"#).await;
    assert_eq!(app.balance(&key).await, 10.0);
}

#[tokio::test]
async fn cors_preflight_and_headers_on_errors() {
    let app = App::new();
    for path in ["/api/creation?apikey=demo-key", "/anything/at/all"] {
        let r = app
            .request(
                "OPTIONS",
                path,
                &[
                    ("Origin", "http://localhost:3000"),
                    ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type"),
                ],
                b"",
            )
            .await;
        assert_eq!(r.status, 204);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST, OPTIONS"));
        assert_eq!(r.header("access-control-allow-headers"), Some("content-type"));
        assert_eq!(r.header("access-control-max-age"), Some("600"));
        assert!(r.body.is_empty());
    }
    let r = app.request("OPTIONS", "/api/balance", &[], b"").await;
    assert_eq!(r.header("access-control-allow-headers"), Some("content-type"));

    for r in
        [app.get("/api/balance").await, app.get("/nope").await, app.get("/api/balance?apikey=demo-key").await]
    {
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("access-control-expose-headers"), Some("Retry-After, Preference-Applied"));
    }
}

#[tokio::test]
async fn emulator_keys_endpoint_hands_out_fresh_keys() {
    let app = App::new();
    let r = app.post_json("/emulator/keys", r#"{"balance": 50}"#).await;
    assert_eq!(r.status, 200);
    let body = r.json();
    let key = body["apikey"].as_str().unwrap().to_string();
    assert_eq!(body, json!({"apikey": key, "balance": 50.0}));
    assert_eq!(app.balance(&key).await, 50.0);
    assert_ne!(app.fresh_key(50.0).await, key);

    // No body: the demo balance. Bad bodies: 400.
    let r = app.request("POST", "/emulator/keys", &[], b"").await;
    assert_eq!(r.json()["balance"], json!(100.0));
    assert_error(&app.post_json("/emulator/keys", r#"{"balance":-1}"#).await, 400);
    assert_error(&app.post_json("/emulator/keys", r#"{"balance":"lots"}"#).await, 400);
    assert_error(&app.post_json("/emulator/keys", "{").await, 400);
}

#[tokio::test]
async fn keys_from_config() {
    let app = App::with(Config {
        port: 0,
        log_requests: false,
        keys: vec![("alice".into(), clipcloud_emulator::Money::from_cents(550))],
        ..Config::default()
    });
    assert_eq!(app.balance("alice").await, 5.5);
    assert_error(&app.get("/api/balance?apikey=demo-key").await, 401);
}

#[tokio::test]
async fn the_binary_prints_its_address_first() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    /// The binary's process, ended with the test, passed or failed.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_clipcloud-emulator"))
            .args(["--port", "0", "--delay-ms", "0", "--key", "bob=3", "--quiet"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the binary"),
    );
    let mut stdout = BufReader::new(child.0.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_string());
    }
    let base = lines[0].strip_prefix("clipcloud-emulator listening on http://").expect(&lines[0]);
    let addr: std::net::SocketAddr = base.parse().expect("HOST:PORT");
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    assert_eq!(lines[1..], ["demo key: demo-key", "key demo-key: balance 100", "key bob: balance 3"]);
    let app = App::at(addr);
    let r = app.get("/api/balance?apikey=bob").await;
    assert_eq!(r.json(), json!({"success": true, "balance": 3.0}));
    let id = app.create("demo-key", 0, STANDARD_2).await;
    let done: Value = app.get(&format!("/api/creation/{id}?apikey=demo-key")).await.json();
    assert_eq!(done["results"].as_array().unwrap().len(), 2);
}

#[test]
fn help_and_bad_flags() {
    use std::process::Command;
    let bin = env!("CARGO_BIN_EXE_clipcloud-emulator");
    let help = Command::new(bin).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--delay-ms"));
    let bad = Command::new(bin).arg("--bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unexpected argument '--bogus'"));
    let repeated = Command::new(bin).args(["--port", "0", "--port=1"]).output().unwrap();
    assert_eq!(repeated.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&repeated.stderr);
    assert!(stderr.contains("the argument '--port <PORT>' cannot be used multiple times"), "{stderr}");
    let version = Command::new(bin).arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&version.stdout);
    assert!(
        version.starts_with(&format!("clipcloud-emulator {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{version}"
    );
}

#[tokio::test]
async fn no_files_and_no_proxy_the_gateway_does_that() {
    // Only the API and the emulator's own endpoints: `/` and the app's paths are 404s.
    let app = App::with(Config { port: 0, log_requests: false, ..Config::default() });
    for path in ["/", "/index.html", "/history", "/../Cargo.toml"] {
        assert_error(&app.get(path).await, 404);
    }
    let bin = env!("CARGO_BIN_EXE_clipcloud-emulator");
    for flag in ["--static-dir", "--upstream", "--key-file"] {
        let out = std::process::Command::new(bin).args([flag, "x"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("moved to clipcloud-gateway"), "{flag}");
    }
}

#[tokio::test]
async fn serves_the_openapi_document_without_a_key() {
    let app = App::new();
    let r = app.get("/openapi.json").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.text(), clipcloud::openapi::OPENAPI);
    assert_eq!(r.json()["paths"]["/api/creation"]["post"]["operationId"], "create");
}
