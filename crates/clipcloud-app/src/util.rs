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

/// The image at `url` (http(s) only), fetched by the browser; the error in words.
pub async fn fetch_image(url: &str) -> Result<web_sys::Blob, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    const UNREACHABLE: &str =
        "Download failed: the image could not be fetched (offline, or its server does not allow it).";
    const UNREAD: &str = "Download failed: the image could not be read.";
    if !clipcloud::codec::is_http_url(url) {
        return Err("Download failed: not a web link.".into());
    }
    let window = web_sys::window().ok_or(UNREACHABLE)?;
    let response = JsFuture::from(window.fetch_with_str(url)).await.map_err(|_| UNREACHABLE)?;
    let response: web_sys::Response = response.unchecked_into();
    if !response.ok() {
        let status = response.status().to_string();
        return Err("Download failed (HTTP ".to_owned()
            + &status
            + "): the temporary link has probably expired.");
    }
    let read = response.blob().map_err(|_| UNREAD)?;
    JsFuture::from(read).await.map(JsCast::unchecked_into).map_err(|_| UNREAD.into())
}

/// Saves the image at `url` as `file`: the copy saved in the browser when there is one
/// (it outlives the link), else fetched. Browsers ignore the `download` attribute on links
/// to other origins (the service's images), so either is saved from a blob: URL of our own.
pub async fn download(url: &str, file: &str) -> Result<(), String> {
    let blob = match crate::gallery::blob(url).await {
        Some(blob) => blob,
        None => fetch_image(url).await?,
    };
    save_blob(&blob, file)
}

/// Hands `blob` to the browser as a file named `file`.
pub fn save_blob(blob: &web_sys::Blob, file: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    const UNSAVED: &str = "Download failed: the browser did not take the file.";
    let href = web_sys::Url::create_object_url_with_blob(blob).map_err(|_| UNSAVED)?;
    let link = leptos::prelude::document().create_element("a").map_err(|_| UNSAVED)?;
    let _ = link.set_attribute("href", &href);
    let _ = link.set_attribute("download", file);
    link.unchecked_into::<web_sys::HtmlElement>().click();
    // Revoked later, not at once: the browser may still be reading the blob.
    leptos::prelude::set_timeout(
        move || {
            let _ = web_sys::Url::revoke_object_url(&href);
        },
        core::time::Duration::from_secs(30),
    );
    Ok(())
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
