//! `--static-dir`: serves a built single-page app beside the API, so one origin has both
//! (`/` → the SPA, `/api/...` → the API). A GET for a path no endpoint answers gets the
//! file under the directory, or `index.html` for anything that is not a file (client-side
//! routes); API paths and other methods keep the JSON 404.
//!
//! A file's compressed copies beside it (`app.wasm.br`, `app.wasm.gz`, written by the
//! SPA's build) are served instead when the browser accepts that encoding: the bytes a
//! visit downloads are then the compressed ones, as from any static host that serves
//! precompressed files.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Content type by file extension; what the SPA's build produces, and a few more.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file for a URL path inside `root`: no `..`, no hidden names, no absolute parts.
pub fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for part in url_path.split('/').filter(|p| !p.is_empty()) {
        if part.starts_with('.') || part.contains('\\') || part.contains('%') {
            return None;
        }
        path.push(part);
    }
    Some(path)
}

/// The encodings a served file may have been precompressed with, best first: the
/// encoding's name and the suffix of its copy.
const ENCODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// Whether an `Accept-Encoding` value accepts `encoding` (named, or `*`, with q > 0).
pub fn accepts(accept_encoding: &str, encoding: &str) -> bool {
    let mut named = None;
    let mut any = false;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        // `q=0` refuses; a q that does not parse counts as 1, as a missing one does.
        let refused = parts.any(|p| {
            p.trim().strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0)
        });
        if name.eq_ignore_ascii_case(encoding) {
            named = Some(!refused);
        } else if name == "*" {
            any = !refused;
        }
    }
    named.unwrap_or(any)
}

/// The copy of `file` to send, and its `Content-Encoding`: the best precompressed copy the
/// request accepts, else the file itself.
fn pick_encoding(file: &Path, headers: &HeaderMap) -> (PathBuf, Option<&'static str>) {
    let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or_default();
    for (encoding, suffix) in ENCODINGS {
        let mut copy = file.as_os_str().to_owned();
        copy.push(suffix);
        let copy = PathBuf::from(copy);
        if accepts(accept, encoding) && copy.is_file() {
            return (copy, Some(encoding));
        }
    }
    (file.to_path_buf(), None)
}

/// The page is checked on every visit (it names the other files). A file whose name carries
/// its content's hash (`name-<16 hex digits>.ext`, `_bg.wasm` for the wasm) never changes,
/// so it is kept for a year; anything else for an hour.
fn cache_control(file: &Path) -> &'static str {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let hashed = stem.rsplit_once('-').is_some_and(|(_, hash)| {
        hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if name == "index.html" {
        "no-cache"
    } else if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    }
}

fn is_api(path: &str) -> bool {
    ["/api/", "/emulator/", "/images/"].iter().any(|p| path.starts_with(p))
        || path == "/api"
        || path == "/emulator"
}

pub async fn serve(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    let not_found = || ApiError::not_found(format!("no such endpoint: {method} {path}")).into_response();
    let Some(root) = state.static_dir() else { return not_found() };
    if !(method == Method::GET || method == Method::HEAD) || is_api(path) {
        return not_found();
    }
    let (root, path_owned) = (root.to_path_buf(), path.to_owned());
    let read = tokio::task::spawn_blocking(move || {
        let file = match resolve(&root, &path_owned) {
            Some(file) if file != root && file.is_file() => file,
            // `/`, a directory, a client-side route: the app's page.
            _ => root.join("index.html"),
        };
        let (sent, encoding) = pick_encoding(&file, &headers);
        std::fs::read(sent).map(|bytes| (file, encoding, bytes))
    });
    let Ok(Ok((file, encoding, bytes))) = read.await else {
        return ApiError::not_found(format!(
            "no such file: {path} (and no index.html in the static directory)"
        ))
        .into_response();
    };
    let cache = cache_control(&file);
    let mut response = ([(header::CONTENT_TYPE, content_type(&file)), (header::CACHE_CONTROL, cache)], bytes)
        .into_response();
    let response_headers = response.headers_mut();
    // Caches keep one copy per encoding.
    response_headers.insert(header::VARY, header::HeaderValue::from_static("accept-encoding"));
    if let Some(encoding) = encoding {
        response_headers.insert(header::CONTENT_ENCODING, header::HeaderValue::from_static(encoding));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let root = Path::new("/srv/dist");
        assert_eq!(resolve(root, "/app.js"), Some(PathBuf::from("/srv/dist/app.js")));
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/srv/dist")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/a/%2e%2e/b"), None);
        assert_eq!(resolve(root, "/.git/config"), None);
        assert_eq!(content_type(Path::new("x_bg.wasm")), "application/wasm");
        assert!(is_api("/api/balance") && is_api("/images/x.webp") && !is_api("/history"));
    }

    #[test]
    fn hashed_files_are_kept_and_the_page_is_checked() {
        let cache = |name| cache_control(Path::new("/srv/dist").join(name).as_path());
        assert_eq!(cache("index.html"), "no-cache");
        assert_eq!(cache("clipcloud-app-f6d3c5e08d7191d1_bg.wasm"), "public, max-age=31536000, immutable");
        assert_eq!(cache("clipcloud-app-f6d3c5e08d7191d1.js"), "public, max-age=31536000, immutable");
        assert_eq!(cache("app-7e66303337e2b49a.css"), "public, max-age=31536000, immutable");
        assert_eq!(cache("app-7e66303337e2b49X.css"), "public, max-age=3600");
        assert_eq!(cache("robots.txt"), "public, max-age=3600");
    }

    #[test]
    fn accept_encoding_is_read_with_its_weights() {
        assert!(accepts("gzip, deflate, br, zstd", "br"));
        assert!(accepts("gzip, deflate, br, zstd", "gzip"));
        assert!(!accepts("gzip, deflate", "br"));
        assert!(!accepts("", "gzip"));
        assert!(accepts("GZIP;q=0.5", "gzip"));
        assert!(!accepts("gzip;q=0, br", "gzip"));
        assert!(!accepts("gzip; q=0.0", "gzip"));
        assert!(accepts("*", "br"));
        assert!(!accepts("*;q=0", "br"));
        // A named refusal wins over `*`, and a named acceptance over `*;q=0`.
        assert!(!accepts("br;q=0, *", "br"));
        assert!(accepts("*;q=0, gzip", "gzip"));
        assert!(!accepts("identity", "gzip"));
    }
}
