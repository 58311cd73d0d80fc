//! Export and import of the whole gallery as one ZIP file: `gallery.json` (every creation's
//! prompt, style, cost, date and image links, and which file holds each picture) and the
//! pictures under `images/`. The ZIP code is a small JavaScript module (`web/lazy/zip.js`)
//! added to the page on first use only, so a first visit does not download it.

use crate::gallery::{self, Gallery};
use crate::history;
use crate::json;
use js_sys::{Array, Function, Promise, Reflect};
use leptos::prelude::{GetUntracked, Update};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

const MODULE: &str = "/lazy/zip.js";
const GLOBAL: &str = "clipcloudZip";
const MANIFEST: &str = "gallery.json";
const FORMAT: &str = "clipcloud-gallery";

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

/// "1 picture", "3 pictures".
fn counted(n: usize, what: &str) -> String {
    n.to_string() + " " + what + if n == 1 { "" } else { "s" }
}

/// `images/<first 8 of the creation id>-<n>.webp`.
fn file_for(creation_id: &str, index: usize) -> String {
    "images/".to_owned() + &crate::util::file_name(creation_id, index)
}

/// Builds the archive of the whole gallery and saves it as a file. Returns a report.
pub async fn export(gallery: Gallery) -> Result<String, String> {
    let entries = gallery.history.get_untracked();
    let files = Array::new();
    let mut map = json::Object::default();
    let mut pictures = 0;
    for entry in &entries {
        for (i, link) in entry.images.iter().enumerate() {
            if let Some(blob) = gallery::blob(link).await {
                let name = file_for(&entry.creation_id, i);
                map.string(link, &name);
                files.push(&Array::of2(&name.as_str().into(), &blob));
                pictures += 1;
            }
        }
    }
    let mut manifest = json::Object::default();
    manifest.string("format", FORMAT);
    manifest.number("version", 1.0);
    manifest.number("exported_ms", js_sys::Date::now());
    manifest.set(
        "entries",
        json::parse(&history::to_json(&entries)).unwrap_or_else(|_| json::from_array(Vec::new())),
    );
    manifest.set("files", map.finish());
    let text = json::stringify(&manifest.finish());
    let parts = Array::of1(&text.into());
    let blob =
        web_sys::Blob::new_with_str_sequence(&parts).map_err(|_| "The export could not be written.")?;
    files.unshift(&Array::of2(&MANIFEST.into(), &blob));
    let zip: web_sys::Blob =
        call("write", &files).await?.dyn_into().map_err(|_| "The export could not be written.")?;
    let day: String = String::from(js_sys::Date::new_0().to_iso_string()).chars().take(10).collect();
    crate::util::save_blob(&zip, &("clipcloud-gallery-".to_owned() + &day + ".zip"))?;
    Ok("Exported ".to_owned()
        + &counted(entries.len(), "creation")
        + " and "
        + &counted(pictures, "picture")
        + ".")
}

/// Reads an archive made by [`export`] and adds what it holds to the gallery. Returns a report.
pub async fn import(gallery: Gallery, file: web_sys::Blob) -> Result<String, String> {
    let files: Array =
        call("read", &file).await.map_err(|e| "Import failed: ".to_owned() + &e)?.unchecked_into();
    let find = |name: &str| {
        files.iter().find_map(|pair| {
            let pair: Array = pair.unchecked_into();
            (pair.get(0).as_string().as_deref() == Some(name)).then(|| pair.get(1))
        })
    };
    const NOT_OURS: &str = "Import failed: this ZIP is not a ClipCloud gallery export (no gallery.json).";
    let manifest: web_sys::Blob = find(MANIFEST).and_then(|b| b.dyn_into().ok()).ok_or(NOT_OURS)?;
    let text = JsFuture::from(manifest.text()).await.ok().and_then(|t| t.as_string()).ok_or(NOT_OURS)?;
    let value = json::parse(&text).map_err(|_| NOT_OURS)?;
    if json::get_string(&value, "format").as_deref() != Some(FORMAT) {
        return Err(NOT_OURS.into());
    }
    let entries =
        json::get(&value, "entries").map(|e| history::from_json(&json::stringify(&e))).unwrap_or_default();
    let links = json::get(&value, "files");
    let mut items = Vec::new();
    for entry in &entries {
        for link in &entry.images {
            let name = links.as_ref().and_then(|l| json::get_string(l, link));
            if let Some(blob) = name.and_then(|n| find(&n)).and_then(|b| b.dyn_into::<web_sys::Blob>().ok()) {
                // Typed, so the browser shows it as an image.
                let typed = web_sys::BlobPropertyBag::new();
                typed.set_type("image/webp");
                let blob = web_sys::Blob::new_with_blob_sequence_and_options(&Array::of1(&blob), &typed)
                    .unwrap_or(blob);
                items.push((link.clone(), blob));
            }
        }
    }
    let values: Vec<(String, JsValue)> = items.iter().map(|(l, b)| (l.clone(), b.clone().into())).collect();
    gallery::put_images(&values).await.map_err(|e| "Import failed: ".to_owned() + &e.message())?;
    for (link, blob) in &items {
        gallery.show(link, blob);
    }
    let count = entries.len();
    gallery.history.update(|h| history::merge(h, entries));
    gallery.save_history();
    gallery.refresh_estimate();
    Ok("Imported ".to_owned()
        + &counted(count, "creation")
        + " and "
        + &counted(items.len(), "picture")
        + ".")
}
