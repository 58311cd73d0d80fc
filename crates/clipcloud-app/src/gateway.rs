//! Served by a ClipCloud gateway? On start the app asks the page's origin
//! (`GET /gateway/info`, built and read by the core): in operator-key mode it wants no key
//! (the app asks for none and connects through it), or a passphrase or a visitor token in
//! the key's place (the key field says so). In relay mode, or with no gateway (any other
//! answer), the app asks for the visitor's own key as before.

use crate::state::Ctx;
use clipcloud::fetch::FetchTransport;
use clipcloud::gateway::{self, KeyNeed};
use clipcloud::Transport;
use leptos::prelude::*;

/// Asks the page's origin what it wants as the key, then connects (or opens the
/// connection panel when a key is still to be typed).
pub fn start(ctx: Ctx) {
    leptos::task::spawn_local(async move {
        let origin = window().location().origin().unwrap_or_default();
        let answer =
            FetchTransport.send(&gateway::info_request(&origin), core::time::Duration::from_secs(5)).await;
        let need = answer.ok().and_then(|r| gateway::decode_info(&r)).map(|info| info.apikey);
        let keyless = need == Some(KeyNeed::None);
        if keyless {
            // The gateway serving this page is the one that adds its key.
            ctx.settings.update(|s| s.base_url = origin);
        }
        ctx.gateway.try_set(need);
        if keyless || ctx.settings.with_untracked(|s| !s.key.trim().is_empty()) {
            ctx.connect();
        } else {
            ctx.show_settings.try_set(true);
        }
    });
}

/// The gateway adds its own key: no key field.
pub fn keyless(ctx: Ctx) -> bool {
    ctx.gateway.get() == Some(KeyNeed::None)
}

/// The key field's label and placeholder.
pub fn key_label(ctx: Ctx, placeholder: bool) -> String {
    match (ctx.gateway.get(), placeholder) {
        (Some(KeyNeed::Passphrase), false) => "Passphrase",
        (Some(KeyNeed::Passphrase), true) => "The passphrase this site gave you",
        (Some(KeyNeed::Token), false) => "Visitor token",
        (Some(KeyNeed::Token), true) => "The token this site gave you",
        (_, false) => "API key",
        (_, true) => "Your ClipCloud API key",
    }
    .to_owned()
}
