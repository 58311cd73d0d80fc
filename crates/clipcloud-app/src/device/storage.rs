//! What the app keeps in the browser: the key (sessionStorage, or localStorage when
//! "remember on this device" is on), settings, the last style, the form draft, the
//! creations still running, the history, and what the polling schedule learned. Storage that is missing or full is
//! ignored: the app works, it just forgets.

use web_sys::Storage;

pub const KEY: &str = "clipcloud.key";
pub const SETTINGS: &str = "clipcloud.settings";
pub const STYLE: &str = "clipcloud.style";
pub const FORM: &str = "clipcloud.form";
pub const PENDING: &str = "clipcloud.pending";
pub const HISTORY: &str = "clipcloud.history";
/// Set while this device keeps a history (in IndexedDB, `ui::gallery`): the page then fetches
/// the gallery's module at once, not once it is idle.
pub const KEPT: &str = "clipcloud.kept";
/// What the polling schedule learned (`Client::learned_text`), so a reload is not a cold start.
pub const LEARNED: &str = "clipcloud.learned";

pub fn local() -> Option<Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn session() -> Option<Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

pub fn get(storage: Option<Storage>, name: &str) -> Option<String> {
    storage?.get_item(name).ok().flatten()
}

pub fn set(storage: Option<Storage>, name: &str, value: &str) {
    if let Some(s) = storage {
        let _ = s.set_item(name, value);
    }
}

pub fn remove(storage: Option<Storage>, name: &str) {
    if let Some(s) = storage {
        let _ = s.remove_item(name);
    }
}

/// Text saved in localStorage (JSON for the structured values); empty when absent.
pub fn load(name: &str) -> String {
    get(local(), name).unwrap_or_default()
}

pub fn save(name: &str, text: &str) {
    set(local(), name, text);
}

/// The saved key: this tab's first (an empty one after "forget the key"), then this
/// device's.
pub fn load_key() -> Option<(String, bool)> {
    if let Some(key) = get(session(), KEY) {
        if !key.is_empty() || get(local(), KEY).is_none() {
            return Some((key, false));
        }
    }
    get(local(), KEY).filter(|k| !k.is_empty()).map(|k| (k, true))
}

/// Keeps the key for this tab, or on this device when `remember`; never both.
pub fn save_key(key: &str, remember: bool) {
    let (keep, drop) = if remember { (local(), session()) } else { (session(), local()) };
    set(keep, KEY, key);
    remove(drop, KEY);
}

/// Forgets the key; the empty one left for this tab keeps the demo key from being
/// pre-filled again on a reload.
pub fn forget_key() {
    set(session(), KEY, "");
    remove(local(), KEY);
}
