//! Export and import of the whole gallery as one ZIP file: `gallery.json` (every creation's
//! prompt, style, cost, date and image links, and which file holds each picture) and the
//! pictures under `images/`. All of it is a small JavaScript module (`web/lazy/zip.js`, which
//! reads and writes the app's IndexedDB itself) loaded on first use only (by `zipCall` in
//! `web/browser.js`), so a first visit downloads none of it; this is only the call.

use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/web/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = zipCall)]
    fn zip_call(module: &str, name: &str, arg: &JsValue) -> js_sys::Promise;
}

const MODULE: &str = "/lazy/zip.js";

/// Calls the ZIP module's `name` with `arg`; its error's message in words.
async fn call(name: &str, arg: &JsValue) -> Result<JsValue, String> {
    JsFuture::from(zip_call(MODULE, name, arg)).await.map_err(|e| {
        if e.as_string().is_some() {
            // The module's only code: it did not load.
            "The export code could not be loaded (offline?). Try again when online.".into()
        } else {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "unknown error".into())
        }
    })
}

/// Saves the whole gallery as one file (done by the module). Returns a report.
pub async fn export() -> Result<String, String> {
    call("exportGallery", &JsValue::UNDEFINED).await.map(|r| r.as_string().unwrap_or_default())
}

/// Adds what an exported file holds to the gallery's store (done by the module on
/// IndexedDB); the caller then reads the store again to show it. Returns a report.
pub async fn import(file: web_sys::Blob) -> Result<String, String> {
    let report = call("importGallery", &file).await.map_err(|e| "Import failed: ".to_owned() + &e)?;
    Ok(report.as_string().unwrap_or_default())
}
