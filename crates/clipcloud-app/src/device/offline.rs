//! Offline use: the app keeps its own files (the page, its glue, wasm, stylesheet, icon and
//! lazy modules) in a cache and registers a service worker (`web/sw.js`) that opens the app
//! from that copy whenever the site cannot be reached (no network, the site down, or no
//! answer within a few seconds), and otherwise takes the page from the network and the
//! hashed files from the cache. Done by `keepOffline` in `web/browser.js` (fewer bytes than
//! through web-sys); the page fills the cache, the worker only reads it. Offline use is a
//! bonus, so every failure there is ignored (the app works as before).

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
