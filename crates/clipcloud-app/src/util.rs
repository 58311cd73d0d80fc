//! Small browser helpers: numbers and times as people read them, the clipboard.

use crate::state::Ctx;
use wasm_bindgen::JsValue;

/// At most two decimals, no trailing zeros ("97.8", "2.2", "100"), by the browser's
/// own number formatting (smaller than Rust's float formatting in the wasm).
pub fn money(amount: f64) -> String {
    let rounded = js_sys::Math::round(amount * 100.0) / 100.0;
    js_sys::Number::from(rounded).to_string_with_radix(10).map(String::from).unwrap_or_default()
}

/// An event handler as a boxed closure. Tachys generates the event wiring once per
/// handler type: boxing every handler of an event keeps a copy per element out of the wasm.
pub fn handler<E: 'static>(f: impl FnMut(E) + 'static) -> Box<dyn FnMut(E)> {
    Box::new(f)
}

/// A reactive attribute, property or class value as a boxed closure: as with
/// `handler`, tachys then generates its update code once per value type, not per closure.
pub fn reactive<T: 'static>(f: impl Fn() -> T + Send + 'static) -> Box<dyn FnMut() -> T + Send> {
    Box::new(f)
}

/// A field's problem as you type, shown while `text` has one: every such hint (the
/// form's, the article helper's) is one boxed closure type, so its view code is
/// generated once.
pub fn problem_hint(
    text: impl Fn() -> Option<String> + Copy + Send + 'static,
    id: &'static str,
) -> impl leptos::prelude::IntoView {
    use leptos::prelude::*;
    view! {
        <span class="problem" id=id hidden=reactive(move || text().is_none())>
            {reactive(move || text().unwrap_or_default())}
        </span>
    }
}

/// A click handler (see `handler`).
pub fn click(f: impl FnMut(leptos::ev::MouseEvent) + 'static) -> Box<dyn FnMut(leptos::ev::MouseEvent)> {
    handler(f)
}

/// "true" or "false", for ARIA states (no `bool` formatting code in the wasm).
pub fn bool_attr(on: bool) -> &'static str {
    if on {
        "true"
    } else {
        "false"
    }
}

/// "4 s", "1 min 05 s".
pub fn elapsed(ms: f64) -> String {
    let secs = (ms.max(0.0) / 1000.0) as u64;
    if secs < 60 {
        return secs.to_string() + " s";
    }
    let rest = secs % 60;
    (secs / 60).to_string() + " min " + if rest < 10 { "0" } else { "" } + &rest.to_string() + " s"
}

/// The browser's local date and time.
pub fn local_time(ms: f64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    String::from(date.to_locale_string("default", &JsValue::UNDEFINED))
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/web/browser.js")]
extern "C" {
    #[wasm_bindgen(js_name = copyText)]
    fn copy_text(text: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = savePicture)]
    fn save_picture(link: &str, file: &str, fetchable: bool) -> js_sys::Promise;
}

/// Copies `text`, then says whether it worked.
pub fn copy(ctx: Ctx, text: String, what: &'static str) {
    leptos::task::spawn_local(async move {
        match wasm_bindgen_futures::JsFuture::from(copy_text(&text)).await {
            Ok(_) => ctx.notify(what.to_owned() + " copied"),
            Err(_) => ctx.notify("Copying was refused by the browser: select the text and copy it by hand"),
        }
    });
}

/// Saves the image at `url` as `file`: the copy saved in the browser when there is one
/// (it outlives the link), else fetched (http(s) links only). Done by `savePicture` in
/// `web/browser.js`; its codes in words here.
pub async fn download(url: &str, file: &str) -> Result<(), String> {
    let saved = save_picture(url, file, clipcloud::codec::is_http_url(url));
    wasm_bindgen_futures::JsFuture::from(saved).await.map(drop).map_err(|code| {
        if let Some(status) = code.as_f64() {
            return "Download failed (HTTP ".to_owned()
                + &(status as u16).to_string()
                + "): the temporary link has probably expired.";
        }
        match code.as_string().as_deref() {
            Some("NotWeb") => "Download failed: not a web link.",
            Some("Unread") => "Download failed: the image could not be read.",
            _ => {
                "Download failed: the image could not be fetched (offline, or its server does not allow it)."
            }
        }
        .into()
    })
}

/// A file name for a downloaded image.
pub fn file_name(creation_id: &str, index: usize) -> String {
    let short: String = creation_id.chars().take(8).collect();
    "clipcloud-".to_owned() + &short + "-" + &(index + 1).to_string() + ".webp"
}

/// An input handler that keeps `signal` equal to the field's text (one handler type
/// for every such field, so the view code is generated once).
pub fn set_text(signal: leptos::prelude::RwSignal<String>) -> Box<dyn FnMut(web_sys::Event)> {
    use leptos::prelude::Set;
    handler(move |ev: web_sys::Event| signal.set(leptos::prelude::event_target_value(&ev)))
}
