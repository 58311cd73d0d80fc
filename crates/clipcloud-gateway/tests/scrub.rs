//! The service's answers are rebuilt from their meaning: an upstream that echoes the key
//! (in another case, as a prefix, `\u`-escaped), the `--upstream` URL's Basic credentials
//! (decoded and in base64) and its own address, in its JSON and in its headers, gets none
//! of them to the visitor; and a redirect from it is a 502 in the API's shape. Against the
//! built binary, in both modes.

mod common;

use common::*;
use std::sync::{Arc, Mutex};

const USER_INFO: &str = "svc-user:pa55-w0rd-secret";
const OPERATOR_KEY: &str = "Op-Key-5ecret-0123456789";
const VISITOR_KEY: &str = "Vi-Key-5ecret-9876543210";

/// An upstream that answers every call in the API's shape with every secret it was sent
/// spelled every way, in its body and its headers; `status` picks the answer.
struct Echo {
    url: String,
    status: Arc<Mutex<u16>>,
    _runtime: tokio::runtime::Runtime,
}

impl Echo {
    fn start() -> Self {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let status = Arc::new(Mutex::new(200));
        let chosen = status.clone();
        let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
            let status = *chosen.lock().unwrap();
            async move { echo(status, &request) }
        });
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self { url: format!("http://{addr}"), status, _runtime: runtime }
    }

    fn answer_with(&self, status: u16) {
        *self.status.lock().unwrap() = status;
    }
}

fn echo(status: u16, request: &axum::extract::Request) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    let header =
        |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let (authorization, host) = (header("authorization"), header("host"));
    let target = request.uri().to_string();
    let key = target.split_once("apikey=").map(|(_, key)| key.split('&').next().unwrap_or("")).unwrap_or("");
    let escaped: String = key.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    let spellings = [
        key.to_owned(),
        key.to_uppercase(),
        format!("{}...", &key[..key.len().min(12)]),
        escaped,
        authorization.clone(),
        USER_INFO.to_owned(),
        host.clone(),
        format!("http://{USER_INFO}@{host}{target}"),
    ];
    // Written into the JSON as is: the `\u` spelling is an escape there.
    let all = spellings.join(" | ");
    let path = request.uri().path();
    let body = if status == 302 {
        String::new()
    } else if status == 500 {
        format!("<html>{all}</html>")
    } else if status != 200 {
        format!(r#"{{"success":false,"message":"refused: {all}","key":"{key}"}}"#)
    } else if path == "/api/creation" {
        format!(r#"{{"success":true,"creation_id":"c-1","note":"{all}","creation_url":"http://{host}/c-1"}}"#)
    } else if path.starts_with("/api/creation/") {
        format!(
            r#"{{"success":true,"message":"{all}","creation_id":"{key}","cost":2.2,"censored":0,"debug":"{all}",
               "results":["http://{host}/images/a1.webp","https://cdn.example/{key}/b2.webp","http://{host}/images/{key}.png"]}}"#
        )
    } else if path == "/api/balance" {
        format!(r#"{{"success":true,"balance":5,"owner":"{all}"}}"#)
    } else {
        format!(
            r#"{{"success":true,"styles":[{{"name":"standard","description":"{all}"}},"{key}"],"x":"{all}"}}"#
        )
    };
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    let headers = response.headers_mut();
    let content_type = if status == 500 { "text/html" } else { "application/json" };
    headers.insert("content-type", HeaderValue::from_str(&format!("{content_type}; x={key}")).unwrap());
    for (name, value) in [
        ("x-echo-key", key.to_owned()),
        ("x-echo-authorization", authorization),
        ("x-upstream", host.clone()),
        ("set-cookie", format!("k={key}")),
        ("location", format!("http://{USER_INFO}@{host}/elsewhere?apikey={key}")),
        ("retry-after", key.to_owned()),
        ("www-authenticate", format!("Basic realm={host}")),
    ] {
        headers.insert(axum::http::HeaderName::from_static(name), HeaderValue::from_str(&value).unwrap());
    }
    response
}

/// Every spelling of every secret that must not reach a visitor, lowercase.
fn forbidden(key: &str, upstream_addr: &str) -> Vec<String> {
    let basic = clipcloud::base64::encode(USER_INFO.as_bytes());
    [key, &key[..8], &key[key.len() - 8..], &basic, &basic[4..16], USER_INFO, "pa55-w0rd", upstream_addr]
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

/// The answer as a visitor can read it: the head, the body, and the body's JSON strings
/// decoded (a `\u`-escaped secret is a secret).
fn readable(answer: &Answer) -> String {
    fn strings(value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::String(s) => out.push_str(s),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push_str(k);
                strings(v, out);
            }),
            _ => {}
        }
        out.push('\n');
    }
    let mut text = format!("{}\n{}\n", answer.head, answer.body);
    if let Ok(value) = serde_json::from_str(&answer.body) {
        strings(&value, &mut text);
    }
    text.to_ascii_lowercase()
}

fn assert_clean(what: &str, answer: &Answer, forbidden: &[String]) {
    let text = readable(answer);
    for secret in forbidden {
        assert!(
            !text.contains(secret.as_str()),
            "{what}: the visitor sees {secret:?}:\n{}\n{}",
            answer.head,
            answer.body
        );
    }
    let allowed = [
        "access-control",
        "cache-control",
        "content-length",
        "content-security-policy",
        "content-type",
        "cross-origin",
        "date",
        "referrer-policy",
        "retry-after",
        "set-cookie",
        "strict-transport",
        "vary",
        "x-content-type-options",
        "x-frame-options",
        "connection",
        "preference-applied",
        // The gateway's own id of the request (crate::request_id), never the service's.
        "x-request-id",
    ];
    for line in answer.head.lines().skip(1) {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        assert!(
            allowed.iter().any(|a| name.starts_with(a)),
            "{what}: a header of the service's passed: {line}"
        );
    }
}

#[test]
fn no_secret_of_the_service_reaches_a_visitor_in_either_mode() {
    let echo = Echo::start();
    let upstream_addr = echo.url.trim_start_matches("http://").to_owned();
    let upstream = format!("http://{USER_INFO}@{upstream_addr}");
    let key_file = secret_file("key", OPERATOR_KEY);
    let ledger = temp_dir("ledger").join("l.sqlite3");
    let modes: [(&str, Vec<&str>, &str); 2] = [
        ("relay", vec![], VISITOR_KEY),
        ("operator", vec!["--key-file", &key_file, "--ledger", ledger.to_str().unwrap()], OPERATOR_KEY),
    ];
    for (mode, extra, upstream_key) in modes {
        let mut args = vec!["--upstream", upstream.as_str(), "--log-format", "off"];
        args.extend(extra);
        let gateway = GatewayProcess::start(&args, &[]);
        let addr = gateway.addr;
        let forbidden = forbidden(upstream_key, &upstream_addr);
        let key = if mode == "relay" { format!("?apikey={VISITOR_KEY}") } else { String::new() };
        let send = |method: &str, path: &str, cookie: &Option<String>| {
            let cookie = cookie.as_ref().map(|c| format!("Cookie: {c}"));
            let body = (method == "POST").then_some(r#"{"prompt":"a","styleName":"standard"}"#);
            let headers: Vec<&str> = cookie.iter().map(String::as_str).collect();
            request(addr, method, &format!("{path}{key}"), &headers, body)
        };

        echo.answer_with(200);
        let created = send("POST", "/api/creation", &None);
        assert_clean(&format!("{mode} create"), &created, &forbidden);
        assert_eq!(created.body, r#"{"success":true,"creation_id":"c-1"}"#, "{mode}: {created:?}");
        let cookie = created.header("set-cookie").and_then(|c| c.split(';').next().map(str::to_owned));
        let check = send("GET", "/api/creation/c-1", &cookie);
        assert_clean(&format!("{mode} check"), &check, &forbidden);
        assert_eq!(check.status, 200, "{mode}: {check:?}");
        let done = check.json();
        assert_eq!(done["results"][0], format!("http://{addr}/images/a1.webp"), "{mode}: {done}");
        assert_eq!((done["cost"].as_f64(), done["creation_id"].as_str()), (Some(2.2), Some("c-1")));
        assert_eq!(done["message"], "Images processed succesfully");
        let styles = send("GET", "/api/styles", &cookie);
        assert_clean(&format!("{mode} styles"), &styles, &forbidden);
        assert_eq!(styles.json()["styles"][0]["name"], "standard", "{mode}: {styles:?}");
        if mode == "relay" {
            let balance = send("GET", "/api/balance", &None);
            assert_clean("relay balance", &balance, &forbidden);
            assert_eq!(balance.body, r#"{"success":true,"balance":5.0}"#);
        }

        for (status, expected) in [(401, 401), (429, 429), (500, 500), (302, 502)] {
            echo.answer_with(status);
            let refused = send("GET", "/api/creation/c-1", &cookie);
            assert_clean(&format!("{mode} {status}"), &refused, &forbidden);
            assert_eq!(refused.status, expected, "{mode}: {refused:?}");
            assert_eq!(refused.json()["success"], false, "the API's error shape: {refused:?}");
            assert_eq!(refused.header("location"), None);
            if status == 401 {
                assert!(refused.message().starts_with("refused: [redacted]"), "{refused:?}");
            }
        }
    }
}
