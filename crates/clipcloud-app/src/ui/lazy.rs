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

/// What a module hands the page: its view of the part asked for (each module is asked only
/// for its own). One type for every module: one set of generic instances in the main module.
type Module = fn(Panel) -> AnyView;

#[derive(Clone, Copy)]
enum Load {
    Idle,
    Loading,
    Failed,
    Ready(Module),
}

/// The parts of the page in lazy modules.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The article helper and the code panel.
    Tools,
    /// The history.
    History,
    /// The Storage panel.
    Keep,
    /// The image viewer (no card: see [`Viewer`]).
    Viewer,
}

impl Panel {
    fn title(self) -> &'static str {
        match self {
            // Not the article helper's and code panel's own titles: a search for those finds the
            // loaded panels.
            Panel::Tools => "Writing tools",
            Panel::History => "History",
            Panel::Keep => "Storage",
            Panel::Viewer => "Image viewer",
        }
    }
}

/// Each module's load state, shared by the page (the preload) and the panels (as a prop, not
/// through context: less code).
#[derive(Clone, Copy)]
pub struct Panels {
    tools: RwSignal<Load>,
    gallery: RwSignal<Load>,
    /// What the gallery's module starts.
    store: Gallery,
}

impl Panels {
    pub fn new(store: Gallery) -> Self {
        Self { tools: RwSignal::new(Load::Idle), gallery: RwSignal::new(Load::Idle), store }
    }

    fn state(self, panel: Panel) -> RwSignal<Load> {
        match panel {
            Panel::Tools => self.tools,
            Panel::History | Panel::Keep | Panel::Viewer => self.gallery,
        }
    }

    /// Fetches `panel`'s module unless it is loaded or on its way.
    fn load(self, panel: Panel) {
        let state = self.state(panel);
        // `None`: the page is gone (a preload timer that fired after it was unmounted).
        match state.try_get_untracked() {
            None | Some(Load::Loading | Load::Ready(_)) => return,
            Some(Load::Idle | Load::Failed) => state.set(Load::Loading),
        }
        let store = self.store;
        leptos::task::spawn_local(async move {
            let loaded = match panel {
                Panel::Tools => modules::tools().await,
                _ => modules::gallery(store).await,
            };
            state.try_set(loaded.map_or(Load::Failed, Load::Ready));
        });
    }

    /// Fetches the gallery's module unless it is loaded or on its way; once there, it starts
    /// (`Gallery::open`).
    pub fn load_gallery(self) {
        self.load(Panel::History);
    }

    /// Every module (the page calls this a little after its first connection, when the
    /// first visit's own requests are done).
    pub fn preload(self) {
        self.load(Panel::Tools);
        self.load_gallery();
    }
}

/// What a panel shows until its module is there: that it is loading, or that it could not
/// be loaded, with a retry. One view for both (the retry hidden while loading): less code
/// in the main module than two.
fn waiting(failed: bool, panels: Panels, panel: Panel) -> impl IntoView {
    view! {
        <p class="hint" role=failed.then_some("alert") aria-busy=(!failed).then_some("true")>
            {if failed { "This panel could not be loaded (is the network down?). " } else { "Loading this panel…" }}
            <button type="button" hidden=!failed on:click=click(move |_| panels.load(panel))>"Retry"</button>
        </p>
    }
}

/// `panel` where it stands on the page: its own view once loaded, until then a card of
/// the same title that loads it when opened.
#[component]
pub fn Lazy(panels: Panels, panel: Panel) -> impl IntoView {
    move || match panels.state(panel).get() {
        Load::Ready(module) => Either::Left(module(panel)),
        load => Either::Right(view! {
            <details class="card tool lazy" on:toggle=move |_| panels.load(panel)>
                <summary><h2>{panel.title()}</h2></summary>
                {waiting(matches!(load, Load::Failed), panels, panel)}
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
        Load::Ready(module) => Some(Either::Left(module(Panel::Viewer))),
        Load::Failed if viewed.with(Option::is_some) => Some(Either::Right(view! {
            <dialog class="viewer" open aria-label="Image">
                <div class="viewer-bar">
                    {waiting(true, panels, Panel::Viewer)}
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
    use super::Module;
    use crate::ui::gallery::Gallery;
    use leptos::wasm_split::{wasm_split, SplitLoaderError};

    #[wasm_split(tools, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub fn tools() -> Result<Module, SplitLoaderError> {
        Ok(super::tools)
    }

    /// Starts the gallery's storage side too (once: a module is fetched until it is there).
    #[wasm_split(gallery, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub fn gallery(store: Gallery) -> Result<Module, SplitLoaderError> {
        store.open();
        Ok(super::gallery)
    }
}

/// Without the split step: the same, already there.
#[cfg(not(clipcloud_split))]
mod modules {
    use super::Module;
    use crate::ui::gallery::Gallery;

    pub async fn tools() -> Result<Module, ()> {
        Ok(super::tools)
    }

    pub async fn gallery(store: Gallery) -> Result<Module, ()> {
        store.open();
        Ok(super::gallery)
    }
}

fn tools(_: Panel) -> AnyView {
    use crate::ui::tools::{ArticleHelper, Snippet};
    view! { <ArticleHelper/> <Snippet/> }.into_any()
}

fn gallery(panel: Panel) -> AnyView {
    match panel {
        Panel::History => view! { <crate::ui::history::History/> }.into_any(),
        Panel::Viewer => view! { <crate::ui::viewer::Viewer/> }.into_any(),
        _ => view! { <crate::ui::keep::Keep/> }.into_any(),
    }
}
