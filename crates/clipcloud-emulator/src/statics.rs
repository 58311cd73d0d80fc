//! `--static-dir`: serves a built single-page app beside the API, so one origin has both
//! (`/` → the SPA, `/api/...` → the API). A GET for a path no endpoint answers gets the
//! file under the directory, or `index.html` for anything that is not a file (client-side
//! routes); API paths and other methods keep the JSON 404.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, Method, Uri};
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

fn is_api(path: &str) -> bool {
    ["/api/", "/emulator/", "/images/"].iter().any(|p| path.starts_with(p))
        || path == "/api"
        || path == "/emulator"
}

pub async fn serve(State(state): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
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
        std::fs::read(&file).map(|bytes| (file, bytes))
    });
    let Ok(Ok((file, bytes))) = read.await else {
        return ApiError::not_found(format!(
            "no such file: {path} (and no index.html in the static directory)"
        ))
        .into_response();
    };
    // The page itself is never cached (it names the hashed files); those may be.
    let cache = if file.ends_with("index.html") { "no-cache" } else { "public, max-age=3600" };
    ([(header::CONTENT_TYPE, content_type(&file)), (header::CACHE_CONTROL, cache)], bytes).into_response()
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
}
