//! The gallery: every finished picture is saved in the browser (IndexedDB, see `device::idb`) the
//! moment it is ready, and shown from there (an object URL per picture), so a reload, a
//! browser restart or the service's link expiring loses nothing. The history is kept there
//! too (moved once from localStorage, where it used to be). Storage running out is never
//! silent: it is said, and the oldest unpinned pictures are offered for removal.
//!
//! A first Create needs none of that, so in the release build only the state, what the
//! thumbnails read of it and [`Gallery::add`] are in the main module; the rest is in the
//! gallery's lazy module (`ui::lazy`), which [`Gallery::open`] starts once it is there.

use crate::device::idb::{self, StoreError, FETCH_FAILED};
use crate::device::storage;
use crate::logic::history::{self, Entry};
use leptos::prelude::*;
use leptos::task::spawn_local;

/// The object URL of each saved picture, by its link. A list, not a map: a gallery holds
/// hundreds of pictures, not millions, and a map's hashing code would cost the wasm more.
type Saved = Vec<(String, String)>;

fn find<'a>(saved: &'a Saved, link: &str) -> Option<&'a String> {
    saved.iter().find(|(l, _)| l == link).map(|(_, url)| url)
}

/// Saves a finished creation (the history as it is, and the pictures at these links).
type Saver = fn(Gallery, Vec<String>);

/// At most this many unsaved pictures are fetched again when the app starts.
const RETRIED: usize = 20;

/// What the Storage panel shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StoreInfo {
    /// Bytes used and allowed (`navigator.storage.estimate()`).
    pub estimate: Option<(f64, f64)>,
    /// Whether the browser keeps this site's data until the user deletes it.
    pub persisted: Option<bool>,
    /// The browser's answer to the last request for persistent storage, in words.
    pub persist_answer: Option<String>,
    /// What went wrong last (shown as an alert until it is solved).
    pub problem: Option<StoreError>,
    /// Links of finished pictures not saved yet (storage was full): saved again once
    /// room is made.
    pub unsaved: Vec<String>,
    /// A short report of the last export or import.
    pub report: Option<String>,
}

/// The gallery's state, shared through the app's context (`Ctx::gallery`).
#[derive(Clone, Copy)]
pub struct Gallery {
    /// Past creations, newest first (saved in IndexedDB).
    pub history: RwSignal<Vec<Entry>>,
    /// The object URL of each saved picture, by its link; `None` until the store was read.
    pub saved: RwSignal<Option<Saved>>,
    pub info: RwSignal<StoreInfo>,
    /// Whether a gateway serves this page (its `/images/` route relays the service's images).
    pub via_gateway: RwSignal<bool>,
    /// Deletions whose transaction is not complete yet: until then a reload would bring the
    /// entries back, so the history does not say it is empty.
    pub deleting: RwSignal<u32>,
    /// Whether the page should fetch the gallery's module now (`ui::lazy`): this device keeps
    /// a history, or a creation finished before the module was there.
    pub wanted: RwSignal<bool>,
    /// How a finished creation is saved, once the module is there ([`Gallery::open`]).
    saver: StoredValue<Option<Saver>>,
}

impl Default for Gallery {
    fn default() -> Self {
        Self::new()
    }
}

impl Gallery {
    pub fn new() -> Self {
        // A history kept here (or by an earlier version, in localStorage): its module is
        // wanted at once, and its pictures are shown once the store is read (no expired link
        // tried in between). Else nothing is saved yet, and a new picture shows from its link.
        let local = storage::local();
        let kept = storage::get(local.clone(), storage::KEPT).is_some()
            || storage::get(local, storage::HISTORY).is_some();
        idb::open();
        Self {
            history: RwSignal::new(Vec::new()),
            saved: RwSignal::new((!kept).then(Saved::new)),
            info: RwSignal::new(StoreInfo::default()),
            via_gateway: RwSignal::new(false),
            deleting: RwSignal::new(0),
            wanted: RwSignal::new(kept),
            saver: StoredValue::new(None),
        }
    }

    /// Adds a finished creation to the history, and saves it with its pictures: at once when
    /// the gallery's module is there, else once it is (asked for here; [`Gallery::open`]
    /// then reads the store, merges this in and saves the pictures missing).
    pub fn add(self, entry: Entry) {
        let links = entry.images.clone();
        self.history.try_update(|h| history::add(h, entry));
        match self.saver.try_get_value().flatten() {
            Some(save) => save(self, links),
            None => {
                self.wanted.try_set(true);
            }
        }
    }

    /// The gallery's module is there: from now on a finished creation is saved at once; the
    /// store is opened and read, and the pictures still missing are saved (`start`).
    pub fn open(self) {
        self.saver.set_value(Some(Self::save_added));
        self.start();
    }

    fn save_added(self, links: Vec<String>) {
        self.save_history();
        self.keep(links);
    }

    /// Opens the store, moves an old localStorage history into it (once), reads the history
    /// and every saved picture, then saves what is missing while its links still load.
    fn start(self) {
        spawn_local(async move {
            if let Err(e) = self.load().await {
                self.info.try_update(|i| i.problem = Some(e));
                // Nothing to read: show the links as they are.
                self.saved.try_update(|s| *s = Some(s.take().unwrap_or_default()));
            }
            self.refresh_estimate();
            let missing = self.missing();
            self.keep(missing);
        });
    }

    /// Reads the history and the pictures again (after an import wrote them).
    pub async fn reload(self) {
        let old = self.saved.try_update(Option::take).flatten().unwrap_or_default();
        for (_, url) in old {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
        if let Err(e) = self.load().await {
            self.info.try_update(|i| i.problem = Some(e));
            self.saved.try_update(|s| *s = Some(s.take().unwrap_or_default()));
        }
        self.refresh_estimate();
    }

    async fn load(self) -> Result<(), StoreError> {
        let (text, pictures) = idb::load().await?;
        let mut list = history::from_json(&text);
        // Once: the history earlier versions kept in localStorage, removed only once it is
        // safely in IndexedDB.
        let old = storage::load(storage::HISTORY);
        if !old.is_empty() {
            history::merge(&mut list, history::from_json(&old));
            write_history(&list).await?;
            storage::remove(storage::local(), storage::HISTORY);
        }
        // Creations that finished while this was loading are kept too.
        let finished_meanwhile = self.history.try_get_untracked().unwrap_or_default();
        let grew = finished_meanwhile.iter().any(|e| !list.iter().any(|l| l.creation_id == e.creation_id));
        history::merge(&mut list, finished_meanwhile);
        if grew {
            write_history(&list).await?;
        }
        mark_kept(!list.is_empty());
        self.history.try_set(list);
        self.saved.try_set(Some(pictures));
        Ok(())
    }

    /// Links in the history whose pictures are not saved, the newest [`RETRIED`] of them: an
    /// old link has most likely expired, and asking for every one on each start would cost
    /// a request each time.
    fn missing(self) -> Vec<String> {
        let saved = self.saved.try_get_untracked().flatten().unwrap_or_default();
        self.history
            .try_with_untracked(|h| {
                h.iter()
                    .flat_map(|e| e.images.iter())
                    .filter(|l| find(&saved, l).is_none())
                    .take(RETRIED)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The object URL to show for `link`: its saved copy, else the link itself; `None`
    /// until the store was read (so no expired link is tried in between).
    pub fn src(self, link: &str) -> Option<String> {
        self.saved.with(|s| s.as_ref().map(|s| find(s, link).cloned().unwrap_or_else(|| link.to_owned())))
    }

    pub fn is_saved(self, link: &str) -> bool {
        self.saved.with(|s| s.as_ref().is_some_and(|s| find(s, link).is_some()))
    }

    /// Saves the history as it is now.
    pub fn save_history(self) {
        let list = self.history.get_untracked();
        spawn_local(async move {
            self.report(write_history(&list).await);
        });
    }

    /// Fetches and saves the pictures at `links` not saved yet, one after the other.
    pub fn keep(self, links: Vec<String>) {
        let links: Vec<String> = links.into_iter().filter(|l| clipcloud::codec::is_http_url(l)).collect();
        if links.is_empty() {
            return;
        }
        spawn_local(async move {
            for link in links {
                if self.is_saved_untracked(&link) {
                    continue;
                }
                let result = self.keep_one(&link).await;
                let full = result == Err(StoreError::Full);
                self.info.try_update(|i| {
                    i.unsaved.retain(|l| *l != link);
                    if full {
                        i.unsaved.push(link.clone());
                    }
                });
                // A link that no longer loads is no storage problem: the card says so.
                if !matches!(result, Err(StoreError::Failed(ref n)) if n == FETCH_FAILED) {
                    self.report(result);
                }
            }
            self.refresh_estimate();
        });
    }

    fn is_saved_untracked(self, link: &str) -> bool {
        self.saved
            .try_with_untracked(|s| s.as_ref().is_some_and(|s| find(s, link).is_some()))
            .unwrap_or(false)
    }

    async fn keep_one(self, link: &str) -> Result<(), StoreError> {
        let via = fetch_link(link, self.via_gateway.get_untracked());
        let url = idb::keep(link, &via).await?;
        // Shown from the saved copy from now on (an object URL).
        self.saved.try_update(|s| {
            let s = s.get_or_insert_with(Saved::new);
            match s.iter_mut().find(|(l, _)| l == link) {
                Some((_, old)) => {
                    let _ = web_sys::Url::revoke_object_url(old);
                    *old = url;
                }
                None => s.push((link.to_owned(), url)),
            }
        });
        Ok(())
    }

    /// Keeps a problem for the panel to show, or clears a storage-full one that is over.
    fn report(self, result: Result<(), StoreError>) {
        self.info.try_update(|i| match result {
            Err(e) => i.problem = Some(e),
            Ok(()) if i.unsaved.is_empty() && i.problem == Some(StoreError::Full) => i.problem = None,
            Ok(()) => {}
        });
    }

    /// Deletes these creations and their pictures.
    pub fn delete(self, ids: Vec<String>) {
        let mut gone = Vec::new();
        self.history.update(|h| {
            h.retain(|e| {
                let drop = ids.contains(&e.creation_id);
                if drop {
                    gone.extend(e.images.iter().cloned());
                }
                !drop
            })
        });
        self.forget(&gone);
        self.info.update(|i| i.unsaved.retain(|l| !gone.contains(l)));
        self.write_deletion(gone, false);
    }

    /// Deletes every creation and picture.
    pub fn delete_all(self) {
        self.history.set(Vec::new());
        let links: Vec<String> = self.saved.with_untracked(|s| {
            s.as_ref().map(|s| s.iter().map(|(l, _)| l.clone()).collect()).unwrap_or_default()
        });
        self.forget(&links);
        self.info.update(|i| {
            i.unsaved.clear();
            i.problem = None;
        });
        self.write_deletion(Vec::new(), true);
    }

    /// Writes a deletion the page already shows: the pictures at `gone` (or all of them) and
    /// the history as it is now, in one transaction started at once, so a history saved
    /// later (a creation finishing meanwhile) is written after it, never overtaken by it.
    fn write_deletion(self, gone: Vec<String>, all: bool) {
        let (text, kept) = self.history.with_untracked(|h| (history::to_json(h), !h.is_empty()));
        self.deleting.update(|n| *n += 1);
        spawn_local(async move {
            let result = idb::delete(&gone, all, &text).await;
            let failed = result.is_err();
            if !failed {
                mark_kept(kept);
            }
            self.report(result);
            if failed {
                // Nothing was deleted: show what the store still holds, not an empty list.
                self.reload().await;
            }
            self.deleting.try_update(|n| *n = n.saturating_sub(1));
            self.refresh_estimate();
            // Room made: save what storage had no room for.
            let unsaved = self.info.try_with_untracked(|i| i.unsaved.clone()).unwrap_or_default();
            self.keep(unsaved);
        });
    }

    /// Revokes the object URLs of these pictures.
    fn forget(self, links: &[String]) {
        self.saved.update(|s| {
            if let Some(s) = s {
                s.retain(|(link, url)| {
                    let gone = links.contains(link);
                    if gone {
                        let _ = web_sys::Url::revoke_object_url(url);
                    }
                    !gone
                });
            }
        });
    }

    pub fn set_pinned(self, creation_id: &str, pinned: bool) {
        self.history.update(|h| {
            if let Some(e) = h.iter_mut().find(|e| e.creation_id == creation_id) {
                e.pinned = pinned;
            }
        });
        self.save_history();
    }

    /// Reads `navigator.storage.estimate()` and `persisted()` into the panel.
    pub fn refresh_estimate(self) {
        spawn_local(async move {
            let (estimate, persisted) = idb::storage(false).await;
            self.info.try_update(|i| {
                i.estimate = estimate.or(i.estimate);
                i.persisted = persisted.or(i.persisted);
            });
        });
    }

    /// Asks the browser to keep this site's data until the user deletes it
    /// (`navigator.storage.persist()`), and shows its answer.
    pub fn ask_persist(self) {
        self.info.update(|i| i.persist_answer = Some("Asking the browser…".into()));
        spawn_local(async move {
            let (estimate, answer) = idb::storage(true).await;
            let text = match answer {
                Some(true) => "The browser agreed: pictures stay until you delete them.",
                Some(false) => {
                    "The browser declined: it may clear the pictures when the device is short of space \
                     (Safari also after 7 days without a visit, unless the site is on the Home Screen). \
                     Bookmarking or installing the site often makes a browser agree; exporting keeps a copy."
                }
                None => "This browser cannot keep data persistently: export the gallery to keep a copy.",
            };
            self.info.try_update(|i| {
                i.persist_answer = Some(text.into());
                i.estimate = estimate.or(i.estimate);
                if answer.is_some() {
                    i.persisted = answer;
                }
            });
        });
    }
}

async fn write_history(list: &[Entry]) -> Result<(), StoreError> {
    idb::save_history(&history::to_json(list)).await?;
    mark_kept(!list.is_empty());
    Ok(())
}

/// Notes whether this device keeps a history, for the next visit ([`Gallery::new`]).
fn mark_kept(kept: bool) {
    if kept {
        storage::save(storage::KEPT, "1");
    } else {
        storage::remove(storage::local(), storage::KEPT);
    }
}

/// Where to fetch a picture from: through this page's gateway (`/images/NAME`, same origin,
/// whatever CORS the service sends) when the link is on another origin and a gateway serves
/// the page; else the link itself.
fn fetch_link(link: &str, via_gateway: bool) -> String {
    let origin = window().location().origin().unwrap_or_default();
    if !via_gateway || link.starts_with(&(origin.clone() + "/")) {
        return link.to_owned();
    }
    clipcloud::gateway::image_via_gateway(link, &origin).unwrap_or_else(|| link.to_owned())
}
