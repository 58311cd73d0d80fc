//! Client for the [ClipCloud](https://clipcloud.clipai.pro) image-generation API.
//!
//! Four calls — create (by style or advanced), check, balance, styles — plus
//! `generate` (create, then wait for the images) and `wait` (for a creation made
//! earlier, as the docs recommend: create early, collect when needed).
//!
//! `Client::new(Config::new(key))` makes a client over the browser's `fetch` (wasm32,
//! feature `fetch`, the default) or over hyper and tokio (natively, feature `native`;
//! `native-tls` for https); `Client::with_transport` takes any other [`Transport`]. The
//! calls are the same everywhere (they run in `tests/browser.rs` against the emulator):
//!
//! ```
//! use clipcloud::{Client, Error, Status, StyleRequest, Transport};
//!
//! async fn illustrate<T: Transport>(client: &Client<T>) -> Result<(), Error> {
//!     let styles = client.styles().await?; // the live list
//!     println!("{} styles", styles.len());
//!     let id = client.create(StyleRequest::new("A ripe red apple", "HD-HQ")).await?;
//!     // One check; then `wait` polls until the images exist.
//!     if let Status::Done(done) = client.check(&id).await? {
//!         println!("{} images, cost {}", done.images.len(), done.cost);
//!     }
//!     let done = client.wait(&id, |p| println!("{} checks", p.checks)).await?;
//!     println!("{:?}; balance left: {}", done.images, client.balance().await?);
//!     Ok(())
//! }
//! ```
//!
//! The crate is sans-IO at heart: [`validate`], [`codec`], [`retry`] and [`poll`] are
//! pure and tested natively, and [`operation`] composes them into one state machine per
//! call that says what to send and how long to sleep. [`Client`] drives it over any
//! [`Transport`]; `fetch` (the browser's, wasm32) and `native` (hyper) are the only
//! I/O. The npm package drives the same machine from JavaScript.
//!
//! Beside the codec, the small text forms it and the project's servers and tools share:
//! [`percent`]-encoding, [`http_date`]s, [`hex`] and [`base64`].

// No unsafe code but the declarations of what the npm package's host provides
// (`json`'s host backend, wasm32 without `bindgen`), allowed there alone.
#![deny(unsafe_code)]

pub mod base64;
pub mod client;
pub mod codec;
pub mod config;
pub mod error;
#[cfg(all(target_arch = "wasm32", feature = "fetch"))]
pub mod fetch;
pub mod gateway;
pub mod hex;
pub mod hold;
pub mod http_date;
pub mod json;
pub mod model;
#[cfg(all(not(target_arch = "wasm32"), feature = "native"))]
pub mod native;
#[cfg(not(target_arch = "wasm32"))]
pub mod openapi;
pub mod operation;
pub mod percent;
pub mod poll;
pub mod preview;
pub mod retry;
pub mod route;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
mod text;
pub mod transport;
pub mod validate;

pub use client::{Abort, CallOptions, Client, OnProgress};
pub use config::{ApiKey, Config};
pub use error::{Error, ErrorCode, Field, InvalidInput};
pub use model::{AdvancedRequest, CreateRequest, Extra, Finished, Status, Style, StyleRequest, KNOWN_STYLES};
pub use operation::{Call, Interrupt, Operation, Output, Progress, Session, Step};
pub use poll::PollSchedule;
pub use retry::RetryPolicy;
pub use route::Route;
pub use transport::{Transport, TransportError};
