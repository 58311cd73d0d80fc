//! Small browser helpers: numbers and times as people read them, the clipboard.

use crate::state::Ctx;
use wasm_bindgen::JsValue;

/// At most two decimals, no trailing zeros ("97.8", "2.2", "100"), by the browser's
/// own number formatting (smaller than Rust's float formatting in the wasm).
pub fn money(amount: f64) -> String {
    let rounded = js_sys::Math::round(amount * 100.0) / 100.0;
    js_sys::Number::from(rounded).to_string_with_radix(10).map(String::from).unwrap_or_default()
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

/// Copies `text`, then says whether it worked.
pub fn copy(ctx: Ctx, text: String, what: &'static str) {
    leptos::task::spawn_local(async move {
        let Some(window) = web_sys::window() else { return };
        let promise = window.navigator().clipboard().write_text(&text);
        match wasm_bindgen_futures::JsFuture::from(promise).await {
            Ok(_) => ctx.notify(what.to_owned() + " copied"),
            Err(_) => ctx.notify("Copying was refused by the browser: select the text and copy it by hand"),
        }
    });
}

/// A file name for a downloaded image.
pub fn file_name(creation_id: &str, index: usize) -> String {
    let short: String = creation_id.chars().take(8).collect();
    "clipcloud-".to_owned() + &short + "-" + &(index + 1).to_string() + ".webp"
}

/// An input handler that keeps `signal` equal to the field's text (one handler type
/// for every such field, so the view code is generated once).
pub fn set_text(signal: leptos::prelude::RwSignal<String>) -> impl Fn(web_sys::Event) + Clone + 'static {
    use leptos::prelude::Set;
    move |ev| signal.set(leptos::prelude::event_target_value(&ev))
}
