//! The ClipCloud single-page app. Every API call goes through the core crate
//! (`clipcloud`); this crate holds the UI and what it keeps on the device.
//!
//! The pure parts (form rules, article helper, snippets, history, pending creations,
//! requests) build and test natively as well; the UI is wasm32 only.

pub mod article;
pub mod form;
pub mod history;
pub mod pending;
pub mod request;
pub mod snippet;
pub mod text;

#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
mod archive;
#[cfg(target_arch = "wasm32")]
mod compose;
#[cfg(target_arch = "wasm32")]
mod creations;
#[cfg(target_arch = "wasm32")]
pub mod gallery;
#[cfg(target_arch = "wasm32")]
mod gateway;
#[cfg(target_arch = "wasm32")]
mod idb;
#[cfg(target_arch = "wasm32")]
mod keep;
#[cfg(target_arch = "wasm32")]
mod offline;
#[cfg(target_arch = "wasm32")]
pub mod state;
#[cfg(target_arch = "wasm32")]
pub mod storage;
#[cfg(target_arch = "wasm32")]
mod tools;
#[cfg(target_arch = "wasm32")]
pub mod util;

/// Mounts the app on the page's `<body>` (which keeps its files for offline use once it
/// has connected: see `app`).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    leptos::mount::mount_to_body(app::App);
}
