//! Offline use: the app keeps its own files (the page, its glue, wasm, stylesheet and icon)
//! in a cache and registers a service worker (`web/sw.js`) that answers from that cache when
//! the network is gone. The page fills the cache, not the worker: the CSP the worker's script
//! is served with forbids the worker's own requests. Offline use is a bonus, so every failure
//! here is ignored (the app works as before).

use js_sys::{Array, Reflect};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

const CACHE: &str = "clipcloud-app";

pub fn start() {
    let Some(window) = web_sys::window() else { return };
    // Service workers and caches exist only in secure contexts (https, localhost).
    let has = |name: &str| Reflect::get(&window, &name.into()).is_ok_and(|v| v.is_object());
    let navigator = window.navigator();
    let worker = Reflect::get(&navigator, &"serviceWorker".into()).is_ok_and(|v| v.is_object());
    if !worker || !has("caches") {
        return;
    }
    leptos::task::spawn_local(async move {
        if keep_files().await.is_some() {
            let _ = JsFuture::from(navigator.service_worker().register("/sw.js")).await;
        }
    });
}

/// The page and its files, each fetched only when missing (the files' names change with
/// their content, so a file kept is current; the page is fetched again when its files are
/// new: a new deploy), and nothing of an earlier deploy.
async fn keep_files() -> Option<()> {
    let window = web_sys::window()?;
    let cache: web_sys::Cache =
        JsFuture::from(window.caches().ok()?.open(CACHE)).await.ok()?.dyn_into().ok()?;
    let links = window.document()?.query_selector_all("link[href^='/']").ok()?;
    let mut files = Vec::new();
    for i in 0..links.length() {
        let href = links
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.get_attribute("href"));
        files.extend(href.filter(|h| !h.starts_with("//")));
    }
    files.push("/".to_owned());
    let mut deployed = false;
    for file in &files {
        let kept = !JsFuture::from(cache.match_with_str(file)).await.ok()?.is_undefined();
        if !kept || (file == "/" && deployed) {
            JsFuture::from(cache.add_with_str(file)).await.ok()?;
            deployed = true;
        }
    }
    let keys: Array = JsFuture::from(cache.keys()).await.ok()?.dyn_into().ok()?;
    let origin = window.location().origin().ok()?;
    for request in keys.iter() {
        let request: web_sys::Request = request.dyn_into().ok()?;
        let path = request.url().strip_prefix(&origin).map(str::to_owned).unwrap_or_default();
        if !files.contains(&path) {
            let _ = JsFuture::from(cache.delete_with_request(&request)).await;
        }
    }
    Some(())
}
