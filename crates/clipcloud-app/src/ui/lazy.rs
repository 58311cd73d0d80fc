//! What a first Create does not need, in wasm modules of their own in the release build:
//! `tools` (the article helper and code panel) and `gallery` (what the device keeps: the
//! history, the image viewer, the Storage panel and the saving of pictures and history in
//! the browser, `ui::gallery`). Each is fetched when first needed and preloaded a little after
//! the first connection settled (`ui::app`); the gallery's at once when this device keeps a
//! history, or when a creation finishes or a picture is opened before it is there. Until
//! then each panel shows a card saying it is loading; a failed fetch (network gone) says so
//! and offers a retry.
//!
//! The split is done by xtask on the release build (`--cfg clipcloud_split`, see `xtask/src/split.rs`):
//! a `#[wasm_split]` function's code and what only it reaches go to their own module. Dev and
//! test builds have no split step, so without the cfg the modules are plain calls.

use crate::ui::gallery::Gallery;
use crate::ui::state::ctx;
use crate::ui::util::click;
use leptos::either::Either;
use leptos::prelude::*;

/// A lazy panel's view, from its module once it is loaded.
type Render = fn() -> AnyView;

/// What the gallery's module hands the page.
#[derive(Clone, Copy)]
pub struct GalleryParts {
    /// Starts the storage side (`Gallery::open`).
    open: fn(Gallery),
    history: Render,
    viewer: Render,
    keep: Render,
}

#[derive(Clone, Copy)]
enum Load<T> {
    Idle,
    Loading,
    Failed,
    Ready(T),
}

impl<T> Load<T> {
    fn map<U>(self, f: impl FnOnce(T) -> U) -> Load<U> {
        match self {
            Load::Idle => Load::Idle,
            Load::Loading => Load::Loading,
            Load::Failed => Load::Failed,
            Load::Ready(t) => Load::Ready(f(t)),
        }
    }
}

/// The lazy panels that are cards of their own on the page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The article helper and the code panel.
    Tools,
    /// The history.
    History,
    /// The Storage panel.
    Keep,
}

impl Panel {
    fn title(self) -> &'static str {
        match self {
            // Not the article helper's and code panel's own titles: a search for those finds the
            // loaded panels.
            Panel::Tools => "Writing tools",
            Panel::History => "History",
            Panel::Keep => "Storage",
        }
    }
}

/// Each module's load state, shared by the page (the preload) and the panels (as a prop, not
/// through context: less code).
#[derive(Clone, Copy)]
pub struct Panels {
    tools: RwSignal<Load<Render>>,
    gallery: RwSignal<Load<GalleryParts>>,
    /// What the gallery's module starts.
    store: Gallery,
}

impl Panels {
    pub fn new(store: Gallery) -> Self {
        Self { tools: RwSignal::new(Load::Idle), gallery: RwSignal::new(Load::Idle), store }
    }

    /// Fetches `panel`'s module unless it is loaded or on its way.
    fn load(self, panel: Panel) {
        match panel {
            Panel::Tools => self.load_tools(),
            Panel::History | Panel::Keep => self.load_gallery(),
        }
    }

    fn load_tools(self) {
        fetch(self.tools, modules::tools(), |_| {});
    }

    /// Fetches the gallery's module unless it is loaded or on its way; once there, it starts.
    pub fn load_gallery(self) {
        let store = self.store;
        fetch(self.gallery, modules::gallery(), move |parts: GalleryParts| (parts.open)(store));
    }

    /// Every module (the page calls this a little after its first connection, when the
    /// first visit's own requests are done).
    pub fn preload(self) {
        self.load_tools();
        self.load_gallery();
    }

    /// `panel`'s view from its module, once there.
    fn render(self, panel: Panel) -> Load<Render> {
        match panel {
            Panel::Tools => self.tools.get(),
            Panel::History => self.gallery.get().map(|parts| parts.history),
            Panel::Keep => self.gallery.get().map(|parts| parts.keep),
        }
    }
}

/// Fetches a module into `state` unless it is loaded or on its way; `arrived` runs once it is.
fn fetch<T: Copy + Send + Sync + 'static, E>(
    state: RwSignal<Load<T>>,
    module: impl core::future::Future<Output = Result<T, E>> + 'static,
    arrived: impl FnOnce(T) + 'static,
) {
    // `None`: the page is gone (a preload timer that fired after it was unmounted).
    match state.try_get_untracked() {
        None | Some(Load::Loading | Load::Ready(_)) => return,
        Some(Load::Idle | Load::Failed) => state.set(Load::Loading),
    }
    leptos::task::spawn_local(async move {
        let loaded = match module.await {
            Ok(parts) => {
                arrived(parts);
                Load::Ready(parts)
            }
            Err(_) => Load::Failed,
        };
        state.try_set(loaded);
    });
}

/// What a panel shows until its module is there: that it is loading, or that it could not
/// be loaded, with a retry. One view for both (the retry hidden while loading): less code
/// in the main module than two.
fn waiting(failed: bool, retry: impl Fn() + Copy + 'static) -> impl IntoView {
    view! {
        <p class="hint" role=failed.then_some("alert") aria-busy=(!failed).then_some("true")>
            {if failed { "This panel could not be loaded (is the network down?). " } else { "Loading this panel…" }}
            <button type="button" hidden=!failed on:click=click(move |_| retry())>"Retry"</button>
        </p>
    }
}

/// `panel` where it stands on the page: its own view once loaded, until then a card of
/// the same title that loads it when opened.
#[component]
pub fn Lazy(panels: Panels, panel: Panel) -> impl IntoView {
    move || match panels.render(panel) {
        Load::Ready(render) => Either::Left(render()),
        load => Either::Right(view! {
            <details class="card tool lazy" on:toggle=move |_| panels.load(panel)>
                <summary><h2>{panel.title()}</h2></summary>
                {waiting(matches!(load, Load::Failed), move || panels.load(panel))}
            </details>
        }),
    }
}

/// The image viewer, from the gallery's module (a picture opened before it is there is
/// shown once it is); a dialog saying so when it could not be loaded.
#[component]
pub fn Viewer(panels: Panels) -> impl IntoView {
    let viewed = ctx().viewed;
    move || match panels.gallery.get() {
        Load::Ready(parts) => Some(Either::Left((parts.viewer)())),
        Load::Failed if viewed.with(Option::is_some) => Some(Either::Right(view! {
            <dialog class="viewer" open aria-label="Image">
                <div class="viewer-bar">
                    {waiting(true, move || panels.load_gallery())}
                    <button type="button" class="primary" on:click=click(move |_| viewed.set(None))>"Close"</button>
                </div>
            </dialog>
        })),
        _ => None,
    }
}

/// The modules as the release build splits them.
#[cfg(clipcloud_split)]
mod modules {
    use super::{GalleryParts, Render};
    use leptos::wasm_split::{wasm_split, SplitLoaderError};

    #[wasm_split(tools, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub fn tools() -> Result<Render, SplitLoaderError> {
        Ok(super::render_tools)
    }

    #[wasm_split(gallery, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub fn gallery() -> Result<GalleryParts, SplitLoaderError> {
        Ok(super::gallery_parts())
    }
}

/// Without the split step: the same, already there.
#[cfg(not(clipcloud_split))]
mod modules {
    use super::{GalleryParts, Render};

    pub async fn tools() -> Result<Render, ()> {
        Ok(super::render_tools)
    }

    pub async fn gallery() -> Result<GalleryParts, ()> {
        Ok(super::gallery_parts())
    }
}

fn render_tools() -> AnyView {
    use crate::ui::tools::{ArticleHelper, Snippet};
    view! { <ArticleHelper/> <Snippet/> }.into_any()
}

fn gallery_parts() -> GalleryParts {
    GalleryParts {
        open: Gallery::open,
        history: || view! { <crate::ui::history::History/> }.into_any(),
        viewer: || view! { <crate::ui::viewer::Viewer/> }.into_any(),
        keep: || view! { <crate::ui::keep::Keep/> }.into_any(),
    }
}
