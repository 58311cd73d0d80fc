//! The Leptos views, one file per part of the page ([`app`] is the page itself, and
//! mounts the others), and the state they share ([`state`], [`gallery`]).

pub mod app;
mod compose;
mod creations;
pub mod gallery;
mod gateway;
mod history;
mod keep;
mod lazy;
pub mod state;
mod tools;
pub mod util;
mod viewer;
