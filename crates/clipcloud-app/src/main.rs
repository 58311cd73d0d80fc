//! Trunk's entry point: mounts the app (see `index.html`).

#![forbid(unsafe_code)]

/// The project's small allocator instead of std's dlmalloc (about 2 KB gzipped less to
/// download). Set here, in the final artifact, not in the library; the component tests
/// (`tests/app.rs`) set it too, so they run on it.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: clipcloud_alloc::Allocator = clipcloud_alloc::Allocator::new();

fn main() {
    #[cfg(target_arch = "wasm32")]
    clipcloud_app::start();
}
