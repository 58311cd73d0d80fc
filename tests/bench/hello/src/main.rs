//! The smallest Leptos page: what any Leptos app costs on a first visit before its own code.

#![forbid(unsafe_code)]

#[cfg(target_arch = "wasm32")]
fn main() {
    use leptos::prelude::*;
    leptos::mount::mount_to_body(|| view! { <p id="hello">"Hello"</p> });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
