//! The page's `Link` header, through the gateway's own router (`Router::oneshot`): the
//! page's preload tags in every mode; the app's first two calls (balance and styles) only
//! where they need no key — operator-key mode with open access — never a key, never a create.

mod common;

use axum::body::Body;
use axum::http::{header, Request};
use clipcloud_gateway::config;
use clipcloud_gateway::edge::server;
use clipcloud_gateway::edge::statics::CONNECT_PRELOAD;
use clipcloud_gateway::Gateway;
use common::*;
use std::sync::Arc;
use tower::ServiceExt;

const OPERATOR_KEY: &str = "sk-OPERATOR-SECRET-1234";
const PASSPHRASE: &str = "open-sesame-PASS";
const WASM: &str = "app-0123456789abcdef_bg.wasm";
const INTEGRITY: &str = "sha384-AbC+/9=";

/// Trunk's tags, as `dist/index.html` has them, and some a `Link` header must not carry.
fn index_html() -> String {
    format!(
        "<!doctype html>\n<html><head>\n  \
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; connect-src 'self'\">\n  \
         <link rel=\"preload\" href=\"/gateway/info\" as=\"fetch\" crossorigin>\n  \
         <link rel=\"stylesheet\" href=\"/app-0123456789abcdef.css\">\n  \
         <link rel=\"preload\" href=\"https://cdn.example/x.js\" as=\"script\">\n  \
         <script type=\"module\">import init from '/app-0123456789abcdef.js'; await init();</script>\n\
         <link rel=\"modulepreload\" href=\"/app-0123456789abcdef.js\" crossorigin=\"anonymous\" integrity=\"{INTEGRITY}\">\
         <link rel=\"preload\" href=\"/{WASM}\" crossorigin=\"anonymous\" integrity=\"{INTEGRITY}\" as=\"fetch\" type=\"application/wasm\">\
         </head>\n<body></body></html>\n"
    )
}

/// The page's own preloads: the module's is left to its tag.
const PAGE_PRELOADS: &str = "</gateway/info>; rel=preload; as=fetch; crossorigin, \
    </app-0123456789abcdef_bg.wasm>; rel=preload; as=fetch; type=\"application/wasm\"; crossorigin; integrity=\"sha384-AbC+/9=\"";

fn dist() -> String {
    let dir = temp_dir("preload-dist");
    std::fs::write(dir.join("index.html"), index_html()).unwrap();
    std::fs::write(dir.join(WASM), "wasm").unwrap();
    std::fs::write(dir.join("app-0123456789abcdef.js"), "js").unwrap();
    dir.to_string_lossy().into_owned()
}

/// A gateway's router for these command-line flags, serving the test page. No request here
/// goes upstream (nothing listens on port 9).
async fn router(flags: &[&str]) -> axum::Router {
    let dist = dist();
    let mut args = vec!["--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:9", "--log-format", "off"];
    args.extend(["--static-dir", &dist]);
    args.extend(flags);
    let config = config::parse(args).unwrap();
    server::router(Arc::new(Gateway::open(config).await.unwrap()))
}

/// Every `Link` header field of the answer to `method path`, joined as one list, and the
/// whole head as text.
async fn links(router: &axum::Router, method: &str, path: &str) -> (Option<String>, String) {
    let request = Request::builder().method(method).uri(path).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let fields: Vec<&str> =
        response.headers().get_all(header::LINK).iter().map(|v| v.to_str().unwrap()).collect();
    let head = format!("{} {:?}", response.status(), response.headers());
    ((!fields.is_empty()).then(|| fields.join(", ")), head)
}

#[tokio::test]
async fn open_operator_mode_preloads_the_first_calls_with_the_page() {
    let key_file = secret_file("key", OPERATOR_KEY);
    let router = router(&["--key-file", &key_file, "--ledger", ":memory:"]).await;
    let with_calls = format!("{PAGE_PRELOADS}, {CONNECT_PRELOAD}");
    for (method, path) in [("GET", "/"), ("GET", "/creation/abc"), ("HEAD", "/")] {
        let (link, head) = links(&router, method, path).await;
        assert_eq!(link.as_deref(), Some(with_calls.as_str()), "{method} {path}");
        assert!(!head.contains(OPERATOR_KEY), "{head}");
    }
    let link = links(&router, "GET", "/").await.0.unwrap();
    assert!(link.contains("</api/balance>; rel=preload; as=fetch; crossorigin"), "{link}");
    assert!(link.contains("</api/styles>; rel=preload; as=fetch; crossorigin"), "{link}");
    // Free reads only: no create, no check, no key in any spelling.
    assert!(!link.contains("/api/creation") && !link.to_ascii_lowercase().contains("apikey"), "{link}");
    // Only pages: not the other files, not a 404, not the gateway's own answers.
    for path in ["/app-0123456789abcdef.js", "/missing.js", "/gateway/info"] {
        let (link, head) = links(&router, "GET", path).await;
        assert_eq!(link, None, "{path}: {head}");
    }
}

#[tokio::test]
async fn where_a_key_is_needed_the_page_preloads_only_its_files() {
    let key_file = secret_file("key", OPERATOR_KEY);
    let passphrase = secret_file("passphrase", PASSPHRASE);
    let relay = router(&[]).await;
    let guarded =
        router(&["--key-file", &key_file, "--ledger", ":memory:", "--passphrase-file", &passphrase]).await;
    for router in [relay, guarded] {
        let (link, head) = links(&router, "GET", "/").await;
        assert_eq!(link.as_deref(), Some(PAGE_PRELOADS), "{head}");
        assert!(
            !head.contains("/api/") && !head.contains(OPERATOR_KEY) && !head.contains(PASSPHRASE),
            "{head}"
        );
    }
}
