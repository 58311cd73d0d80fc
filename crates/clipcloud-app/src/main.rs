//! Trunk's entry point: mounts the app (see `index.html`).

fn main() {
    #[cfg(target_arch = "wasm32")]
    clipcloud_app::start();
}
