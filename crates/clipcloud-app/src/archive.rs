//! Export and import of the whole gallery as one ZIP file: `gallery.json` (every creation's
//! prompt, style, cost, date and image links, and which file holds each picture) and the
//! pictures under `images/`. All of it is a small JavaScript module (`web/lazy/zip.js`, which
//! reads and writes the app's IndexedDB itself) added to the page on first use only, so a
//! first visit downloads none of it; this is only the call.

use crate::gallery::Gallery;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const MODULE: &str = "/lazy/zip.js";
const GLOBAL: &str = "clipcloudZip";

/// The ZIP module's `{ write, read }`, adding its script to the page the first time.
async fn zip() -> Result<JsValue, String> {
    const UNLOADED: &str = "The export code could not be loaded (offline?). Try again when online.";
    let global = js_sys::global();
    let loaded = Reflect::get(&global, &GLOBAL.into()).ok().filter(|v| v.is_object());
    if let Some(zip) = loaded {
        return Ok(zip);
    }
    let document = leptos::prelude::document();
    let script = document.create_element("script").map_err(|_| UNLOADED)?;
    let _ = script.set_attribute("type", "module");
    let _ = script.set_attribute("src", MODULE);
    let mut on = Some(script.clone());
    let done = Promise::new(&mut |resolve, reject| {
        if let Some(script) = on.take() {
            let script: web_sys::HtmlElement = script.unchecked_into();
            script.set_onload(Some(&resolve));
            script.set_onerror(Some(&reject));
        }
    });
    document.head().ok_or(UNLOADED)?.append_child(&script).map_err(|_| UNLOADED)?;
    JsFuture::from(done).await.map_err(|_| UNLOADED)?;
    Reflect::get(&global, &GLOBAL.into()).ok().filter(|v| v.is_object()).ok_or_else(|| UNLOADED.into())
}

/// Calls `zip[name](arg)`, a promise; its error's message in words.
async fn call(name: &str, arg: &JsValue) -> Result<JsValue, String> {
    let zip = zip().await?;
    let f: Function = Reflect::get(&zip, &name.into())
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or("The export code is broken.")?;
    let promise: Promise = f.call1(&zip, arg).map_err(message)?.dyn_into().map_err(message)?;
    JsFuture::from(promise).await.map_err(message)
}

fn message(e: JsValue) -> String {
    e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_else(|| "unknown error".into())
}

/// Saves the whole gallery as one file (done by the module). Returns a report.
pub async fn export() -> Result<String, String> {
    call("exportGallery", &JsValue::UNDEFINED).await.map(|r| r.as_string().unwrap_or_default())
}

/// Adds what an exported file holds to the gallery (done by the module on IndexedDB), then
/// shows it. Returns a report.
pub async fn import(gallery: Gallery, file: web_sys::Blob) -> Result<String, String> {
    let report = call("importGallery", &file).await.map_err(|e| "Import failed: ".to_owned() + &e)?;
    gallery.reload().await;
    Ok(report.as_string().unwrap_or_default())
}
