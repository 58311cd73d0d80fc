//! The app's files over real HTTP: a `Site` behind the security headers on a loopback
//! port, asked with raw requests over a `TcpStream`, so `..`, `%2e%2e`, `..;/`,
//! backslashes and absolute-form targets reach the server as they were written.

use axum::http::{header, HeaderMap, Method, Uri};
use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::Router;
use clipcloud_gateway::edge::headers::{self, SecurityHeaders, STRICT_CSP};
use clipcloud_gateway::edge::statics::Site;
use std::net::SocketAddr;
use std::os::unix::fs::symlink;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const POLICY: &str = "default-src 'none'; script-src 'self' 'sha256-AbC+/=' 'wasm-unsafe-eval'; connect-src 'self' https://clipcloud.clipai.pro";
const SECRET: &str = "OUTSIDE-SECRET";
const DOT_SECRET: &str = "DOTFILE-SECRET";
const HASHED_JS: &str = "app-0123456789abcdef.js";

fn index_html(policy: &str) -> String {
    format!(
        "<!doctype html>\n<html><head>\n  <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n  \
         <title>ClipCloud</title>\n</head><body>THE-APP</body></html>\n"
    )
}

/// A folder `base/` with `dist/` (the app, dotfiles, symlinks in and out) and `outside/`.
struct Fixture {
    base: PathBuf,
    dist: PathBuf,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let base =
            std::env::temp_dir().join(format!("clipcloud-gateway-statics-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let dist = base.join("dist");
        for dir in ["dist/sub", "dist/.git", "outside"] {
            std::fs::create_dir_all(base.join(dir)).unwrap();
        }
        let write = |path: &str, text: &str| std::fs::write(base.join(path), text).unwrap();
        write("outside/secret.txt", SECRET);
        write("outside/secret", SECRET);
        write("dist/index.html", &index_html(POLICY));
        write("dist/index.html.br", "BR:index");
        write(&format!("dist/{HASHED_JS}"), "PLAIN:app");
        write(&format!("dist/{HASHED_JS}.br"), "BR:app");
        write(&format!("dist/{HASHED_JS}.gz"), "GZ:app");
        write("dist/robots.txt", "PLAIN:robots");
        write("dist/sw.js", "PLAIN:worker");
        write("dist/plain.txt", "PLAIN:plain");
        write("dist/sub/real.txt", "PLAIN:sub");
        write("dist/sub/.hidden.txt", DOT_SECRET);
        write("dist/.env", DOT_SECRET);
        write("dist/.git/config", DOT_SECRET);
        write("dist/big.txt", &"x".repeat(3000));
        let link = |target: &str, at: &str| symlink(target, base.join(at)).unwrap();
        link("../outside/secret.txt", "dist/link-out.txt");
        link("../outside/secret", "dist/link-out");
        link(HASHED_JS, "dist/link-in.js");
        link("../outside", "dist/linkdir");
        link("sub", "dist/sublink");
        // A precompressed copy that is a symlink is never sent.
        link("../outside/secret.txt", "dist/plain.txt.br");
        Self { base, dist }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// A router as the gateway builds one: two service routes, the site for the rest, the
/// security headers around everything.
async fn start(site: Site, https: bool) -> SocketAddr {
    let security = Arc::new(SecurityHeaders::new(site.page_csp().map(str::to_owned), https));
    let app = Router::new()
        .route(
            "/api/balance",
            get(|| async {
                ([(header::CONTENT_TYPE, "application/json")], r#"{"success":true,"balance":"1.00"}"#)
            }),
        )
        .route("/images/{*name}", get(|| async { ([(header::CONTENT_TYPE, "image/webp")], "RIFF") }))
        .fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
            let site = site.clone();
            async move { site.serve(&method, &uri, &headers).await }
        })
        .layer(from_fn_with_state(security, headers::layer));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn is_api_404(&self) -> bool {
        self.status == 404
            && self.header("content-type") == Some("application/json")
            && self.body.starts_with(r#"{"success":false,"message":"#)
    }
}

/// One request, written byte for byte as given.
async fn raw(addr: SocketAddr, method: &str, target: &str, extra: &[(&str, &str)]) -> Reply {
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in extra {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(body) } else { body.to_owned() };
    Reply { status, headers, body }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

async fn get_path(addr: SocketAddr, target: &str) -> Reply {
    raw(addr, "GET", target, &[]).await
}

#[tokio::test]
async fn traversal_never_leaves_the_folder() {
    let fixture = Fixture::new("traversal");
    let addr = start(Site::open(&fixture.dist).unwrap(), false).await;
    let host = addr.to_string();
    let absolute = [
        format!("http://{host}/../outside/secret.txt"),
        format!("http://{host}/%2e%2e/outside/secret.txt"),
        "http://evil.example/../outside/secret.txt".to_owned(),
    ];
    let targets = [
        "/../outside/secret.txt",
        "/../../../../../../etc/passwd",
        "/sub/../../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/%2e%2e%2foutside%2fsecret.txt",
        "/..%2foutside%2fsecret.txt",
        "/sub/%2e%2e/%2e%2e/outside/secret.txt",
        "/..;/outside/secret.txt",
        "/sub/..;/..;/outside/secret.txt",
        "/..\\outside\\secret.txt",
        "/%5c..%5coutside%5csecret.txt",
        "/sub%5c..%5c..%5coutside%5csecret.txt",
        "/./index.html",
        "//outside/secret.txt",
        "/sub//real.txt",
        "/index.html%00.txt",
        "/%00",
        "/plain.txt%0a",
    ];
    let targets = targets.iter().map(|t| t.to_string()).chain(absolute);
    for target in targets {
        let reply = get_path(addr, &target).await;
        assert!(!reply.body.contains(SECRET), "{target}: {reply:?}");
        // Each reaches the site unnormalized, and is refused in the API's shape.
        assert!(reply.is_api_404(), "{target}: {reply:?}");
    }
    // An absolute path is a path under the folder: here a client-side route, the page.
    for target in ["/etc/passwd", &format!("http://{host}/etc/passwd"), "http://evil.example/outside/secret"]
    {
        let reply = get_path(addr, target).await;
        assert_eq!(reply.status, 200, "{target}: {reply:?}");
        assert!(reply.body.contains("THE-APP") && !reply.body.contains(SECRET), "{target}: {reply:?}");
    }
}

#[tokio::test]
async fn dotfiles_and_dot_folders_are_refused() {
    let fixture = Fixture::new("dotfiles");
    let addr = start(Site::open(&fixture.dist).unwrap(), false).await;
    for target in
        ["/.env", "/.git/config", "/.git/", "/.git", "/sub/.hidden.txt", "/%2eenv", "/.well-known/x"]
    {
        let reply = get_path(addr, target).await;
        assert!(reply.is_api_404(), "{target}: {reply:?}");
        assert!(!reply.body.contains(DOT_SECRET), "{target}");
    }
}

#[tokio::test]
async fn symlinks_are_refused_wherever_they_point() {
    let fixture = Fixture::new("symlinks");
    let addr = start(Site::open(&fixture.dist).unwrap(), false).await;
    // Out of the folder, into it, a folder out, a folder in, one that would be a route.
    for target in ["/link-out.txt", "/link-in.js", "/linkdir/secret.txt", "/sublink/real.txt", "/link-out"] {
        let reply = get_path(addr, target).await;
        assert!(reply.is_api_404(), "{target}: {reply:?}");
        assert!(!reply.body.contains(SECRET));
    }
    // The same files reached without a symlink are served.
    assert_eq!(get_path(addr, "/sub/real.txt").await.body, "PLAIN:sub");
    assert_eq!(get_path(addr, &format!("/{HASHED_JS}")).await.body, "PLAIN:app");
    // A symlinked precompressed copy is skipped: the plain file goes out.
    let reply = raw(addr, "GET", "/plain.txt", &[("Accept-Encoding", "br")]).await;
    assert_eq!(
        (reply.status, reply.body.as_str(), reply.header("content-encoding")),
        (200, "PLAIN:plain", None)
    );

    // A symlinked index.html is refused at start; the folder itself may be a symlink.
    let index = fixture.base.join("index-link");
    std::fs::create_dir_all(&index).unwrap();
    symlink(fixture.dist.join("index.html"), index.join("index.html")).unwrap();
    let err = Site::open(&index).unwrap_err();
    assert!(err.contains("not a plain file"), "{err}");
    assert!(Site::open(&fixture.base.join("nowhere")).is_err());
    assert!(Site::open(&fixture.base.join("outside")).unwrap_err().contains("no index.html"));
    let current = fixture.base.join("current");
    symlink("dist", &current).unwrap();
    let addr = start(Site::open(&current).unwrap(), false).await;
    assert_eq!(get_path(addr, "/robots.txt").await.body, "PLAIN:robots");
}

#[tokio::test]
async fn precompressed_copies_follow_accept_encoding() {
    let fixture = Fixture::new("encodings");
    let addr = start(Site::open(&fixture.dist).unwrap(), false).await;
    let js = format!("/{HASHED_JS}");
    for (accept, body, encoding) in [
        (Some("gzip, deflate, br, zstd"), "BR:app", Some("br")),
        (Some("gzip"), "GZ:app", Some("gzip")),
        (Some("br;q=0.2, gzip;q=0.9"), "GZ:app", Some("gzip")),
        (Some("*"), "BR:app", Some("br")),
        (Some("br;q=0, gzip;q=0"), "PLAIN:app", None),
        (Some("identity"), "PLAIN:app", None),
        (None, "PLAIN:app", None),
    ] {
        let extra: Vec<(&str, &str)> = accept.map(|a| ("Accept-Encoding", a)).into_iter().collect();
        let reply = raw(addr, "GET", &js, &extra).await;
        assert_eq!(reply.status, 200, "{accept:?}");
        assert_eq!((reply.body.as_str(), reply.header("content-encoding")), (body, encoding), "{accept:?}");
        assert_eq!(reply.header("vary"), Some("accept-encoding"));
        assert_eq!(reply.header("content-type"), Some("text/javascript; charset=utf-8"));
        assert_eq!(reply.header("cache-control"), Some("public, max-age=31536000, immutable"));
        assert_eq!(reply.header("content-length"), Some(body.len().to_string().as_str()));
    }
    // HEAD: the same headers, no body.
    let reply = raw(addr, "HEAD", &js, &[("Accept-Encoding", "br")]).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, ""));
    assert_eq!(reply.header("content-encoding"), Some("br"));
    assert_eq!(reply.header("content-length"), Some("6"));

    // The page: its brotli copy, checked on every visit, its own policy as a header.
    let reply = raw(addr, "GET", "/", &[("Accept-Encoding", "br, gzip")]).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "BR:index"));
    assert_eq!(reply.header("content-encoding"), Some("br"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    let expected = format!("{POLICY}; frame-ancestors 'none'");
    assert_eq!(reply.header("content-security-policy"), Some(expected.as_str()));
    let reply = get_path(addr, "/robots.txt").await;
    assert_eq!(
        (reply.body.as_str(), reply.header("cache-control")),
        ("PLAIN:robots", Some("public, max-age=3600"))
    );
}

#[tokio::test]
async fn routes_get_the_page_and_missing_files_a_404() {
    let fixture = Fixture::new("routes");
    let addr = start(Site::open(&fixture.dist).unwrap(), false).await;
    for target in ["/", "/history", "/history/", "/creation/abc-123", "/sub", "/sub/", "/index.html", "/?x=1"]
    {
        let reply = get_path(addr, target).await;
        assert_eq!(reply.status, 200, "{target}");
        assert!(reply.body.contains("THE-APP"), "{target}: {reply:?}");
    }
    for target in ["/missing.js", "/sub/missing.txt", "/robots.txt/", "/index.html/x.js"] {
        assert!(get_path(addr, target).await.is_api_404(), "{target}");
    }
    // The service paths the site is asked for: the API's 404, whatever the method.
    for (method, target) in [
        ("GET", "/api/unknown"),
        ("GET", "/api"),
        ("POST", "/api/nothing"),
        ("GET", "/images"),
        ("DELETE", "/gateway/x"),
    ] {
        let reply = raw(addr, method, target, &[("Content-Length", "0")]).await;
        assert!(reply.is_api_404(), "{method} {target}: {reply:?}");
        assert!(reply.body.contains("no such endpoint"), "{reply:?}");
    }
    // Only GET and HEAD.
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let reply = raw(addr, method, "/index.html", &[("Content-Length", "0")]).await;
        assert_eq!(reply.status, 405, "{method}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        assert!(reply.body.starts_with(r#"{"success":false,"message":"#), "{reply:?}");
    }
}

#[tokio::test]
async fn files_over_the_bound_are_refused() {
    let fixture = Fixture::new("bounds");
    let addr = start(Site::with_limits(&fixture.dist, 2048, 4096).unwrap(), false).await;
    assert!(get_path(addr, "/big.txt").await.is_api_404());
    assert_eq!(get_path(addr, "/robots.txt").await.body, "PLAIN:robots");
}

#[tokio::test]
async fn a_new_build_in_place_is_served_with_its_own_policy() {
    let fixture = Fixture::new("rebuild");
    let addr = start(Site::open(&fixture.dist).unwrap(), false).await;
    assert!(get_path(addr, "/").await.header("content-security-policy").unwrap().starts_with(POLICY));
    let policy = "default-src 'self'; script-src 'sha256-NEW'";
    std::fs::remove_file(fixture.dist.join("index.html.br")).unwrap();
    std::fs::write(fixture.dist.join("index.html"), index_html(policy)).unwrap();
    let reply = raw(addr, "GET", "/history", &[("Accept-Encoding", "br")]).await;
    assert!(reply.body.contains("sha256-NEW"), "{reply:?}");
    assert_eq!(
        reply.header("content-security-policy"),
        Some(format!("{policy}; frame-ancestors 'none'").as_str())
    );
    // A page with no policy of its own runs nothing.
    std::fs::write(
        fixture.dist.join("index.html"),
        "<html><head></head><body>THE-APP, no policy</body></html>",
    )
    .unwrap();
    assert_eq!(get_path(addr, "/").await.header("content-security-policy"), Some(STRICT_CSP));
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_hsts_only_behind_https() {
    let fixture = Fixture::new("headers");
    for https in [false, true] {
        let addr = start(Site::open(&fixture.dist).unwrap(), https).await;
        // (method, target, is it the app's own file)
        for (method, target, app_file) in [
            ("GET", "/", true),
            ("GET", "/history", true),
            ("HEAD", "/", true),
            ("GET", "/robots.txt", true),
            ("GET", "/sw.js", true),
            ("GET", "/missing.js", true),
            ("GET", "/../outside/secret.txt", true),
            ("POST", "/", true),
            ("GET", "/api/balance", false),
            ("GET", "/api/unknown", false),
            ("GET", "/images/x.webp", false),
            ("GET", "/gateway/info", false),
        ] {
            let reply = raw(addr, method, target, &[("Content-Length", "0")]).await;
            let what = format!("{method} {target} https={https}: {reply:?}");
            assert_eq!(reply.header("x-content-type-options"), Some("nosniff"), "{what}");
            assert_eq!(reply.header("referrer-policy"), Some("no-referrer"), "{what}");
            assert_eq!(reply.header("x-frame-options"), Some("DENY"), "{what}");
            assert_eq!(reply.header("cross-origin-opener-policy"), Some("same-origin"), "{what}");
            let corp = app_file.then_some("same-origin");
            assert_eq!(reply.header("cross-origin-resource-policy"), corp, "{what}");
            let hsts = https.then_some("max-age=31536000; includeSubDomains");
            assert_eq!(reply.header("strict-transport-security"), hsts, "{what}");
            let csp = reply.header("content-security-policy").unwrap_or_default();
            let page = reply.header("content-type").is_some_and(|t| t.starts_with("text/html"));
            if page {
                assert_eq!(csp, format!("{POLICY}; frame-ancestors 'none'"), "{what}");
            } else if target == headers::WORKER_PATH {
                assert_eq!(csp, headers::WORKER_CSP, "{what}");
            } else {
                assert_eq!(csp, STRICT_CSP, "{what}");
            }
        }
    }
}
