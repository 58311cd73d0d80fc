//! The browser's storage, the little the app needs, as futures: IndexedDB (one database,
//! `clipcloud`, with two stores of string keys: `images`, an image's link → its Blob (or its
//! bytes and type where the browser refuses Blobs: WebKit in private windows), and
//! `records`, a name → JSON text, e.g. the history) and the storage manager. The calls
//! themselves are a small JS module (`web/browser.js`, bundled into the page's glue): they
//! cost the wasm less there than through web-sys's bindings, closures and requests. Errors
//! are typed, and a full quota is told apart.

use js_sys::Promise;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen(module = "/web/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = idbOpen)]
    fn js_open(name: &str);
    #[wasm_bindgen(js_name = idbLoad)]
    fn js_load(name: &str) -> Promise;
    #[wasm_bindgen(js_name = idbSaveHistory)]
    fn js_save_history(text: &str) -> Promise;
    #[wasm_bindgen(js_name = idbKeep)]
    fn js_keep(link: &str, from: &str) -> Promise;
    #[wasm_bindgen(js_name = idbDelete)]
    fn js_delete(links: &str, all: bool, history: &str) -> Promise;
    #[wasm_bindgen(js_name = storageInfo)]
    fn js_storage(ask: bool) -> Promise;
}

const NAME: &str = "clipcloud";

/// Why the browser's storage did not do what was asked.
#[derive(Clone, Debug, PartialEq)]
pub enum StoreError {
    /// No IndexedDB here (switched off, or a private window that refuses it).
    Unavailable,
    /// The quota the browser gives this site is used up.
    Full,
    /// Anything else, by the browser's name for it.
    Failed(String),
}

impl StoreError {
    /// From the module's code: a DOMException's name, or one of its own.
    fn from_code(code: JsValue) -> Self {
        match code.as_string().as_deref() {
            Some("QuotaExceededError") => Self::Full,
            Some(UNAVAILABLE) => Self::Unavailable,
            Some(name) => Self::Failed(name.into()),
            None => Self::Failed("UnknownError".into()),
        }
    }
}

impl StoreError {
    /// The problem in words, for the Storage panel. (No `Display`: its formatting code
    /// would cost the wasm more than these few strings.)
    pub fn message(&self) -> String {
        match self {
            Self::Unavailable => {
                "This browser does not let the site keep pictures (storage is off or refused): \
                                  they show only while their links last."
                    .into()
            }
            Self::Full => "Storage is full: the browser's space for this site is used up, so new pictures \
                           cannot be kept."
                .into(),
            Self::Failed(name) => "The browser could not keep the pictures (".to_owned() + name + ").",
        }
    }
}

/// The module's codes (as in `web/browser.js`).
const UNAVAILABLE: &str = "Unavailable";
/// A picture's link did not load (offline, or expired): no storage problem.
pub const FETCH_FAILED: &str = "FetchFailed";

async fn settle(promise: Promise) -> Result<JsValue, StoreError> {
    JsFuture::from(promise).await.map_err(StoreError::from_code)
}

/// Opens the database (creating its stores on first use) without reading it: done when the
/// page starts, as the gallery's module may come later (`ui::lazy`), so that the store has its
/// shape from then on, whoever opens it meanwhile.
pub fn open() {
    js_open(NAME);
}

/// What is kept: the history's JSON text and every saved picture, its link and an object
/// URL of it. Opens the database first (creating it on first use).
pub async fn load() -> Result<(String, Vec<(String, String)>), StoreError> {
    let list = js_sys::Array::from(&settle(js_load(NAME)).await?);
    let mut texts = list.iter().map(|v| v.as_string().unwrap_or_default());
    let history = texts.next().unwrap_or_default();
    let mut pictures = Vec::new();
    while let (Some(link), Some(url)) = (texts.next(), texts.next()) {
        pictures.push((link, url));
    }
    Ok((history, pictures))
}

pub async fn save_history(text: &str) -> Result<(), StoreError> {
    settle(js_save_history(text)).await.map(drop)
}

/// Fetches the picture at `from`, saves it as `link`'s; its object URL.
pub async fn keep(link: &str, from: &str) -> Result<String, StoreError> {
    Ok(settle(js_keep(link, from)).await?.as_string().unwrap_or_default())
}

/// Deletes the pictures at `links` (all of them, or none), or every picture when `all`, and
/// saves `history` (the history's JSON text without them) in the same transaction; done once
/// it is complete, so a reload after it never finds what was deleted.
pub async fn delete(links: &[String], all: bool, history: &str) -> Result<(), StoreError> {
    // One line each: a link holds no line break.
    settle(js_delete(&links.join("\n"), all, history)).await.map(drop)
}

/// What the browser says of this site's storage (`navigator.storage`): bytes used and
/// allowed, and whether it is persistent; when `ask`, persistent storage is asked for first
/// and the last is the browser's answer.
pub async fn storage(ask: bool) -> (Option<(f64, f64)>, Option<bool>) {
    let Ok(list) = JsFuture::from(js_storage(ask)).await else { return (None, None) };
    let list = js_sys::Array::from(&list);
    let estimate = list.get(0).as_f64().zip(list.get(1).as_f64());
    (estimate, list.get(2).as_bool())
}
