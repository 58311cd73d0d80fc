//! Two helpers: the article helper (the docs' LLM workflow) and the code snippet for
//! the current form.

use crate::logic::article::{self, MAX_PICTURES};
use crate::logic::snippet;
use crate::ui::state::ctx;
use crate::ui::util::{click, copy, problem_hint, reactive, set_text};
use leptos::prelude::*;

/// `MAX_PICTURES` as text (no number formatting in the wasm for it).
const MAX_TEXT: &str = "10";
const _: () = assert!(MAX_PICTURES == 10, "MAX_TEXT must say MAX_PICTURES");

#[component]
pub fn ArticleHelper() -> impl IntoView {
    let ctx = ctx();
    let title = RwSignal::new(String::new());
    let count = RwSignal::new(String::from("3"));
    let answer = RwSignal::new(String::new());
    let count_value =
        move || count.with(|c| c.trim().parse::<u32>().ok()).filter(|n| (1..=MAX_PICTURES).contains(n));
    let llm_request = move || {
        let n = count_value().unwrap_or(1);
        title.with(|t| ctx.styles.with(|s| article::llm_request(t, n, s)))
    };
    // A plain function rather than a `Memo` (whose machinery costs the wasm more than
    // parsing the answer again): tracked in the view, untracked when queueing.
    let parse = move |answer: &str, styles: &[clipcloud::Style]| {
        (!answer.trim().is_empty()).then(|| article::parse_answer(answer, styles))
    };
    let parsed = move || answer.with(|a| ctx.styles.with(|s| parse(a, s)));
    let pictures = move || match parsed() {
        Some(Ok(pictures)) => pictures,
        _ => Vec::new(),
    };
    let queue_all = move |_| {
        if let Some(Ok(pictures)) = answer.with_untracked(|a| ctx.styles.with_untracked(|s| parse(a, s))) {
            let n = pictures.len();
            for p in pictures {
                ctx.submit(p.request);
            }
            ctx.notify(n.to_string() + " creations queued");
            answer.set(String::new());
        }
    };
    view! {
        <details class="card tool article">
            <summary><h2>"Article helper"</h2> <small>"pictures for an article, via your LLM"</small></summary>
            <p class="hint">
                "As the docs suggest: have an LLM write one prompt per picture, with a style and a negative prompt. "
                "1. Copy the request into your LLM. 2. Paste its JSON answer below. 3. Queue the pictures."
            </p>
            <div class="grid-np">
                <label class="field">
                    <span>"Article title"</span>
                    <input name="article_title" placeholder="How to grow apples on a balcony"
                        prop:value=title on:input=set_text(title)/>
                </label>
                <label class="field count">
                    <span>"Pictures"</span>
                    <input name="article_count" inputmode="numeric"
                        prop:value=count on:input=set_text(count)/>
                </label>
            </div>
            {problem_hint(
                move || count_value().is_none().then(|| "pictures must be between 1 and ".to_owned() + MAX_TEXT),
                "article-count-problem",
            )}
            <label class="field">
                <span>"Request for the LLM"</span>
                <textarea class="code" rows="4" readonly prop:value=reactive(llm_request)></textarea>
            </label>
            <div class="actions">
                <button type="button" disabled=reactive(move || title.with(|t| t.trim().is_empty()) || count_value().is_none())
                    on:click=click(move |_| copy(ctx, llm_request(), "Request"))>"Copy the request"</button>
            </div>
            <label class="field">
                <span>"The LLM's answer (JSON)"</span>
                <textarea name="article_answer" class="code" rows="4" placeholder="[{\"picture_number\": 1, \"query\": \"…\", \"style\": \"…\"}]"
                    prop:value=answer on:input=set_text(answer)></textarea>
            </label>
            // Each there, hidden unless it applies: no code in the wasm to swap them.
            <p class="problem" role="alert" hidden=reactive(move || !matches!(parsed(), Some(Err(_))))>
                {reactive(move || match parsed() {
                    Some(Err(problem)) => problem,
                    _ => String::new(),
                })}
            </p>
            <ol class="pictures" hidden=reactive(move || !matches!(parsed(), Some(Ok(_))))>
                {move || pictures().into_iter().map(|p| view! {
                    <li><span class="tag">{crate::logic::request::style_label(&p.request).to_owned()}</span> " " {p.request.prompt().to_owned()}</li>
                }).collect_view()}
            </ol>
            <div class="actions" hidden=reactive(move || !matches!(parsed(), Some(Ok(_))))>
                <button type="button" class="primary" on:click=click(queue_all)>
                    {reactive(move || {
                        let n = pictures().len();
                        "Queue ".to_owned() + &n.to_string() + if n == 1 { " picture" } else { " pictures" }
                    })}
                </button>
            </div>
        </details>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Lang {
    Npm,
    Curl,
}

#[component]
pub fn Snippet() -> impl IntoView {
    let ctx = ctx();
    let lang = RwSignal::new(Lang::Npm);
    let code = move || {
        let request = ctx.form.with(|f| ctx.styles.with(|s| f.request(s)));
        let settings = ctx.settings.get();
        let soft_id = settings.soft_id().ok().flatten();
        // The key the client sends: none to a gateway that adds its own.
        let keyless = settings.gateway == Some(clipcloud::gateway::KeyNeed::None);
        let key = (!keyless).then_some(settings.key.as_str());
        request.map(|r| match lang.get() {
            Lang::Npm => snippet::npm(&r, &settings.base_url, &settings.key, soft_id),
            Lang::Curl => {
                let bearer = settings.key_as_bearer(&window().location().origin().unwrap_or_default());
                snippet::curl(&r, &settings.base_url, key, soft_id, bearer)
            }
        })
    };
    let tab = move |which: Lang, label: &'static str| {
        view! {
            <button type="button" role="tab" class="tab" class:selected=reactive(move || lang.get() == which)
                aria-selected=reactive(move || crate::ui::util::bool_attr(lang.get() == which))
                on:click=click(move |_| lang.set(which))>{label}</button>
        }
    };
    view! {
        <details class="card tool snippet">
            <summary><h2>"Code"</h2> <small>"this request with the npm package or curl"</small></summary>
            <div class="tabs" role="tablist">
                {tab(Lang::Npm, "npm package")}
                {tab(Lang::Curl, "curl")}
            </div>
            // Both there, one hidden: no code in the wasm to swap one for the other.
            <pre class="code" tabindex="0" hidden=reactive(move || code().is_err())>
                <code>{reactive(move || code().unwrap_or_default())}</code>
            </pre>
            <div class="actions" hidden=reactive(move || code().is_err())>
                <button type="button" on:click=click(move |_| copy(ctx, code().unwrap_or_default(), "Code"))>"Copy"</button>
                <span class="hint">"The key is masked: put yours in its place."</span>
            </div>
            <p class="hint" hidden=reactive(move || code().is_ok())>
                "Complete the form to see the code: " {reactive(move || code().err().unwrap_or_default())}
            </p>
        </details>
    }
}
