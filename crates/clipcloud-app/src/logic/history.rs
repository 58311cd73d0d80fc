//! Past creations, kept on this device: newest first, searchable, capped. Their pictures
//! are saved beside them (see `ui::gallery`), so an entry outlives the service's temporary links.

use crate::logic::pending::{set_size, size_from_json};
use crate::logic::request::{self, style_label};
use crate::logic::text::lowercase;
use clipcloud::json::{self, ArrayWriter, ObjectWriter, Value};
use clipcloud::CreateRequest;

/// Entries kept at most; the oldest go first. Kept in IndexedDB, where the browser's quota
/// (shown and managed in the Storage panel) is the real limit; this only bounds the list.
pub const MAX_ENTRIES: usize = 5000;

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub creation_id: String,
    pub request: CreateRequest,
    pub cost: f64,
    pub censored: u32,
    /// Temporary links: they stop loading after a while.
    pub images: Vec<String>,
    /// Finished at, in ms since the Unix epoch.
    pub finished_ms: f64,
    /// Image size, when known, for thumbnails at the right aspect ratio.
    pub size: Option<(u32, u32)>,
    /// Kept when storage runs out: never offered for removal.
    pub pinned: bool,
}

impl Entry {
    fn to_json(&self) -> Value {
        let mut o = ObjectWriter::default();
        o.string("creation_id", &self.creation_id);
        o.value("request", &request::to_json(&self.request));
        o.number("cost", self.cost);
        o.integer("censored", self.censored.into());
        let mut images = ArrayWriter::default();
        for url in &self.images {
            images.string(url);
        }
        o.value("images", &images.into_value());
        o.number("finished_ms", self.finished_ms);
        set_size(&mut o, self.size);
        if self.pinned {
            o.boolean("pinned", true);
        }
        o.into_value()
    }

    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            creation_id: json::field(v, "creation_id", json::string)?,
            request: json::field(v, "request", request::from_json)?,
            cost: json::field(v, "cost", json::number)?,
            censored: json::field(v, "censored", json::whole).unwrap_or(0),
            images: json::field(v, "images", |list| json::items(list, json::string))?,
            finished_ms: json::field(v, "finished_ms", json::number)?,
            size: size_from_json(v),
            pinned: json::field(v, "pinned", json::boolean).unwrap_or(false),
        })
    }
}

/// A history as saved, JSON text.
pub fn to_json(entries: &[Entry]) -> String {
    let mut list = ArrayWriter::default();
    for entry in entries {
        list.value(&entry.to_json());
    }
    list.finish()
}

/// Adds `entry` in front (replacing an older entry of the same creation) and drops the
/// oldest beyond [`MAX_ENTRIES`].
pub fn add(entries: &mut Vec<Entry>, entry: Entry) {
    entries.retain(|e| e.creation_id != entry.creation_id);
    entries.insert(0, entry);
    entries.truncate(MAX_ENTRIES);
}

/// Adds what `other` has that `entries` lacks (an import, or creations finished while the
/// saved history was still loading), then keeps the newest first.
pub fn merge(entries: &mut Vec<Entry>, other: Vec<Entry>) {
    for entry in other {
        if !entries.iter().any(|e| e.creation_id == entry.creation_id) {
            entries.push(entry);
        }
    }
    entries.sort_by(|a, b| b.finished_ms.total_cmp(&a.finished_ms));
    entries.truncate(MAX_ENTRIES);
}

/// The oldest entries not pinned that have pictures, oldest first, until their pictures
/// number at least `pictures`: what is offered for removal when storage is full.
pub fn oldest_unpinned(entries: &[Entry], pictures: usize) -> Vec<&Entry> {
    let mut out = Vec::new();
    let mut freed = 0;
    for e in entries.iter().rev().filter(|e| !e.pinned && !e.images.is_empty()) {
        if freed >= pictures {
            break;
        }
        freed += e.images.len();
        out.push(e);
    }
    out
}

/// Entries whose prompt, negative prompt or style contain every word of `query`
/// (case-insensitive), in their order.
pub fn search<'a>(entries: &'a [Entry], query: &str) -> Vec<&'a Entry> {
    let words: Vec<String> = query.split_whitespace().map(lowercase).collect();
    entries
        .iter()
        .filter(|e| {
            let text = lowercase(
                &(e.request.prompt().to_owned()
                    + " "
                    + e.request.negative_prompt().unwrap_or_default()
                    + " "
                    + style_label(&e.request)),
            );
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .collect()
}

/// Reads a saved history; anything unreadable counts as empty (never a panic), an
/// unreadable entry is dropped.
pub fn from_json(text: &str) -> Vec<Entry> {
    json::readable_items(text, Entry::from_json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipcloud::StyleRequest;

    fn entry(id: &str, prompt: &str, style: &str) -> Entry {
        Entry {
            creation_id: id.into(),
            request: StyleRequest::new(prompt, style).into(),
            cost: 1.1,
            censored: 0,
            images: vec!["http://127.0.0.1:8787/images/a.webp".into()],
            finished_ms: 1.0,
            size: Some((512, 512)),
            pinned: false,
        }
    }

    #[test]
    fn merge_adds_only_new_entries_newest_first() {
        let mut h = vec![entry("b", "two", "standard")];
        h[0].finished_ms = 2.0;
        let mut a = entry("a", "one", "standard");
        a.finished_ms = 1.0;
        let mut c = entry("c", "three", "standard");
        c.finished_ms = 3.0;
        merge(&mut h, vec![a, c, entry("b", "other", "standard")]);
        assert_eq!(h.iter().map(|e| e.creation_id.as_str()).collect::<Vec<_>>(), ["c", "b", "a"]);
        assert_eq!(h[1].request.prompt(), "two");
    }

    #[test]
    fn oldest_unpinned_offers_enough_pictures_oldest_first() {
        let mut h =
            vec![entry("3", "x", "s"), entry("2", "x", "s"), entry("1", "x", "s"), entry("0", "x", "s")];
        h[3].pinned = true; // the oldest is pinned: never offered
        h[2].images.push("http://x/b.webp".into()); // two pictures
        let ids = |n| oldest_unpinned(&h, n).iter().map(|e| e.creation_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(1), ["1"]);
        assert_eq!(ids(2), ["1"]);
        assert_eq!(ids(3), ["1", "2"]);
        assert_eq!(ids(99), ["1", "2", "3"]);
        assert!(ids(0).is_empty());
    }

    #[test]
    fn newest_first_deduplicated_capped() {
        let mut h = Vec::new();
        add(&mut h, entry("a", "one", "standard"));
        add(&mut h, entry("b", "two", "standard"));
        add(&mut h, entry("a", "one again", "standard"));
        assert_eq!(h.iter().map(|e| e.creation_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        for i in 0..MAX_ENTRIES + 5 {
            add(&mut h, entry(&i.to_string(), "x", "standard"));
        }
        assert_eq!(h.len(), MAX_ENTRIES);
        assert_eq!(h[0].creation_id, (MAX_ENTRIES + 4).to_string());
    }

    #[test]
    fn search_matches_all_words_anywhere() {
        let h = vec![entry("1", "A red Apple on a table", "HD-HQ"), entry("2", "A green pear", "pixel-art")];
        let ids = |q: &str| search(&h, q).iter().map(|e| e.creation_id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(""), ["1", "2"]);
        assert_eq!(ids("apple"), ["1"]);
        assert_eq!(ids("a PIXEL"), ["2"]);
        assert_eq!(ids("red pear"), Vec::<String>::new());
    }

    #[test]
    fn survives_json_and_garbage() {
        let mut h = vec![entry("1", "x", "standard"), entry("2", "y", "HD-HQ")];
        h[1].size = None;
        h[1].censored = 2;
        h[1].finished_ms = 1_764_000_000_123.0;
        h[1].pinned = true;
        assert_eq!(from_json(&to_json(&h)), h);
        assert!(from_json("{not json").is_empty());
        assert!(from_json("").is_empty());
        // What earlier versions saved (serde's spelling) still reads; broken entries are dropped.
        let old = r#"[{"creation_id":"a","request":{"Style":{"prompt":"p","styleName":"standard"}},"cost":1.1,"images":["http://x/a.webp"],"finished_ms":5.0,"size":[512,512]},{"creation_id":"b"}]"#;
        let read = from_json(old);
        assert_eq!(read.len(), 1);
        assert_eq!((read[0].censored, read[0].size, read[0].cost), (0, Some((512, 512)), 1.1));
    }
}
