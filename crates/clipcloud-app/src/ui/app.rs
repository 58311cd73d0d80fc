//! The page: header with the balance, the connection panel, the two columns
//! (compose | creations and history), the image viewer and notices.

use crate::device::storage;
use crate::logic::settings::Settings;
use crate::ui::compose::Compose;
use crate::ui::creations::Queue;
use crate::ui::gateway::{key_label, keyless};
use crate::ui::lazy::{Lazy, Panel, Panels, Viewer};
use crate::ui::state::{ctx, now_ms, Connection, Ctx};
use crate::ui::util::{bool_attr, click, handler, money, reactive};
use clipcloud::model::DEFAULT_BASE_URL;
use leptos::either::Either;
use leptos::prelude::*;

/// How long after the first connection the page fetches what a first visit leaves out.
const AFTER_FIRST_VISIT: core::time::Duration = core::time::Duration::from_secs(3);

#[component]
pub fn App() -> impl IntoView {
    let ctx = Ctx::new();
    provide_context(ctx);
    let panels = Panels::new(ctx.gallery);
    // The gallery's module at once when it is wanted (this device keeps a history, or a
    // creation finished) or a picture is opened; else with the others, below.
    Effect::new(move |_| {
        if ctx.gallery.wanted.get() || ctx.viewed.with(Option::is_some) {
            panels.load_gallery();
        }
    });
    set_interval(
        move || {
            ctx.now.try_set(now_ms());
        },
        core::time::Duration::from_secs(1),
    );
    // Served by a gateway that adds its own key? Then no key is asked for (see `ui::gateway`).
    crate::ui::gateway::start(ctx);
    // The files are kept for offline use (`device::offline`) and the lazy panels preloaded
    // (`ui::lazy`) a little after the first connection has settled (or a key is asked for):
    // before, their fetching would slow the first visit, which downloads only the main module.
    Effect::new(move |started: Option<bool>| {
        let settled = started == Some(true)
            || ctx.show_settings.get()
            || matches!(ctx.connection.get(), Connection::Connected | Connection::Failed(_));
        if settled && started != Some(true) {
            set_timeout(
                move || {
                    crate::device::offline::start();
                    panels.preload();
                },
                AFTER_FIRST_VISIT,
            );
        }
        settled
    });
    // Nothing typed is lost: the form draft survives reloads and failed calls.
    Effect::new(move |_| ctx.form.with(|f| storage::save(storage::FORM, &f.to_json())));
    view! {
        <header class="top">
            <h1 class="brand">
                <span class="logo" aria-hidden="true"></span>
                "ClipCloud"
            </h1>
            <Balance/>
            <button
                class="ghost"
                aria-expanded=reactive(move || bool_attr(ctx.show_settings.get()))
                aria-controls="connect"
                on:click=click(move |_| ctx.show_settings.update(|s| *s = !*s))
            >
                "Connection"
            </button>
        </header>
        <ConnectPanel/>
        <main class="layout">
            <div class="col">
                <Compose/>
                <Lazy panels=panels panel=Panel::Tools/>
            </div>
            <div class="col">
                <Queue/>
                <Lazy panels=panels panel=Panel::History/>
                <Lazy panels=panels panel=Panel::Keep/>
            </div>
        </main>
        <Viewer panels=panels/>
        <div class="notice" role="status" aria-live="polite">
            <p hidden=reactive(move || ctx.notice.with(Option::is_none))>
                {reactive(move || ctx.notice.get().unwrap_or_default())}
            </p>
        </div>
    }
}

#[component]
fn Balance() -> impl IntoView {
    let ctx = ctx();
    view! {
        <div class="balance" aria-live="polite">
            {move || match (ctx.connection.get(), ctx.balance.get()) {
                (Connection::Connected, Some(b)) => {
                    Either::Left(view! {
                        <span class="label">"Balance"</span>
                        <strong id="balance">{money(b)}</strong>
                        <button class="icon" title="Refresh the balance" aria-label="Refresh the balance"
                            on:click=click(move |_| ctx.refresh_balance())>"↻"</button>
                    })
                }
                (Connection::Connecting, _) => Either::Right(view! { <span class="label">"Connecting…"</span> }),
                (Connection::Failed(_), _) => Either::Right(view! { <span class="label bad">"Not connected"</span> }),
                _ => Either::Right(view! { <span class="label">"Not connected"</span> }),
            }}
        </div>
    }
}

#[component]
fn ConnectPanel() -> impl IntoView {
    let ctx = ctx();
    let origin = window().location().origin().unwrap_or_default();
    let origin = crate::logic::request::default_base_url(&origin);
    let has_origin = origin != DEFAULT_BASE_URL;
    let set_base = move |url: String| ctx.settings.update(|s| s.base_url = url);
    // One closure type for every field (fn pointers pick the field): the view code for
    // a reactive value and an input handler is generated once.
    let value = move |get: fn(&Settings) -> String| reactive(move || ctx.settings.with(get));
    let edit = move |set: fn(&mut Settings, String)| {
        handler(move |ev: leptos::ev::Event| {
            let v = event_target_value(&ev);
            ctx.settings.update(|s| set(s, v));
        })
    };
    view! {
        // Hidden rather than taken out of the page: one build of the panel, and no code in the
        // wasm to remove and recreate it.
        <section class="card connect" id="connect" aria-labelledby="connect-title"
            hidden=reactive(move || !ctx.show_settings.get())>
            <h2 id="connect-title">"Connect"</h2>
            // Through a gateway that adds its own key: the key's controls give way to a note (CSS).
            <form class:keyless=reactive(move || keyless(ctx)) on:submit=handler(move |ev: leptos::ev::SubmitEvent| {
                ev.prevent_default();
                ctx.connect(true);
            })>
                <p class="hint via-gateway">
                    "You connect through this site's gateway, which adds its own API key: none is needed here."
                </p>
                <div class="grid2 key-only">
                    <label class="field">
                        <span>{reactive(move || key_label(ctx))}</span>
                        <input
                            type="password"
                            name="apikey"
                            autocomplete="off"
                            spellcheck="false"
                            placeholder="Paste it here"
                            prop:value=value(|s| s.key.clone())
                            on:input=edit(|s, v| s.key = v)
                        />
                    </label>
                    <label class="field">
                        <span>"Base URL"</span>
                        <input
                            type="url"
                            name="base_url"
                            spellcheck="false"
                            prop:value=value(|s| s.base_url.clone())
                            on:input=edit(|s, v| s.base_url = v)
                        />
                        <span class="presets">
                            "Presets: "
                            {has_origin.then(|| {
                                let origin = origin.clone();
                                view! {
                                    <button type="button" class="link" on:click=click(move |_| set_base(origin.clone()))>
                                        "this server"
                                    </button>
                                    " · "
                                }
                            })}
                            <button type="button" class="link" on:click=click(move |_| set_base(DEFAULT_BASE_URL.into()))>
                                "ClipCloud service"
                            </button>
                        </span>
                    </label>
                </div>
                <div class="grid2">
                    <label class="field">
                        <span>"soft_id " <small>"(optional, developer affiliate id)"</small></span>
                        <input
                            name="soft_id"
                            inputmode="numeric"
                            placeholder="e.g. 1742"
                            prop:value=value(|s| s.soft_id.clone())
                            on:input=edit(|s, v| s.soft_id = v)
                        />
                    </label>
                    <label class="check key-only">
                        <input
                            type="checkbox"
                            name="remember"
                            prop:checked=reactive(move || ctx.settings.with(|s| s.remember))
                            on:change=handler(move |ev: leptos::ev::Event| {
                                let on = event_target_checked(&ev);
                                ctx.settings.update(|s| s.remember = on)
                            })
                        />
                        <span>"Remember the key on this device " <small>"(otherwise only for this tab)"</small></span>
                    </label>
                </div>
                <div class="actions">
                    <button type="submit" class="primary" disabled=reactive(move || ctx.connection.get() == Connection::Connecting)>
                        "Connect"
                    </button>
                    <button type="button" class="ghost key-only" on:click=click(move |_| ctx.forget_key())>"Forget the key"</button>
                    // Each there, hidden unless it applies: no code in the wasm to swap them.
                    <p class="hint" hidden=reactive(move || ctx.connection.with(|c| *c != Connection::Connecting))>
                        "Checking the key…"
                    </p>
                    <p class="ok" hidden=reactive(move || ctx.connection.with(|c| *c != Connection::Connected))>
                        "Connected."
                    </p>
                    <p class="error" id="connect-error" role="alert"
                        hidden=reactive(move || ctx.connection.with(|c| !matches!(c, Connection::Failed(_))))>
                        {reactive(move || ctx.connection.with(|c| match c {
                            Connection::Failed(message) => message.clone(),
                            _ => String::new(),
                        }))}
                    </p>
                </div>
            </form>
        </section>
    }
}
