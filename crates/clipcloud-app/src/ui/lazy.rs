//! The panels a first Create does not need (the article helper and code panel, the Storage
//! panel), each a wasm module of its own in the release build: fetched when first opened,
//! and preloaded a little after the first connection settled (`ui::app`). Until then each
//! shows a card saying it is loading; a failed fetch (network gone) says so and offers a retry.
//!
//! The split is done by xtask on the release build (`--cfg clipcloud_split`, see `xtask/src/split.rs`):
//! a `#[wasm_split]` function's code and what only it reaches go to their own module. Dev and
//! test builds have no split step, so without the cfg the panels are plain calls.

use crate::ui::util::click;
use leptos::prelude::*;

/// A lazy panel's view, from its module once it is loaded.
type Render = fn() -> AnyView;

#[derive(Clone, Copy)]
enum Load {
    Idle,
    Loading,
    Failed,
    Ready(Render),
}

/// The lazy panels.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Panel {
    /// The article helper and the code panel.
    Tools,
    /// The Storage panel.
    Keep,
}

impl Panel {
    const ALL: [Panel; 2] = [Panel::Tools, Panel::Keep];

    fn title(self) -> &'static str {
        match self {
            // Not the panels' own titles: a search for those finds the loaded panel.
            Panel::Tools => "Writing tools",
            Panel::Keep => "Storage",
        }
    }
}

/// Each panel's load state, shared by the page (the preload) and the panels.
#[derive(Clone, Copy)]
pub struct Panels([RwSignal<Load>; 2]);

impl Panels {
    pub fn new() -> Self {
        Self([RwSignal::new(Load::Idle), RwSignal::new(Load::Idle)])
    }

    fn state(self, panel: Panel) -> RwSignal<Load> {
        self.0[panel as usize]
    }

    /// Fetches `panel`'s module unless it is loaded or on its way.
    fn load(self, panel: Panel) {
        let state = self.state(panel);
        // `None`: the page is gone (a preload timer that fired after it was unmounted).
        match state.try_get_untracked() {
            None | Some(Load::Loading | Load::Ready(_)) => return,
            Some(Load::Idle | Load::Failed) => state.set(Load::Loading),
        }
        leptos::task::spawn_local(async move {
            let loaded = match panel {
                Panel::Tools => modules::tools().await,
                Panel::Keep => modules::keep().await,
            };
            state.try_set(loaded.map_or(Load::Failed, Load::Ready));
        });
    }

    /// Every panel's module (the page calls this a little after its first connection,
    /// when the first visit's own requests are done).
    pub fn preload(self) {
        Panel::ALL.into_iter().for_each(|p| self.load(p));
    }
}

/// `panel` where it stands on the page: its own view once loaded, until then a card of
/// the same title that loads it when opened.
#[component]
pub fn Lazy(panel: Panel) -> impl IntoView {
    let panels = expect_context::<Panels>();
    let state = panels.state(panel);
    move || match state.get() {
        Load::Ready(render) => render(),
        load => view! {
            <details class="card tool lazy" on:toggle=move |_| panels.load(panel)>
                <summary><h2>{panel.title()}</h2></summary>
                {match load {
                    Load::Failed => view! {
                        <p class="hint" role="alert">
                            "This panel could not be loaded (is the network down?). "
                            <button type="button" on:click=click(move |_| panels.load(panel))>"Retry"</button>
                        </p>
                    }.into_any(),
                    _ => view! { <p class="hint" aria-busy="true">"Loading this panel…"</p> }.into_any(),
                }}
            </details>
        }
        .into_any(),
    }
}

/// The panels' views as the release build splits them.
#[cfg(clipcloud_split)]
mod modules {
    use super::Render;
    use leptos::wasm_split::{wasm_split, SplitLoaderError};

    #[wasm_split(tools, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub fn tools() -> Result<Render, SplitLoaderError> {
        Ok(super::render_tools)
    }

    #[wasm_split(keep, wasm_split_path = ::leptos::wasm_split, fallible)]
    pub fn keep() -> Result<Render, SplitLoaderError> {
        Ok(super::render_keep)
    }
}

/// Without the split step: the same views, already there.
#[cfg(not(clipcloud_split))]
mod modules {
    use super::Render;

    pub async fn tools() -> Result<Render, ()> {
        Ok(super::render_tools)
    }

    pub async fn keep() -> Result<Render, ()> {
        Ok(super::render_keep)
    }
}

fn render_tools() -> AnyView {
    use crate::ui::tools::{ArticleHelper, Snippet};
    view! { <ArticleHelper/> <Snippet/> }.into_any()
}

fn render_keep() -> AnyView {
    view! { <crate::ui::keep::Keep/> }.into_any()
}
