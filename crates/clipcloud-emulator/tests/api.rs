//! The wire format, pinned with literal JSON over real HTTP on an ephemeral port.

mod common;

use clipcloud_emulator::{ids, Config};
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

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

#[test]
fn create_by_style_answers_a_uuid_shaped_id() {
    let emu = emulator();
    let r = post_json(
        emu.addr(),
        "/api/creation?apikey=demo-key",
        r#"{"prompt":"a cat","styleName":"standard"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let id = r.json()["creation_id"].as_str().unwrap().to_string();
    assert_uuid_shaped(&id);
    assert_eq!(r.text(), format!(r#"{{"success":true,"creation_id":"{id}"}}"#));

    let second = create(emu.addr(), "demo-key", 0, r#"{"prompt":"a cat","styleName":"standard"}"#);
    assert_uuid_shaped(&second);
    assert_ne!(id, second);
}

#[test]
fn ids_are_deterministic_per_seed() {
    let first = create(emulator().addr(), "demo-key", 0, r#"{"prompt":"x","styleName":"standard"}"#);
    let again = create(emulator().addr(), "demo-key", 0, r#"{"prompt":"y","styleName":"smallHQ"}"#);
    assert_eq!(first, again);
}

#[test]
fn advanced_create_defaults_to_512() {
    let emu = emulator();
    let id = create(
        emu.addr(),
        "demo-key",
        0,
        r#"{"prompt":"a cat","model":"sdxl","quality":80,"extra":{"a":1}}"#,
    );
    let done = get(emu.addr(), &format!("/api/creation/{id}?apikey=demo-key")).json();
    assert_eq!(done["cost"], json!(1.1));
    let url = done["results"][0].as_str().unwrap().to_string();
    let bytes = get(emu.addr(), path_of(&url)).body;
    let decoder = image_webp::WebPDecoder::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(decoder.dimensions(), (512, 512));
}

#[test]
fn check_in_progress_exact_body() {
    let emu = emulator();
    let id = create(emu.addr(), "demo-key", 1000, STANDARD_2);
    let r = get(emu.addr(), &format!("/api/creation/{id}?apikey=demo-key"));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), format!(r#"{{"success":true,"message":"In progress","creation_id":"{id}"}}"#));
}

#[test]
fn check_done_exact_body() {
    let emu = emulator();
    let id = create(emu.addr(), "demo-key", 0, STANDARD_2);
    let r = get(emu.addr(), &format!("/api/creation/{id}?apikey=demo-key"));
    assert_eq!(r.status, 200);
    let addr = emu.addr();
    let (a, b) = (ids::image_id(&id, 0), ids::image_id(&id, 1));
    assert_eq!(
        r.text(),
        format!(
            r#"{{"success":true,"message":"Images processed succesfully","creation_id":"{id}","cost":2.2,"censored":0,"results":["http://{addr}/images/{a}.webp","http://{addr}/images/{b}.webp"]}}"#
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

#[test]
fn in_progress_then_done_after_the_delay() {
    let emu = emulator();
    let id = create(emu.addr(), "demo-key", 300, STANDARD_2);
    let target = format!("/api/creation/{id}?apikey=demo-key");
    assert_eq!(get(emu.addr(), &target).json()["message"], json!("In progress"));
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(get(emu.addr(), &target).json()["results"].as_array().unwrap().len(), 2);
}

#[test]
fn result_urls_use_the_host_header_or_public_url() {
    let emu = emulator();
    let id = create(emu.addr(), "demo-key", 0, r#"{"prompt":"a cat","styleName":"standard"}"#);
    let target = format!("/api/creation/{id}?apikey=demo-key");
    let r = request(emu.addr(), "GET", &target, &[("Host", "emulator.test:1234")], b"");
    let url = r.json()["results"][0].as_str().unwrap().to_string();
    assert_eq!(url, format!("http://emulator.test:1234/images/{}.webp", ids::image_id(&id, 0)));

    let emu = emulator_with(Config {
        port: 0,
        public_url: Some("https://images.example.test".into()),
        log_requests: false,
        ..Config::default()
    });
    let id = create(emu.addr(), "demo-key", 0, r#"{"prompt":"a cat","styleName":"standard"}"#);
    let r = get(emu.addr(), &format!("/api/creation/{id}?apikey=demo-key"));
    let url = r.json()["results"][0].as_str().unwrap().to_string();
    assert_eq!(url, format!("https://images.example.test/images/{}.webp", ids::image_id(&id, 0)));
}

fn results(addr: std::net::SocketAddr, id: &str) -> Vec<String> {
    let body = get(addr, &format!("/api/creation/{id}?apikey=demo-key")).json();
    body["results"].as_array().expect("done").iter().map(|u| u.as_str().unwrap().to_string()).collect()
}

fn fetch_webp(addr: std::net::SocketAddr, url: &str) -> (Vec<u8>, (u32, u32)) {
    let r = get(addr, path_of(url));
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

#[test]
fn images_are_webp_of_the_right_size_and_deterministic() {
    let emu = emulator();
    let addr = emu.addr();
    let first = results(addr, &create(addr, "demo-key", 0, STANDARD_2));
    let (a, size_a) = fetch_webp(addr, &first[0]);
    let (b, size_b) = fetch_webp(addr, &first[1]);
    assert_eq!((size_a, size_b), ((512, 512), (512, 512)));
    assert_ne!(a, b, "images of one creation differ");
    // Cached bytes are the same bytes.
    assert_eq!(fetch_webp(addr, &first[0]).0, a);

    let again = results(addr, &create(addr, "demo-key", 0, STANDARD_2));
    assert_ne!(again[0], first[0], "a new creation has new URLs");
    assert_eq!(fetch_webp(addr, &again[0]).0, a, "same prompt, same picture");

    let other =
        results(addr, &create(addr, "demo-key", 0, r#"{"prompt":"a green pear","styleName":"standard"}"#));
    assert_ne!(fetch_webp(addr, &other[0]).0, a);
}

#[test]
fn style_and_advanced_sizes() {
    let emu = emulator();
    let addr = emu.addr();
    for (body, size) in [
        (r#"{"prompt":"p","styleName":"HQ-640-1024-v"}"#, (640, 1024)),
        (r#"{"prompt":"p","styleName":"pop-art"}"#, (768, 768)),
        (r#"{"prompt":"p","width":1024,"height":256}"#, (1024, 256)),
    ] {
        let urls = results(addr, &create(addr, "demo-key", 0, body));
        assert_eq!(fetch_webp(addr, &urls[0]).1, size, "{body}");
    }
}

#[test]
fn full_hd_renders_quickly() {
    let emu = emulator();
    let addr = emu.addr();
    let id = create(addr, "demo-key", 0, r#"{"prompt":"a wide valley","styleName":"FullHD-HQ-h"}"#);
    let done = get(addr, &format!("/api/creation/{id}?apikey=demo-key")).json();
    assert_eq!(done["cost"], json!(3.3));
    let started = Instant::now();
    let (_, size) = fetch_webp(addr, done["results"][0].as_str().unwrap());
    let took = started.elapsed();
    assert_eq!(size, (1920, 1080));
    eprintln!("1920×1080 rendered, encoded and fetched in {took:?}");
    // Generous: the machine may be busy compiling.
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn balance_goes_down_by_the_cost() {
    let emu = emulator();
    let addr = emu.addr();
    let r = get(addr, "/api/balance?apikey=demo-key");
    assert_eq!(r.text(), r#"{"success":true,"balance":100.0}"#);
    let id = create(addr, "demo-key", 0, STANDARD_2);
    let r = get(addr, "/api/balance?apikey=demo-key");
    assert_eq!(r.text(), r#"{"success":true,"balance":97.8}"#);
    let done = get(addr, &format!("/api/creation/{id}?apikey=demo-key")).json();
    assert_eq!(done["cost"], json!(2.2));
    assert_eq!(balance(addr, "demo-key"), 97.8);

    let key = fresh_key(addr, 10.0);
    create(addr, &key, 0, r#"{"prompt":"x","styleName":"HD-HQ","count":3}"#);
    assert_eq!(balance(addr, &key), 3.4);
}

#[test]
fn styles_lists_all_twenty_in_order_with_sizes() {
    let emu = emulator();
    let r = get(emu.addr(), "/api/styles?apikey=demo-key");
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

#[test]
fn unauthorized_without_or_with_unknown_key() {
    let emu = emulator();
    let addr = emu.addr();
    let id = create(addr, "demo-key", 0, STANDARD_2);
    for key in ["", "?apikey=", "?apikey=nope"] {
        let message = assert_error(&post_json(addr, &format!("/api/creation{key}"), STANDARD_2), 401);
        assert!(message.contains("API key"), "{message}");
        assert_error(&get(addr, &format!("/api/creation/{id}{key}")), 401);
        assert_error(&get(addr, &format!("/api/balance{key}")), 401);
        assert_error(&get(addr, &format!("/api/styles{key}")), 401);
    }
    // The key is checked before the content type and the body.
    let r = request(addr, "POST", "/api/creation?apikey=nope", &[("Content-Type", "text/plain")], b"{");
    assert_error(&r, 401);
}

#[test]
fn unsupported_media_type_unless_json() {
    let emu = emulator();
    let addr = emu.addr();
    let target = "/api/creation?apikey=demo-key";
    let r = request(addr, "POST", target, &[("Content-Type", "text/plain")], STANDARD_2.as_bytes());
    assert_error(&r, 415);
    assert_error(&request(addr, "POST", target, &[], STANDARD_2.as_bytes()), 415);
    // 415 comes before the body is looked at.
    assert_error(&request(addr, "POST", target, &[("Content-Type", "text/plain")], b"{"), 415);
    let r = request(
        addr,
        "POST",
        target,
        &[("Content-Type", "Application/JSON; charset=utf-8")],
        STANDARD_2.as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
}

#[test]
fn bad_requests() {
    let emu = emulator();
    let addr = emu.addr();
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
        let message = assert_error(&post_json(addr, "/api/creation?apikey=demo-key", body), 400);
        assert!(message.contains(needle), "{body}: {message}");
    }
    let r = post_json(addr, "/api/creation?apikey=demo-key&emulator_delay_ms=soon", STANDARD_2);
    assert!(assert_error(&r, 400).contains("emulator_delay_ms"));
    // Nothing was charged.
    assert_eq!(balance(addr, "demo-key"), 100.0);
}

#[test]
fn payment_required_when_the_balance_is_short() {
    let emu = emulator();
    let addr = emu.addr();
    let key = fresh_key(addr, 2.0);
    let r = post_json(addr, &format!("/api/creation?apikey={key}"), STANDARD_2);
    let message = assert_error(&r, 402);
    assert!(message.contains("2.2"), "{message}");
    assert_eq!(balance(addr, &key), 2.0);
    create(addr, &key, 0, r#"{"prompt":"a cat","styleName":"standard"}"#);
    assert_eq!(balance(addr, &key), 0.9);
}

#[test]
fn not_found() {
    let emu = emulator();
    let addr = emu.addr();
    let id = create(addr, "demo-key", 1000, STANDARD_2);
    assert_error(&get(addr, "/api/creation/12345678-abcd-ef12-3456-7890abcdef12?apikey=demo-key"), 404);
    let other = fresh_key(addr, 10.0);
    assert_error(&get(addr, &format!("/api/creation/{id}?apikey={other}")), 404);
    assert_error(&get(addr, "/nope"), 404);
    assert_error(&get(addr, "/api/creation/?apikey=demo-key"), 404);
    assert_error(&post_json(addr, "/api/nope?apikey=demo-key", "{}"), 404);
    assert_error(&get(addr, &format!("/images/{}.webp", "0".repeat(64))), 404);
    assert_error(&get(addr, "/images/not-an-image.png"), 404);
    // Not ready yet: no image either.
    assert_error(&get(addr, &format!("/images/{}.webp", ids::image_id(&id, 0))), 404);
    assert_error(&request(addr, "DELETE", "/api/balance?apikey=demo-key", &[], b""), 405);
}

#[test]
fn nsfw_prompts_are_censored_and_refunded() {
    let emu = emulator();
    let addr = emu.addr();
    let key = fresh_key(addr, 10.0);
    let id = create(addr, &key, 300, r#"{"prompt":"an NSFW scene","styleName":"standard","count":2}"#);
    // Charged in full while in progress.
    assert_eq!(balance(addr, &key), 7.8);
    std::thread::sleep(Duration::from_millis(400));
    let r = get(addr, &format!("/api/creation/{id}?apikey={key}"));
    assert_eq!(
        r.text(),
        format!(
            r#"{{"success":true,"message":"Images processed succesfully","creation_id":"{id}","cost":0.0,"censored":2,"results":[]}}"#
        )
    );
    assert_eq!(balance(addr, &key), 10.0);
    // Withheld images have no URL that works.
    assert_error(&get(addr, &format!("/images/{}.webp", ids::image_id(&id, 0))), 404);

    // Refunded at completion even if nobody checks the creation.
    create(addr, &key, 0, r#"{"prompt":"nsfw","styleName":"HD-HQ"}"#);
    assert_eq!(balance(addr, &key), 10.0);
}

#[test]
fn cors_preflight_and_headers_on_errors() {
    let emu = emulator();
    let addr = emu.addr();
    for path in ["/api/creation?apikey=demo-key", "/anything/at/all"] {
        let r = request(
            addr,
            "OPTIONS",
            path,
            &[
                ("Origin", "http://localhost:3000"),
                ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "content-type"),
            ],
            b"",
        );
        assert_eq!(r.status, 204);
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("access-control-allow-methods"), Some("GET, POST, OPTIONS"));
        assert_eq!(r.header("access-control-allow-headers"), Some("content-type"));
        assert_eq!(r.header("access-control-max-age"), Some("600"));
        assert!(r.body.is_empty());
    }
    let r = request(addr, "OPTIONS", "/api/balance", &[], b"");
    assert_eq!(r.header("access-control-allow-headers"), Some("content-type"));

    for r in [get(addr, "/api/balance"), get(addr, "/nope"), get(addr, "/api/balance?apikey=demo-key")] {
        assert_eq!(r.header("access-control-allow-origin"), Some("*"));
        assert_eq!(r.header("access-control-expose-headers"), Some("Retry-After, Preference-Applied"));
    }
}

#[test]
fn emulator_keys_endpoint_hands_out_fresh_keys() {
    let emu = emulator();
    let addr = emu.addr();
    let r = post_json(addr, "/emulator/keys", r#"{"balance": 50}"#);
    assert_eq!(r.status, 200);
    let body = r.json();
    let key = body["apikey"].as_str().unwrap().to_string();
    assert_eq!(body, json!({"apikey": key, "balance": 50.0}));
    assert_eq!(balance(addr, &key), 50.0);
    assert_ne!(fresh_key(addr, 50.0), key);

    // No body: the demo balance. Bad bodies: 400.
    let r = request(addr, "POST", "/emulator/keys", &[], b"");
    assert_eq!(r.json()["balance"], json!(100.0));
    assert_error(&post_json(addr, "/emulator/keys", r#"{"balance":-1}"#), 400);
    assert_error(&post_json(addr, "/emulator/keys", r#"{"balance":"lots"}"#), 400);
    assert_error(&post_json(addr, "/emulator/keys", "{"), 400);
}

#[test]
fn keys_from_config() {
    let emu = emulator_with(Config {
        port: 0,
        log_requests: false,
        keys: vec![("alice".into(), clipcloud_emulator::Money::from_cents(550))],
        ..Config::default()
    });
    assert_eq!(balance(emu.addr(), "alice"), 5.5);
    assert_error(&get(emu.addr(), "/api/balance?apikey=demo-key"), 401);
}

#[test]
fn the_binary_prints_its_address_first() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let mut child = Command::new(env!("CARGO_BIN_EXE_clipcloud-emulator"))
        .args(["--port", "0", "--delay-ms", "0", "--key", "bob=3", "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the binary");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..4 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        lines.push(line.trim_end().to_string());
    }
    let outcome = std::panic::catch_unwind(|| {
        let base = lines[0].strip_prefix("clipcloud-emulator listening on http://").expect(&lines[0]);
        let addr: std::net::SocketAddr = base.parse().expect("HOST:PORT");
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        assert_ne!(addr.port(), 0);
        assert_eq!(lines[1..], ["demo key: demo-key", "key demo-key: balance 100", "key bob: balance 3"]);
        let r = get(addr, "/api/balance?apikey=bob");
        assert_eq!(r.json(), json!({"success": true, "balance": 3.0}));
        let id = create(addr, "demo-key", 0, STANDARD_2);
        let done: Value = get(addr, &format!("/api/creation/{id}?apikey=demo-key")).json();
        assert_eq!(done["results"].as_array().unwrap().len(), 2);
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
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
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown argument: --bogus"));
}

#[test]
fn no_files_and_no_proxy_the_gateway_does_that() {
    // Only the API and the emulator's own endpoints: `/` and the app's paths are 404s.
    let emu = emulator_with(Config { port: 0, log_requests: false, ..Config::default() });
    for path in ["/", "/index.html", "/history", "/../Cargo.toml"] {
        assert_error(&get(emu.addr(), path), 404);
    }
    let bin = env!("CARGO_BIN_EXE_clipcloud-emulator");
    for flag in ["--static-dir", "--upstream", "--key-file"] {
        let out = std::process::Command::new(bin).args([flag, "x"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("moved to clipcloud-gateway"), "{flag}");
    }
}

#[test]
fn serves_the_openapi_document_without_a_key() {
    let emu = emulator();
    let r = get(emu.addr(), "/openapi.json");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.text(), clipcloud::openapi::OPENAPI);
    assert_eq!(r.json()["paths"]["/api/creation"]["post"]["operationId"], "create");
}
