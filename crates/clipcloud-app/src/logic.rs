//! What the app decides, without the browser: the form's rules, requests as the app keeps
//! them, the history and the pending list, the article helper, code snippets and text.
//! Builds and tests natively (`cargo test -p clipcloud-app`).

pub mod article;
pub mod form;
pub mod history;
pub mod pending;
pub mod request;
pub mod settings;
pub mod snippet;
pub mod text;
