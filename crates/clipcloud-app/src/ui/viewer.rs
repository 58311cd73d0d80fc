//! The image viewer: one picture large, with its download and its link.

use crate::ui::creations::download_button;
use crate::ui::state::ctx;
use crate::ui::util::{click, copy};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The image viewer: a modal dialog (Escape closes it; focus stays inside).
#[component]
pub fn Viewer() -> impl IntoView {
    let ctx = ctx();
    // Found by id rather than a `NodeRef`, whose machinery costs the wasm more.
    Effect::new(move |_| {
        let open = ctx.viewed.with(Option::is_some);
        if let Some(d) = document().get_element_by_id("viewer") {
            let d = d.unchecked_into::<web_sys::HtmlDialogElement>();
            if open && !d.open() {
                let _ = d.show_modal();
            } else if !open && d.open() {
                d.close();
            }
        }
    });
    view! {
        <dialog id="viewer" class="viewer" aria-label="Image" on:close=move |_| ctx.viewed.set(None)>
            {move || ctx.viewed.get().map(|v| {
                let url = v.url.clone();
                // The saved copy when there is one: it outlives the link.
                let shown = ctx.gallery.src(&v.url).unwrap_or_else(|| v.url.clone());
                view! {
                    <img src=shown alt=v.alt.clone()/>
                    <div class="viewer-bar">
                        <p class="prompt">{v.alt.clone()}</p>
                        {download_button(v.url.clone(), v.file_name.clone(), "Download WebP", "download")}
                        <button type="button" on:click=click(move |_| copy(ctx, url.clone(), "Link"))>"Copy link"</button>
                        <button type="button" class="primary" autofocus on:click=click(move |_| ctx.viewed.set(None))>"Close"</button>
                    </div>
                }
            })}
        </dialog>
    }
}
