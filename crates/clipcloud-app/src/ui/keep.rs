//! The Storage panel: how much of the browser's space the saved pictures use, persistent
//! storage asked for and the browser's answer, export and import of the whole gallery,
//! delete all; and, when storage is full, the message and the oldest unpinned creations
//! offered for removal.

use crate::device::archive;
use crate::device::idb::StoreError;
use crate::logic::history;
use crate::ui::state::ctx;
use crate::ui::util::{click, handler, reactive};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// "12.3 MB" (the browser's own number formatting, as `money`).
fn megabytes(bytes: f64) -> String {
    crate::ui::util::money(bytes / 1_000_000.0) + " MB"
}

#[component]
pub fn Keep() -> impl IntoView {
    let ctx = ctx();
    let gallery = ctx.gallery;
    let info = gallery.info;
    let count = move || gallery.saved.with(|s| s.as_ref().map_or(0, |s| s.len()));
    let usage = move || {
        let n = count();
        let pictures =
            n.to_string() + if n == 1 { " picture" } else { " pictures" } + " saved on this device";
        match info.with(|i| i.estimate) {
            Some((used, allowed)) => {
                pictures + " · " + &megabytes(used) + " used of " + &megabytes(allowed) + " allowed"
            }
            None => pictures,
        }
    };
    let persisted = move || match info.with(|i| i.persisted) {
        Some(true) => "Persistent: the browser keeps them until you delete them.",
        _ => {
            "Not persistent: the browser may clear them when the device runs short of space, and Safari \
             after 7 days without a visit unless the site is on the Home Screen. Export keeps a copy."
        }
    };
    let problem = move || info.with(|i| i.problem.as_ref().map(StoreError::message));
    let full = move || info.with(|i| i.problem == Some(StoreError::Full));
    // What storage being full offers to remove: the oldest unpinned creations, enough of
    // them for the pictures not saved (at least one).
    let offered = move || {
        let wanted = info.with(|i| i.unsaved.len()).max(1);
        ctx.history.with(|h| {
            history::oldest_unpinned(h, wanted).into_iter().map(|e| e.creation_id.clone()).collect::<Vec<_>>()
        })
    };
    let offered_text = move || {
        let ids = offered();
        ctx.history.with(|h| {
            h.iter()
                .filter(|e| ids.contains(&e.creation_id))
                .map(|e| e.request.prompt().to_owned())
                .collect::<Vec<_>>()
                .join(" · ")
        })
    };
    let busy = RwSignal::new(false);
    let export = move |_| {
        busy.set(true);
        leptos::task::spawn_local(async move {
            let report = archive::export().await.unwrap_or_else(|e| e);
            info.try_update(|i| i.report = Some(report));
            busy.try_set(false);
        });
    };
    let import = handler(move |ev: leptos::ev::Event| {
        let input = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        let Some(file) = input.as_ref().and_then(|i| i.files()).and_then(|f| f.get(0)) else { return };
        if let Some(input) = &input {
            // The same file may be chosen again.
            input.set_value("");
        }
        busy.set(true);
        leptos::task::spawn_local(async move {
            let report = match archive::import(file.into()).await {
                Ok(report) => {
                    // Shows what the import added.
                    gallery.reload().await;
                    report
                }
                Err(e) => e,
            };
            info.try_update(|i| i.report = Some(report));
            busy.try_set(false);
        });
    });
    let delete_all = move |_| {
        let sure = window()
            .confirm_with_message("Delete every saved picture and the whole history on this device?")
            .unwrap_or(false);
        if sure {
            gallery.delete_all();
        }
    };
    view! {
        <section class="card keep" id="storage" aria-labelledby="storage-title">
            <h2 id="storage-title">"Storage"</h2>
            <p id="storage-usage">{reactive(usage)}</p>
            <p class="hint" id="storage-persisted">{reactive(persisted)}</p>
            <div class="actions">
                <button type="button" class="ghost" on:click=click(move |_| gallery.ask_persist())>"Keep them persistently"</button>
                <button type="button" class="ghost" disabled=reactive(move || busy.get()) on:click=click(export)>"Export all"</button>
                <label class="button ghost">
                    "Import…"
                    <input type="file" name="import" accept=".zip,application/zip" class="visually-hidden" on:change=import/>
                </label>
                <button type="button" class="ghost" on:click=click(delete_all)>"Delete all"</button>
            </div>
            <p class="ok" id="persist-answer" role="status" hidden=reactive(move || info.with(|i| i.persist_answer.is_none()))>
                {reactive(move || info.with(|i| i.persist_answer.clone().unwrap_or_default()))}
            </p>
            <p class="ok" id="storage-report" role="status" hidden=reactive(move || info.with(|i| i.report.is_none()))>
                {reactive(move || info.with(|i| i.report.clone().unwrap_or_default()))}
            </p>
            <div class="error" id="storage-problem" role="alert" hidden=reactive(move || problem().is_none())>
                <p>{reactive(move || problem().unwrap_or_default())}</p>
                <div hidden=reactive(move || !full() || offered().is_empty())>
                    <p>"Make room by removing the oldest unpinned creations: " {reactive(offered_text)}</p>
                    <button type="button" class="primary" on:click=click(move |_| gallery.delete(offered()))>
                        "Remove them and save the new pictures"
                    </button>
                </div>
                <p hidden=reactive(move || !full() || !offered().is_empty())>
                    "Nothing unpinned is left to remove: unpin or delete creations, or export the gallery and delete it."
                </p>
            </div>
        </section>
    }
}
