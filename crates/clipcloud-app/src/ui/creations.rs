//! The queue: every creation as a card, from sending to its images, and the thumbnails
//! and downloads the history and the viewer share.

use crate::device::browser::download;
use crate::logic::text::{elapsed, file_name};
use crate::ui::state::ctx;
use crate::ui::state::{Job, JobState, Viewed};
use crate::ui::util::{bool_attr, click, copy, money, reactive};
use clipcloud::codec::is_http_url;
use clipcloud::Finished;
use leptos::either::EitherOf4;
use leptos::prelude::*;

#[component]
pub fn Queue() -> impl IntoView {
    let ctx = ctx();
    view! {
        <section class="card queue" aria-labelledby="queue-title">
            <h2 id="queue-title">"Creations"</h2>
            <p class="empty" hidden=reactive(move || !ctx.jobs.with(Vec::is_empty))>
                "Your creations appear here the moment you send them. Several can run at once."
            </p>
            <div class="jobs">
                // Not keyed (`For`), as the history: the list changes only when a creation is
                // queued or removed (a card's progress is its own signal), and redrawing the
                // cards then costs less than the keyed diff's code in the wasm (3.5 KB gzipped).
                {move || ctx.jobs.get().into_iter().map(job_card).collect_view()}
            </div>
        </section>
    }
}

fn state_name(state: &JobState) -> &'static str {
    match state {
        JobState::Sending => "sending",
        JobState::Running { .. } => "running",
        JobState::Done(_) => "done",
        JobState::Failed { .. } => "failed",
        JobState::Cancelled { .. } => "cancelled",
    }
}

/// Stops waiting for a creation still sending or in progress.
fn cancel_button(job: Job) -> impl IntoView {
    let ctx = ctx();
    view! {
        <div class="actions">
            <button type="button" class="ghost small cancel" on:click=click(move |_| ctx.cancel(&job))>"Cancel"</button>
        </div>
    }
}

/// A failed creation (`failure`) or a cancelled one, and a way to try again: wait again
/// for an accepted creation, else create again. One view for both keeps the wasm smaller.
fn ended(job: Job, accepted: bool, failure: Option<String>) -> impl IntoView {
    let ctx = ctx();
    let label = if accepted { "Check again" } else { "Retry" };
    // A cancel is no error: the user asked for it. The service has no cancel call, so
    // say what may still happen there.
    let note = match (&failure, accepted) {
        (Some(_), _) => None,
        (None, true) => Some("Stopped waiting; the service may still finish and charge it."),
        (None, false) => {
            Some("Stopped sending; if the service got the request, it may still finish and charge it.")
        }
    };
    let (class, role, text) = match failure {
        Some(message) => ("error", Some("alert"), message),
        None => ("status", None, "Cancelled".to_owned()),
    };
    view! {
        <p class=class role=role>{text}</p>
        {note.map(|note| view! { <p class="hint">{note}</p> })}
        <div class="actions">
            <button type="button" class="primary" on:click=click(move |_| ctx.retry(job.clone()))>{label}</button>
        </div>
    }
}

fn job_card(job: Job) -> impl IntoView {
    let ctx = ctx();
    let seq = job.seq;
    let prompt = job.request.prompt().to_owned();
    let style = crate::logic::request::style_label(&job.request).to_owned();
    let count = job.request.image_count();
    let state = job.state.clone();
    let state_attr = {
        let state = state.clone();
        move || state.with(state_name)
    };
    let finished = {
        let state = job.state.clone();
        move || state.with(|s| !matches!(s, JobState::Sending | JobState::Running { .. }))
    };
    let size = job.size;
    let alt = prompt.clone();
    let body = move || match state.get() {
        JobState::Sending => EitherOf4::A(view! {
            <p class="status">"Sending…"</p>
            <div class="bar" role="progressbar" aria-label="Sending"></div>
            {cancel_button(job.clone())}
        }),
        JobState::Running { started_ms, checks, hiccup, .. } => EitherOf4::B(view! {
            <p class="status">
                "In progress · " {reactive(move || elapsed(ctx.now.get() - started_ms))}
                {(checks > 0).then(|| view! { <span class="muted">" · checked " {checks} "×"</span> })}
            </p>
            <div class="bar" role="progressbar" aria-label="In progress"></div>
            {hiccup.map(|code| view! {
                <p class="hint">"The last check failed (" {code} "); still trying…"</p>
            })}
            {cancel_button(job.clone())}
        }),
        JobState::Done(done) => EitherOf4::C(gallery(done, size, alt.clone())),
        JobState::Failed { message, creation_id } => {
            EitherOf4::D(ended(job.clone(), creation_id.is_some(), Some(message)))
        }
        JobState::Cancelled { creation_id } => EitherOf4::D(ended(job.clone(), creation_id.is_some(), None)),
    };
    view! {
        <article class="job" data-state=reactive(state_attr)>
            <header>
                <p class="prompt" title=prompt.clone()>{prompt.clone()}</p>
                <span class="tag">{style}</span>
                {(count > 1).then(|| view! { <span class="tag">{count} " images"</span> })}
                <button type="button" class="icon" title="Remove from the list" aria-label="Remove from the list"
                    hidden=reactive(move || !finished()) on:click=click(move |_| ctx.dismiss(seq))>"×"</button>
            </header>
            {body}
        </article>
    }
}

/// A thumbnail per image link; only http(s) links are ever shown.
pub fn thumbs(
    images: &[String],
    creation_id: &str,
    alt: &str,
    size: Option<(u32, u32)>,
    small: bool,
) -> impl IntoView {
    images
        .iter()
        .enumerate()
        .filter(|(_, url)| is_http_url(url))
        .map(|(i, url)| thumb(url.clone(), alt.to_owned(), file_name(creation_id, i), size, small))
        .collect_view()
}

fn gallery(done: Finished, size: Option<(u32, u32)>, alt: String) -> impl IntoView {
    let shown = done.images.iter().filter(|u| is_http_url(u)).count();
    let withheld = done.censored;
    let thumbs = thumbs(&done.images, &done.creation_id, &alt, size, false);
    view! {
        <p class="status done">
            "Done · cost " <strong class="cost">{money(done.cost)}</strong>
            " · " {shown} {if shown == 1 { " image" } else { " images" }}
            {(withheld > 0).then(|| view! {
                <span class="warn">" · " {withheld} " withheld by the content filter"</span>
            })}
        </p>
        <div class="thumbs">{thumbs}</div>
    }
}

/// One image: a thumbnail at the image's aspect ratio (opens the viewer), with
/// download and copy-link. Shown from the copy saved in the browser once there is one
/// (`data-saved`); says so when there is none and the temporary link no longer loads.
pub fn thumb(url: String, alt: String, file: String, size: Option<(u32, u32)>, small: bool) -> impl IntoView {
    let ctx = ctx();
    let broken = RwSignal::new(false);
    let (w, h) = size.unwrap_or((1, 1));
    // Set through the CSSOM (`style:`), not a style attribute, which the page's CSP forbids.
    let ratio = w.to_string() + " / " + &h.to_string();
    let view_it = {
        let viewed = Viewed { url: url.clone(), alt: alt.clone(), file_name: file.clone() };
        move |_| ctx.viewed.set(Some(viewed.clone()))
    };
    let link = url.clone();
    let gallery = ctx.gallery;
    let src = {
        let url = url.clone();
        move || gallery.src(&url)
    };
    let saved = {
        let url = url.clone();
        move || bool_attr(gallery.is_saved(&url))
    };
    view! {
        <figure class="thumb" class:small=small data-saved=reactive(saved)>
            <button type="button" class="frame" style:aspect-ratio=ratio title="View large" on:click=click(view_it) disabled=reactive(move || broken.get())>
                // Both there, one hidden: no code in the wasm to swap one for the other.
                <img src=reactive(src) alt=alt.clone() loading="lazy" hidden=reactive(move || broken.get())
                    on:error=move |_| broken.set(true) on:load=move |_| broken.set(false)/>
                <span class="expired" hidden=reactive(move || !broken.get())>"Link expired"</span>
            </button>
            {(!small).then(|| view! {
                <figcaption>
                    {download_button(url.clone(), file.clone(), "Download", "link")}
                    <button type="button" class="link" on:click=click(move |_| copy(ctx, link.clone(), "Link"))>"Copy link"</button>
                </figcaption>
            })}
        </figure>
    }
}

/// Saves the image under `file`. A `download` attribute on a link to another origin
/// (the service's images) is ignored by browsers, so the image is fetched and saved
/// from a blob: URL. When that fails it says why and links the image itself.
pub fn download_button(url: String, file: String, label: &'static str, class: &'static str) -> impl IntoView {
    let problem = RwSignal::new(None::<String>);
    let save = {
        let url = url.clone();
        move |_| {
            problem.set(None);
            let (url, file) = (url.clone(), file.clone());
            leptos::task::spawn_local(async move {
                problem.try_set(download(&url, &file).await.err());
            });
        }
    };
    view! {
        <button type="button" class=class on:click=click(save)>{label}</button>
        <p class="error download-error" role="alert" hidden=reactive(move || problem.with(Option::is_none))>
            {reactive(move || problem.get().unwrap_or_default())} " "
            <a href=url target="_blank" rel="noopener noreferrer">"Open the image"</a>
        </p>
    }
}
