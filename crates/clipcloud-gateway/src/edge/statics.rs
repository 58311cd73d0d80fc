//! `--static-dir`: the built app (`dist/`), served beside the API on one origin.
//!
//! - `GET`/`HEAD` only (`405` with `Allow` otherwise). A path that is a file under the
//!   folder gets that file; a path whose last segment has no extension and is not a file
//!   (a client-side route, `/`, a folder) gets `index.html`; anything else a 404 in the
//!   API's shape (`{"success":false,"message":...}`), as do the service paths (`/api`,
//!   `/images`, `/gateway`) that reach it, whatever the method.
//! - A file's precompressed copies beside it (`app.wasm.br`, `app.wasm.gz`, written by the
//!   app's build) are sent instead when the browser accepts that encoding (the higher
//!   `q` wins, brotli on a tie), with `Content-Encoding` and `Vary: accept-encoding`.
//! - A page (HTML) comes with its own `<link rel="preload">` tags as a `Link` header too, so
//!   the browser starts the wasm before parsing the page, and with its own policy for the
//!   security headers ([`PageCsp`]): both read from its `<head>` ([`page::PageHeaders`]) once
//!   per version of the file and kept in the cache beside its bytes.
//! - `index.html` is checked on every visit (`no-cache`); files named by their content's
//!   hash are kept for a year (`immutable`); anything else for an hour.
//! - Never a file outside the folder, and never one the folder does not hold as a plain
//!   file: refused (404) are `..` and `.` segments, dotfiles and dot-folders, backslashes,
//!   NUL and control characters, empty segments (`//etc/passwd`), percent escapes that
//!   decode to `.`, `/`, `\` or a control character, and **any symlink** under the folder
//!   (even one pointing inside): each component is checked with `symlink_metadata`, and the
//!   opened file must be the one checked (same device and inode). The folder itself may
//!   be a symlink (`current -> releases/42`): it is resolved once, at start.
//! - Bounded: files over [`MAX_FILE_SIZE`] are refused; reads run on the blocking pool;
//!   what is read is kept in a cache of at most [`CACHE_BUDGET`] bytes, shared by every
//!   answer in flight, so memory is bounded by the folder, not by how many strangers ask.
//!   A file changed in place (new build) is read again: the cache checks its size, inode
//!   and times on every request.
//!
//! ```ignore
//! let site = Site::open(Path::new("dist"))?;
//! let security = Arc::new(SecurityHeaders::new(site.page_csp().map(str::to_owned), https));
//! let app = Router::new()
//!     .fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
//!         let site = site.clone();
//!         async move { site.serve(&method, &uri, &headers).await }
//!     })
//!     .layer(from_fn_with_state(security, headers::layer));
//! ```

use crate::edge::headers::{self, PageCsp};
use crate::edge::page::{self, PageHeaders};
use crate::refusal::Refusal;
use axum::body::{Body, Bytes};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::response::Response;
use std::collections::HashMap;
use std::fs::Metadata;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The largest file served.
pub const MAX_FILE_SIZE: u64 = 32 * 1024 * 1024;
/// The most bytes of files kept in memory at once.
pub const CACHE_BUDGET: u64 = 64 * 1024 * 1024;

/// The page's `Link` header where the app's first calls carry no key (operator-key mode with
/// open access): its balance and styles are fetched with the page's files, not one round
/// trip after the app starts. Free reads only: never a create, never a key. The attributes
/// give the request the app's own `fetch` makes (same URL, `cors` mode, same-origin
/// credentials, no extra header), so the browser hands the app the preloaded answers.
pub const CONNECT_PRELOAD: &str =
    "</api/balance>; rel=preload; as=fetch; crossorigin, </api/styles>; rel=preload; as=fetch; crossorigin";

/// The encodings a file may have been precompressed with, preferred first on equal `q`:
/// the encoding's name and the suffix of its copy.
const ENCODINGS: [(&str, &str); 2] = [("br", ".br"), ("gzip", ".gz")];

/// A folder of the built app, ready to serve. Cheap to clone (shared inside).
#[derive(Clone)]
pub struct Site {
    inner: Arc<Inner>,
}

struct Inner {
    /// Canonical: no symlink, no `..`.
    root: PathBuf,
    max_file_size: u64,
    page_csp: Option<String>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("root", &self.inner.root).finish_non_exhaustive()
    }
}

impl Site {
    /// The folder `dir`, which must hold an `index.html` (a plain file, not a symlink).
    pub fn open(dir: &Path) -> Result<Site, String> {
        Self::with_limits(dir, MAX_FILE_SIZE, CACHE_BUDGET)
    }

    /// [`Site::open`] with other bounds: the largest file served, and the most bytes kept
    /// in memory (at least `max_file_size`).
    pub fn with_limits(dir: &Path, max_file_size: u64, cache_budget: u64) -> Result<Site, String> {
        let shown = dir.display();
        let root = dir.canonicalize().map_err(|e| format!("--static-dir {shown}: {e}"))?;
        if !root.is_dir() {
            return Err(format!("--static-dir {shown}: not a folder"));
        }
        let cache = Cache { budget: cache_budget.max(max_file_size), ..Cache::default() };
        let mut inner = Inner { root, max_file_size, page_csp: None, cache: Mutex::new(cache) };
        let index = match inner.locate(&["index.html".to_owned()]) {
            Found::File(path, meta) => inner.load(&path, &meta),
            Found::Missing => Err("no index.html in it".to_owned()),
            Found::Refused => Err("its index.html is not a plain file (a symlink?)".to_owned()),
        }
        .map_err(|e| format!("--static-dir {shown}: {e}"))?;
        inner.page_csp = page::page_csp(&String::from_utf8_lossy(&index));
        Ok(Site { inner: Arc::new(inner) })
    }

    /// The folder, resolved.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The policy of `index.html`'s `<meta http-equiv="Content-Security-Policy">` when
    /// the site was opened, for [`headers::SecurityHeaders::new`]. (Each page served also
    /// carries its current policy as a [`PageCsp`], which the headers layer prefers.)
    pub fn page_csp(&self) -> Option<&str> {
        self.inner.page_csp.as_deref()
    }

    /// The answer for one request that no other route took.
    pub async fn serve(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Response {
        let path = uri.path();
        if headers::is_service_path(path) {
            return refusal(StatusCode::NOT_FOUND, "no such endpoint");
        }
        if method != Method::GET && method != Method::HEAD {
            let mut response = refusal(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD");
            response.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let Some(request) = Requested::parse(path) else { return not_found() };
        let accept = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let encodings = preferred_encodings(accept);
        let inner = self.inner.clone();
        let read = tokio::task::spawn_blocking(move || inner.read(&request, &encodings)).await;
        let Ok(Some(file)) = read else { return not_found() };
        file.into_response(method == Method::HEAD)
    }
}

/// A URL path, checked: the decoded segments, and whether it ended with `/`.
#[derive(Debug, PartialEq, Eq)]
struct Requested {
    segments: Vec<String>,
    trailing_slash: bool,
}

impl Requested {
    /// `None`: refused (see the module's list).
    fn parse(path: &str) -> Option<Self> {
        let rest = path.strip_prefix('/')?;
        let mut segments = Vec::new();
        let mut trailing_slash = false;
        if !rest.is_empty() {
            let parts: Vec<&str> = rest.split('/').collect();
            for (i, raw) in parts.iter().enumerate() {
                if raw.is_empty() {
                    if i + 1 == parts.len() {
                        trailing_slash = true;
                        break;
                    }
                    return None;
                }
                segments.push(segment(raw)?);
            }
        }
        Some(Self { segments, trailing_slash })
    }

    /// A client-side route: its last segment has no extension.
    fn is_route(&self) -> bool {
        self.segments.last().is_none_or(|last| !last.contains('.'))
    }
}

/// One path segment, percent-decoded; `None` when it is not a plain file name.
fn segment(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            let decoded = u8::from_str_radix(hex, 16).ok()?;
            // An escaped dot, slash or backslash only ever hides a trick.
            if matches!(decoded, b'.' | b'/' | b'\\') || decoded.is_ascii_control() {
                return None;
            }
            out.push(decoded);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    let name = String::from_utf8(out).ok()?;
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\'])
        && !name.chars().any(char::is_control);
    plain.then_some(name)
}

/// What is at a path under the root.
enum Found {
    /// A plain file (not a symlink), with what `symlink_metadata` said of it.
    File(PathBuf, Metadata),
    /// Nothing, or a folder: a client-side route may have the page.
    Missing,
    /// A symlink on the way, or something that is neither a file nor a folder.
    Refused,
}

/// A file read for an answer.
struct Served {
    bytes: Bytes,
    content_type: &'static str,
    cache_control: &'static str,
    encoding: Option<&'static str>,
    /// For HTML: the page's own policy.
    page_csp: Option<PageCsp>,
    /// For HTML: its own preloads, as a `Link` header ([`page::page_preloads`]).
    page_link: Option<HeaderValue>,
}

impl Served {
    fn into_response(self, head: bool) -> Response {
        let length = self.bytes.len();
        let body = if head { Body::empty() } else { Body::from(self.bytes) };
        let mut response = Response::new(body);
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(self.cache_control));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
        // Caches keep one copy per encoding.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(encoding) = self.encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        if let Some(link) = self.page_link {
            headers.insert(header::LINK, link);
        }
        if let Some(page_csp) = self.page_csp {
            response.extensions_mut().insert(page_csp);
        }
        response
    }
}

impl Inner {
    /// Walks `segments` from the root, one `symlink_metadata` per component.
    fn locate(&self, segments: &[String]) -> Found {
        let mut path = self.root.clone();
        for (i, segment) in segments.iter().enumerate() {
            path.push(segment);
            let Ok(meta) = std::fs::symlink_metadata(&path) else { return Found::Missing };
            let kind = meta.file_type();
            if kind.is_symlink() {
                return Found::Refused;
            }
            let last = i + 1 == segments.len();
            if kind.is_dir() {
                if last {
                    return Found::Missing;
                }
            } else if !last {
                // `/index.html/x`: not a folder, so nothing is under it.
                return Found::Missing;
            } else if kind.is_file() {
                return Found::File(path, meta);
            } else {
                return Found::Refused;
            }
        }
        Found::Missing
    }

    /// The answer's file (a precompressed copy when one is accepted), or `None` for a 404.
    fn read(&self, request: &Requested, encodings: &[(&'static str, &'static str)]) -> Option<Served> {
        let found = if request.trailing_slash { Found::Missing } else { self.locate(&request.segments) };
        let (path, meta) = match found {
            Found::File(path, meta) => (path, meta),
            Found::Missing if request.is_route() => match self.locate(&["index.html".to_owned()]) {
                Found::File(path, meta) => (path, meta),
                _ => return None,
            },
            Found::Missing | Found::Refused => return None,
        };
        let content_type = content_type(&path);
        let mut served = None;
        for &(encoding, suffix) in encodings {
            let mut copy = path.clone().into_os_string();
            copy.push(suffix);
            let copy = PathBuf::from(copy);
            // A copy in the same (checked) folder: only its own kind is left to check.
            let Ok(copy_meta) = std::fs::symlink_metadata(&copy) else { continue };
            if copy_meta.file_type().is_file() {
                if let Ok(bytes) = self.load(&copy, &copy_meta) {
                    served = Some((bytes, Some(encoding)));
                    break;
                }
            }
        }
        let (bytes, encoding) = match served {
            Some(served) => served,
            None => (self.load(&path, &meta).ok()?, None),
        };
        let (page_csp, page_link) = if content_type.starts_with("text/html") {
            let page = self.page_headers(&path, &meta)?;
            (Some(PageCsp(page.csp)), page.preloads)
        } else {
            (None, None)
        };
        let cache_control = cache_control(&path);
        Some(Served { bytes, content_type, cache_control, encoding, page_csp, page_link })
    }

    /// What the page at `path` asks of its headers: read from its `<head>` when this version
    /// of the file is first served, then kept in the cache beside its bytes.
    fn page_headers(&self, path: &Path, checked: &Metadata) -> Option<PageHeaders> {
        let stamp = Stamp::of(checked);
        if let Some(page) = self.cache.lock().ok().and_then(|cache| cache.page(path, &stamp)) {
            return Some(page);
        }
        let bytes = self.load(path, checked).ok()?;
        let page = PageHeaders::read(&String::from_utf8_lossy(&bytes));
        if let Ok(mut cache) = self.cache.lock() {
            cache.keep_page(path, &stamp, page.clone());
        }
        Some(page)
    }

    /// A checked file's bytes: from the cache when the file is unchanged, else read (and
    /// kept). Refused: larger than the bound, or not the file that was checked.
    fn load(&self, path: &Path, checked: &Metadata) -> Result<Bytes, String> {
        if checked.len() > self.max_file_size {
            return Err(format!("larger than {} bytes", self.max_file_size));
        }
        let stamp = Stamp::of(checked);
        if let Some(bytes) = self.cache.lock().ok().and_then(|cache| cache.get(path, &stamp)) {
            return Ok(bytes);
        }
        let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let opened = file.metadata().map_err(|e| e.to_string())?;
        // Swapped for a symlink or another file since it was checked: not served.
        if !opened.is_file() || Stamp::of(&opened) != stamp {
            return Err("changed while being read".into());
        }
        let mut bytes = Vec::with_capacity(opened.len() as usize);
        file.by_ref().take(self.max_file_size + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        if bytes.len() as u64 != stamp.len {
            return Err("changed while being read".into());
        }
        let bytes = Bytes::from(bytes);
        if let Ok(mut cache) = self.cache.lock() {
            cache.put(path.to_path_buf(), stamp, bytes.clone());
        }
        Ok(bytes)
    }
}

/// What identifies one version of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(meta: &Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// Files read, by path; bounded in bytes. When a file would overflow it, everything is
/// dropped (answers in flight keep their own reference): a folder larger than the budget
/// is read again more often, never held twice.
#[derive(Default)]
struct Cache {
    files: HashMap<PathBuf, Kept>,
    total: u64,
    budget: u64,
}

/// One version of a file, as the cache keeps it.
struct Kept {
    stamp: Stamp,
    bytes: Bytes,
    /// For a page, once it has been served: what its `<head>` asks of its headers.
    page: Option<PageHeaders>,
}

impl Cache {
    fn get(&self, path: &Path, stamp: &Stamp) -> Option<Bytes> {
        self.files.get(path).filter(|kept| kept.stamp == *stamp).map(|kept| kept.bytes.clone())
    }

    fn page(&self, path: &Path, stamp: &Stamp) -> Option<PageHeaders> {
        self.files.get(path).filter(|kept| kept.stamp == *stamp).and_then(|kept| kept.page.clone())
    }

    /// Keeps `page` beside the bytes of that version of the file, if they are kept.
    fn keep_page(&mut self, path: &Path, stamp: &Stamp, page: PageHeaders) {
        if let Some(kept) = self.files.get_mut(path).filter(|kept| kept.stamp == *stamp) {
            kept.page = Some(page);
        }
    }

    fn put(&mut self, path: PathBuf, stamp: Stamp, bytes: Bytes) {
        let size = bytes.len() as u64;
        if size > self.budget {
            return;
        }
        if let Some(old) = self.files.remove(&path) {
            self.total -= old.bytes.len() as u64;
        }
        if self.total + size > self.budget {
            self.files.clear();
            self.total = 0;
        }
        self.total += size;
        self.files.insert(path, Kept { stamp, bytes, page: None });
    }
}

/// The `q` an `Accept-Encoding` value gives `encoding` (by name, else `*`; 0 when
/// neither). A `q` that does not parse counts as 1, as a missing one does.
pub fn quality(accept_encoding: &str, encoding: &str) -> f32 {
    let mut named = None;
    let mut any = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .filter(|q| q.is_finite())
            .map_or(1.0, |q| q.clamp(0.0, 1.0));
        if name.eq_ignore_ascii_case(encoding) {
            named = Some(q);
        } else if name == "*" {
            any = Some(q);
        }
    }
    named.or(any).unwrap_or(0.0)
}

/// Whether an `Accept-Encoding` value accepts `encoding` (named, or `*`, with q > 0).
pub fn accepts(accept_encoding: &str, encoding: &str) -> bool {
    quality(accept_encoding, encoding) > 0.0
}

/// The precompressed copies to try, best first: accepted ones only, higher `q` first,
/// brotli before gzip on a tie.
fn preferred_encodings(accept_encoding: &str) -> Vec<(&'static str, &'static str)> {
    let mut ranked: Vec<(f32, (&str, &str))> = ENCODINGS
        .iter()
        .map(|&(name, suffix)| (quality(accept_encoding, name), (name, suffix)))
        .filter(|(q, _)| *q > 0.0)
        .collect();
    // Stable: equal weights keep ENCODINGS' order.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    ranked.into_iter().map(|(_, encoding)| encoding).collect()
}

/// Content type by file extension: what the app's build produces, and a few more.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "woff2" => "font/woff2",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The page is checked on every visit (it names the other files). A file whose name
/// carries its content's hash (`name-<16 hex digits>.ext`, `_bg.wasm` for the wasm) never
/// changes, so it is kept for a year; anything else for an hour.
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

/// An answer in the API's error shape. The path asked for is not repeated.
fn refusal(status: StatusCode, message: &str) -> Response {
    Refusal::new(status, message).into_response()
}

fn not_found() -> Response {
    refusal(StatusCode::NOT_FOUND, "not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segments(path: &str) -> Option<Vec<String>> {
        Requested::parse(path).map(|r| r.segments)
    }

    #[test]
    fn plain_paths_are_decoded_into_segments() {
        assert_eq!(segments("/"), Some(vec![]));
        assert_eq!(segments("/app.js"), Some(vec!["app.js".to_owned()]));
        assert_eq!(segments("/a/b%20c.txt"), Some(vec!["a".to_owned(), "b c.txt".to_owned()]));
        assert_eq!(segments("/caf%C3%A9"), Some(vec!["café".to_owned()]));
        let dir = Requested::parse("/history/").unwrap();
        assert!(dir.trailing_slash && dir.is_route());
        assert!(Requested::parse("/creation/abc").unwrap().is_route());
        assert!(!Requested::parse("/missing.js").unwrap().is_route());
        assert!(Requested::parse("/").unwrap().is_route());
    }

    #[test]
    fn tricks_are_refused() {
        for path in [
            "",
            "*",
            "app.js",
            "/..",
            "/../etc/passwd",
            "/a/../b",
            "/./index.html",
            "/a/%2e%2e/b",
            "/%2e%2e/x",
            "/%2E%2E/x",
            "/..%2fx",
            "/%2fetc%2fpasswd",
            "/a%5c..%5cb",
            "/..;/x",
            "/..\\x",
            "/a\\b",
            "//etc/passwd",
            "/a//b",
            "/.env",
            "/.git/config",
            "/a/.hidden/b",
            "/x%00.js",
            "/x%0a",
            "/x%1",
            "/x%zz",
            "/x%",
            "/a%2eb",
            "/%ff",
        ] {
            assert_eq!(Requested::parse(path), None, "{path}");
        }
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
        assert_eq!(content_type(Path::new("x_bg.wasm")), "application/wasm");
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
        assert!(accepts("gzip;q=nonsense", "gzip"));
    }

    #[test]
    fn brotli_first_unless_gzip_weighs_more() {
        let names =
            |accept| preferred_encodings(accept).into_iter().map(|(name, _)| name).collect::<Vec<_>>();
        assert_eq!(names("gzip, deflate, br, zstd"), ["br", "gzip"]);
        assert_eq!(names("br;q=0.5, gzip"), ["gzip", "br"]);
        assert_eq!(names("br;q=0.8, gzip;q=0.8"), ["br", "gzip"]);
        assert_eq!(names("gzip"), ["gzip"]);
        assert_eq!(names("*;q=0.1, br;q=0"), ["gzip"]);
        assert_eq!(names("identity"), Vec::<&str>::new());
    }

    #[test]
    fn the_cache_stays_within_its_budget() {
        let stamp = |ino| Stamp { dev: 1, ino, len: 4, mtime: (0, 0), ctime: (0, 0) };
        let mut cache = Cache { budget: 10, ..Cache::default() };
        cache.put("/a".into(), stamp(1), Bytes::from_static(b"aaaa"));
        cache.put("/b".into(), stamp(2), Bytes::from_static(b"bbbb"));
        assert_eq!(cache.get(Path::new("/a"), &stamp(1)).as_deref(), Some(&b"aaaa"[..]));
        // Another version of the file is not the one kept.
        assert_eq!(cache.get(Path::new("/a"), &stamp(9)), None);
        cache.put("/a".into(), stamp(1), Bytes::from_static(b"aaaa"));
        assert_eq!(cache.total, 8);
        cache.put("/c".into(), stamp(3), Bytes::from_static(b"cccc"));
        assert!(cache.total <= 10);
        assert_eq!(cache.get(Path::new("/c"), &stamp(3)).as_deref(), Some(&b"cccc"[..]));
        cache.put("/big".into(), stamp(4), Bytes::from_static(b"01234567890"));
        assert_eq!(cache.get(Path::new("/big"), &stamp(4)), None);
    }

    #[test]
    fn a_pages_headers_are_kept_with_its_version_only() {
        let stamp = |ino| Stamp { dev: 1, ino, len: 4, mtime: (0, 0), ctime: (0, 0) };
        let page = PageHeaders { csp: Some(HeaderValue::from_static("default-src 'self'")), preloads: None };
        let mut cache = Cache { budget: 100, ..Cache::default() };
        let index = Path::new("/index.html");
        // Nothing to keep them beside until the bytes are kept.
        cache.keep_page(index, &stamp(1), page.clone());
        assert_eq!(cache.page(index, &stamp(1)), None);
        cache.put(index.into(), stamp(1), Bytes::from_static(b"v1.."));
        cache.keep_page(index, &stamp(2), page.clone());
        assert_eq!(cache.page(index, &stamp(1)), None, "another version's headers");
        cache.keep_page(index, &stamp(1), page.clone());
        assert_eq!(cache.page(index, &stamp(1)), Some(page));
        // A new build in place: its headers are read again.
        cache.put(index.into(), stamp(2), Bytes::from_static(b"v2.."));
        assert_eq!(cache.page(index, &stamp(2)), None);
        assert_eq!(cache.page(index, &stamp(1)), None);
    }
}
