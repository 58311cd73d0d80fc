//! The app's Content-Security-Policy, written into `dist/index.html` after Trunk's build.
//!
//! Trunk starts the wasm from one inline module script; the policy allows exactly that
//! script by its SHA-256 hash, and nothing else inline. Images: http(s) and blob: only;
//! connections: the page's own origin (the gateway that serves it) and the
//! real service, plus `CLIPCLOUD_CONNECT_SRC` for other API origins of a deployment.

use clipcloud::base64;
use sha2::{Digest, Sha256};
use std::path::Path;

const INLINE_START: &str = "<script type=\"module\">";
const REAL_SERVICE: &str = "https://clipcloud.clipai.pro";

pub fn apply(index_html: &Path) -> Result<(), String> {
    let page = std::fs::read_to_string(index_html)
        .map_err(|e| format!("cannot read {}: {e}", index_html.display()))?;
    let extra_origins = std::env::var("CLIPCLOUD_CONNECT_SRC").unwrap_or_default();
    let page = with_policy(&page, &extra_origins)?;
    std::fs::write(index_html, page).map_err(|e| format!("cannot write {}: {e}", index_html.display()))
}

fn with_policy(page: &str, extra_origins: &str) -> Result<String, String> {
    let start = page.find(INLINE_START).ok_or("index.html has no inline module script from Trunk")?
        + INLINE_START.len();
    let end = start + page[start..].find("</script>").ok_or("the inline script is not closed")?;
    if page[end..].contains(INLINE_START) {
        return Err("index.html has more than one inline script: the policy allows only Trunk's".into());
    }
    let hash = base64::encode(&Sha256::digest(&page.as_bytes()[start..end]));
    let connect = format!("'self' {REAL_SERVICE} {extra_origins}");
    let policy = format!(
        "default-src 'none'; script-src 'self' 'sha256-{hash}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' http: https: blob:; connect-src {}; \
         manifest-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'",
        connect.trim_end()
    );
    let meta = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">");
    // First in <head>: the policy must come before anything it governs.
    let head = page.find("<head>").ok_or("index.html has no <head>")? + "<head>".len();
    Ok([&page[..head], "\n  ", &meta, &page[head..]].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_exactly_the_inline_script() {
        let page = "<html><head><title>x</title>\n<script type=\"module\">\nimport init from '/a.js';\n</script></head></html>";
        let out = with_policy(page, "").unwrap();
        // sha256 of "\nimport init from '/a.js';\n", base64.
        let hash = base64::encode(&Sha256::digest(b"\nimport init from '/a.js';\n"));
        assert!(out.starts_with("<html><head>\n  <meta http-equiv=\"Content-Security-Policy\""), "{out}");
        assert!(out.contains(&format!("'sha256-{hash}'")));
        assert!(out.contains("connect-src 'self' https://clipcloud.clipai.pro;"));
        assert!(with_policy("<head></head>", "").is_err());
        let two = "<head><script type=\"module\">a</script><script type=\"module\">b</script></head>";
        assert!(with_policy(two, "").is_err());
    }
}
