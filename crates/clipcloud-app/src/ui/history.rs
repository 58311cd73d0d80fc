//! The history of past creations: searched, re-run, loaded into the form, pinned, deleted.

use crate::logic::form::Form;
use crate::logic::history::{self, Entry};
use crate::ui::creations::thumbs;
use crate::ui::state::ctx;
use crate::ui::util::{bool_attr, click, local_time, money, reactive, set_text};
use leptos::prelude::*;

#[component]
pub fn History() -> impl IntoView {
    let ctx = ctx();
    let query = RwSignal::new(String::new());
    let entries = move || {
        let q = query.get();
        ctx.history.with(|h| history::search(h, &q).into_iter().cloned().collect::<Vec<_>>())
    };
    let clear = move |_| {
        let sure = window()
            .confirm_with_message("Delete the whole history and every saved picture on this device?")
            .unwrap_or(false);
        if sure {
            ctx.clear_history();
        }
    };
    view! {
        <section class="card history" aria-labelledby="history-title">
            <div class="card-head">
                <h2 id="history-title">"History"</h2>
                <input
                    type="search"
                    placeholder="Search prompts and styles"
                    aria-label="Search the history"
                    prop:value=query on:input=set_text(query)
                />
                <button type="button" class="ghost" on:click=click(clear) disabled=reactive(move || ctx.history.with(Vec::is_empty))>
                    "Clear"
                </button>
            </div>
            <p class="hint">"Kept on this device with their pictures, which stay after the service's links expire."</p>
            <p class="hint" role="status" hidden=reactive(move || ctx.gallery.deleting.get() == 0)>
                "Deleting from this device…"
            </p>
            // Only once a deletion is written: a reload before then would bring the entries back.
            <p class="empty" hidden=reactive(move || !ctx.history.with(Vec::is_empty) || ctx.gallery.deleting.get() > 0)>
                "Finished creations are listed here."
            </p>
            <ul class="entries">
                // Not keyed (`For`), as the style picker: the history changes when a
                // creation ends or the search does, and redrawing its rows then costs less
                // than the keyed diff's code in the wasm.
                {move || entries().into_iter().map(history_row).collect_view()}
            </ul>
        </section>
    }
}

fn history_row(entry: Entry) -> impl IntoView {
    let ctx = ctx();
    let prompt = entry.request.prompt().to_owned();
    let rerun = {
        let request = entry.request.clone();
        move |_| ctx.submit(request.clone())
    };
    let edit = {
        let request = entry.request.clone();
        move |_| {
            ctx.form.set(Form::from_request(&request));
            window().scroll_to_with_x_and_y(0.0, 0.0);
        }
    };
    let thumbs = thumbs(&entry.images, &entry.creation_id, &prompt, entry.size, true);
    let pinned = entry.pinned;
    let pin = {
        let id = entry.creation_id.clone();
        move |_| ctx.gallery.set_pinned(&id, !pinned)
    };
    let delete = {
        let id = entry.creation_id.clone();
        move |_| ctx.gallery.delete(vec![id.clone()])
    };
    view! {
        <li class="entry">
            <div class="thumbs small">{thumbs}</div>
            <div class="entry-text">
                <p class="prompt" title=prompt.clone()>{prompt.clone()}</p>
                <p class="muted">
                    {crate::logic::request::style_label(&entry.request).to_owned()} " · cost " {money(entry.cost)}
                    {(entry.censored > 0).then(|| view! { " · " {entry.censored} " withheld" })}
                    " · " {local_time(entry.finished_ms)}
                </p>
            </div>
            <div class="entry-actions">
                <button type="button" class="primary small" on:click=click(rerun) title="Create it again">"Re-run"</button>
                <button type="button" class="ghost small" on:click=click(edit) title="Load into the form">"Edit"</button>
                <button type="button" class="ghost small pin" aria-pressed=bool_attr(pinned) on:click=click(pin)
                    title="Keep when storage runs out">{if pinned { "Pinned" } else { "Pin" }}</button>
                <button type="button" class="ghost small delete" on:click=click(delete)
                    title="Delete it and its pictures from this device">"Delete"</button>
            </div>
        </li>
    }
}
