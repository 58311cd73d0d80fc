//! Offline use: the app keeps its own files (the page, its glue, wasm, stylesheet and icon)
//! in a cache and registers a service worker (`web/sw.js`) that answers from that cache when
//! the network is gone. Done by `keepOffline` in `web/browser.js` (fewer bytes than through
//! web-sys); the page fills the cache, not the worker: the CSP the worker's script is served
//! with forbids the worker's own requests. Offline use is a bonus, so every failure there is
//! ignored (the app works as before).

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(module = "/web/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = keepOffline)]
    fn keep_offline(cache: &str, worker: &str);
}

/// The cache's name, as `web/sw.js` reads it.
const CACHE: &str = "clipcloud-app";

pub fn start() {
    keep_offline(CACHE, "/sw.js");
}
