//! The ClipCloud single-page app. Every API call goes through the core crate
//! (`clipcloud`); this crate holds the UI and what it keeps on the device, in three layers,
//! each using only those before it:
//!
//! - [`logic`]: what the app decides, pure (form rules, requests, history, pending
//!   creations, the article helper, code snippets, text); builds and tests natively too;
//! - `device`: what the browser keeps and does for it (IndexedDB, localStorage, the offline
//!   copy, ZIP export, clipboard and downloads), wasm32 only;
//! - `ui`: the Leptos views and the state they share, wasm32 only.

#![forbid(unsafe_code)]

pub mod logic;

#[cfg(target_arch = "wasm32")]
pub mod device;
#[cfg(target_arch = "wasm32")]
pub mod ui;

/// Mounts the app on the page's `<body>` (which keeps its files for offline use once it
/// has connected: see `ui::app`).
#[cfg(target_arch = "wasm32")]
pub fn start() {
    leptos::mount::mount_to_body(ui::app::App);
}
