//! Small view helpers: event handlers and reactive values boxed (one generated copy per
//! type), numbers and times as the browser formats them, copying with a notice.

use crate::ui::state::Ctx;
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

/// The browser's local date and time.
pub fn local_time(ms: f64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    String::from(date.to_locale_string("default", &JsValue::UNDEFINED))
}

/// Copies `text`, then says whether it worked.
pub fn copy(ctx: Ctx, text: String, what: &'static str) {
    leptos::task::spawn_local(async move {
        match crate::device::browser::copy_text(&text).await {
            Ok(_) => ctx.notify(what.to_owned() + " copied"),
            Err(_) => {
                ctx.notify("Copying was refused by the browser: select the text and copy it by hand".into())
            }
        }
    });
}

/// An input handler that keeps `signal` equal to the field's text (one handler type
/// for every such field, so the view code is generated once).
pub fn set_text(signal: leptos::prelude::RwSignal<String>) -> Box<dyn FnMut(web_sys::Event)> {
    use leptos::prelude::Set;
    handler(move |ev: web_sys::Event| signal.set(leptos::prelude::event_target_value(&ev)))
}
