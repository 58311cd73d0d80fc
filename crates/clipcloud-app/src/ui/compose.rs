//! The create form: prompt, negative prompt, count, the style picker (live list, with
//! search), and the Advanced panel. Checked as you type with the core's rules;
//! Ctrl/Cmd+Enter sends.

use crate::device::storage;
use crate::logic::form::{Form, Problems};
use crate::logic::text::lowercase;
use crate::ui::state::ctx;
use crate::ui::state::Ctx;
use crate::ui::util::{handler, problem_hint, reactive, set_text};
use clipcloud::{Style, KNOWN_STYLES};
use leptos::prelude::*;

/// Sends the form when it is valid (the caller has shown its problems otherwise).
pub fn send(ctx: Ctx) -> bool {
    let request = ctx.form.with_untracked(|f| ctx.styles.with_untracked(|s| f.request(s)));
    let Ok(request) = request else { return false };
    if ctx.settings.with_untracked(|s| s.key.trim().is_empty()) {
        ctx.show_settings.set(true);
        ctx.notify("Enter your API key first".into());
        return false;
    }
    ctx.submit(request);
    true
}

#[component]
pub fn Compose() -> impl IntoView {
    let ctx = ctx();
    let touched = RwSignal::new(false);
    // Checked again by each field's hint rather than once in a `Memo`: the form is small,
    // and a `Memo`'s machinery costs the wasm more.
    let problems = move |pick: fn(&Problems) -> Option<String>| {
        ctx.form.with(|f| ctx.styles.with(|s| pick(&f.problems(s))))
    };
    // The problem of one field, once the user has typed: one closure type for every
    // field (the fn pointer picks it), so its view code is generated once.
    let problem = move |pick: fn(&Problems) -> Option<String>, id: &'static str| {
        problem_hint(move || if touched.get() { problems(pick) } else { None }, id)
    };
    let edit = move |set: fn(&mut Form, String)| {
        handler(move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            touched.set(true);
            ctx.form.update(|f| set(f, value));
        })
    };
    let value = move |get: fn(&Form) -> String| reactive(move || ctx.form.with(get));
    let submit = move || {
        touched.set(true);
        send(ctx);
    };
    view! {
        <section class="card compose" aria-labelledby="compose-title">
            <h2 id="compose-title">"Create images"</h2>
            <form
                on:submit=handler(move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    submit();
                })
                on:keydown=move |ev| {
                    if ev.key() == "Enter" && (ev.ctrl_key() || ev.meta_key()) {
                        ev.prevent_default();
                        submit();
                    }
                }
            >
                <label class="field">
                    <span>"Prompt " <small>"(in English works best)"</small></span>
                    <textarea
                        name="prompt"
                        rows="3"
                        placeholder="A close-up shot of a perfectly ripe red apple"
                        aria-describedby="prompt-problem"
                        prop:value=value(|f| f.prompt.clone())
                        on:input=edit(|f, v| f.prompt = v)
                    ></textarea>
                    {problem(|p| p.prompt.clone(), "prompt-problem")}
                </label>
                <div class="grid-np">
                    <label class="field">
                        <span>"Negative prompt " <small>"(optional)"</small></span>
                        <input
                            name="negative_prompt"
                            placeholder="What must not be in the picture"
                            prop:value=value(|f| f.negative_prompt.clone())
                            on:input=edit(|f, v| f.negative_prompt = v)
                        />
                    </label>
                    <label class="field count">
                        <span>"Images"</span>
                        <input
                            name="count"
                            inputmode="numeric"
                            placeholder="1"
                            aria-describedby="count-problem"
                            prop:value=value(|f| f.count.clone())
                            on:input=edit(|f, v| f.count = v)
                        />
                    </label>
                </div>
                {problem(|p| p.count.clone(), "count-problem")}
                <StylePicker/>
                {problem(|p| p.style.clone(), "style-problem")}
                <details class="advanced" prop:open=reactive(move || ctx.form.with(|f| f.advanced))>
                    <summary>"Advanced " <small>"— for rare cases"</small></summary>
                    <p class="hint">
                        "The docs recommend creating by style: the style sets the model, size and steps. "
                        "Use advanced parameters only to fine-tune a style; they can easily produce noise."
                    </p>
                    <label class="check">
                        <input
                            type="checkbox"
                            name="advanced"
                            prop:checked=reactive(move || ctx.form.with(|f| f.advanced))
                            on:change=handler(move |ev: leptos::ev::Event| {
                                let on = event_target_checked(&ev);
                                ctx.form.update(|f| f.advanced = on)
                            })
                        />
                        <span>"Use these parameters instead of a style"</span>
                    </label>
                    <fieldset class="adv-grid" disabled=reactive(move || !ctx.form.with(|f| f.advanced))>
                        <label class="field">
                            <span>"Model"</span>
                            <input name="model" prop:value=value(|f| f.model.clone()) on:input=edit(|f, v| f.model = v)/>
                        </label>
                        <label class="field">
                            <span>"Width " <small>"256–2048, ×8"</small></span>
                            <input name="width" inputmode="numeric" placeholder="512"
                                prop:value=value(|f| f.width.clone()) on:input=edit(|f, v| f.width = v)/>
                            {problem(|p| p.width.clone(), "width-problem")}
                        </label>
                        <label class="field">
                            <span>"Height " <small>"256–2048, ×8"</small></span>
                            <input name="height" inputmode="numeric" placeholder="512"
                                prop:value=value(|f| f.height.clone()) on:input=edit(|f, v| f.height = v)/>
                            {problem(|p| p.height.clone(), "height-problem")}
                        </label>
                        <label class="field">
                            <span>"Quality " <small>"1–100"</small></span>
                            <input name="quality" inputmode="numeric"
                                prop:value=value(|f| f.quality.clone()) on:input=edit(|f, v| f.quality = v)/>
                            {problem(|p| p.quality.clone(), "quality-problem")}
                        </label>
                        <label class="field">
                            <span>"Steps " <small>"1–150"</small></span>
                            <input name="steps" inputmode="numeric"
                                prop:value=value(|f| f.steps.clone()) on:input=edit(|f, v| f.steps = v)/>
                            {problem(|p| p.steps.clone(), "steps-problem")}
                        </label>
                        <label class="field">
                            <span>"Seed"</span>
                            <input name="seed" inputmode="numeric"
                                prop:value=value(|f| f.seed.clone()) on:input=edit(|f, v| f.seed = v)/>
                            {problem(|p| p.seed.clone(), "seed-problem")}
                        </label>
                    </fieldset>
                </details>
                <div class="actions">
                    <button type="submit" class="primary" id="create">"Create"</button>
                    <span class="hint">"or Ctrl/⌘ + Enter"</span>
                </div>
            </form>
        </section>
    }
}

/// The live styles list as cards, with a search box. Before connecting, the names
/// the docs list.
#[component]
fn StylePicker() -> impl IntoView {
    let ctx = ctx();
    let query = RwSignal::new(String::new());
    let styles = move || {
        let q = lowercase(query.get().trim());
        let all = ctx.styles.get();
        let all = if all.is_empty() {
            KNOWN_STYLES.iter().map(|n| Style { name: (*n).into(), ..Style::default() }).collect()
        } else {
            all
        };
        all.into_iter()
            .filter(|s| {
                q.is_empty()
                    || lowercase(&s.name).contains(&q)
                    || lowercase(s.description.as_deref().unwrap_or_default()).contains(&q)
            })
            .collect::<Vec<_>>()
    };
    view! {
        <div class="styles" class:dim=reactive(move || ctx.form.with(|f| f.advanced))>
            <div class="styles-head">
                <span class="label">"Style: " <strong id="current-style">{reactive(move || ctx.form.with(|f| f.style.clone()))}</strong></span>
                <input
                    type="search"
                    class="style-search"
                    placeholder="Search styles"
                    aria-label="Search styles"
                    prop:value=query on:input=set_text(query)
                />
            </div>
            <div class="style-grid" role="group" aria-label="Styles">
                // Not keyed (`For`): redrawing a few cards on a search costs less than
                // the keyed diff's code in the wasm.
                {move || styles().into_iter().map(style_card).collect_view()}
            </div>
        </div>
    }
}

fn style_card(style: Style) -> impl IntoView {
    let ctx = ctx();
    let name = style.name.clone();
    let selected = {
        let name = name.clone();
        move || ctx.form.with(|f| f.style == name)
    };
    let size = match (style.width, style.height) {
        (Some(w), Some(h)) => Some(w.to_string() + "×" + &h.to_string()),
        _ => None,
    };
    view! {
        <button
            type="button"
            class="style-card"
            class:selected=reactive(selected.clone())
            aria-pressed=reactive(move || crate::ui::util::bool_attr(selected()))
            data-style=name.clone()
            on:click=crate::ui::util::click(move |_| {
                storage::set(storage::local(), storage::STYLE, &name);
                ctx.form.update(|f| f.style = name.clone());
            })
        >
            <span class="name">{style.name.clone()}</span>
            {size.map(|s| view! { <span class="size">{s}</span> })}
            {style.description.map(|d| view! { <span class="desc">{d}</span> })}
        </button>
    }
}
