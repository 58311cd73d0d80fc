//! Served by a ClipCloud gateway? On start the app asks the page's origin
//! (`GET /gateway/info`, built and read by the core): in operator-key mode it wants no key
//! (the app asks for none and connects through it), or a passphrase or a visitor token in
//! the key's place (the key field says so). In relay mode, or with no gateway (any other
//! answer), the app asks for the visitor's own key as before. A gateway that offers held
//! checks gets them: each check waits there until the creation is ready.

use crate::ui::state::{Connection, Ctx};
use clipcloud::fetch::FetchTransport;
use clipcloud::gateway::{self, KeyNeed};
use clipcloud::Transport;
use leptos::prelude::*;

const UNREACHABLE: &str = "This site cannot be reached (offline, or the site is down): saved pictures are \
     still here. Reload the page once it is back.";

/// Asks the page's origin what it wants as the key, then connects (or opens the
/// connection panel when a key is still to be typed).
pub fn start(ctx: Ctx) {
    leptos::task::spawn_local(async move {
        let origin = window().location().origin().unwrap_or_default();
        let answer =
            FetchTransport.send(&gateway::info_request(&origin), core::time::Duration::from_secs(5)).await;
        // A 5xx: a proxy in front of a site that is down (a gateway answers this itself).
        let Some(answer) = answer.ok().filter(|answer| answer.status < 500) else {
            // The page's own origin unreachable (offline, the site down; opened from the
            // offline copy): say so, rather than ask for a key this site may not want. What is
            // saved still shows.
            ctx.connection.try_set(Connection::Failed(UNREACHABLE.to_owned()));
            return;
        };
        let info = gateway::decode_info(&answer);
        let need = info.as_ref().map(|info| info.apikey);
        let hold = info.and_then(|info| info.config_hold());
        let keyless = need == Some(KeyNeed::None);
        // A gateway relays the service's images on its own origin: pictures are saved through it.
        ctx.gallery.via_gateway.try_set(need.is_some());
        ctx.settings.update(|s| {
            s.gateway = need;
            s.hold = hold;
            if keyless {
                // The gateway serving this page is the one that adds its key.
                s.base_url = origin;
            }
        });
        if keyless || ctx.settings.with_untracked(|s| !s.key.trim().is_empty()) {
            ctx.connect(false);
        } else {
            ctx.show_settings.try_set(true);
        }
    });
}

/// The gateway adds its own key: no key field.
pub fn keyless(ctx: Ctx) -> bool {
    ctx.settings.with(|s| s.gateway == Some(KeyNeed::None))
}

/// The key field's label: what this site wants in the key's place.
pub fn key_label(ctx: Ctx) -> String {
    match ctx.settings.with(|s| s.gateway) {
        Some(KeyNeed::Passphrase) => "Passphrase",
        Some(KeyNeed::Token) => "Visitor token",
        _ => "API key",
    }
    .to_owned()
}
