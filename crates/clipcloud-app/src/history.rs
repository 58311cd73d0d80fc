//! Past creations, kept on this device: newest first, searchable, capped.

use crate::request::Request;
use serde::{Deserialize, Serialize};

/// Entries kept at most; the oldest go first.
pub const MAX_ENTRIES: usize = 200;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub creation_id: String,
    pub request: Request,
    pub cost: f64,
    #[serde(default)]
    pub censored: u32,
    /// Temporary links: they stop loading after a while.
    pub images: Vec<String>,
    /// Finished at, in ms since the Unix epoch.
    pub finished_ms: f64,
    /// Image size, when known, for thumbnails at the right aspect ratio.
    #[serde(default)]
    pub size: Option<(u32, u32)>,
}

/// Adds `entry` in front (replacing an older entry of the same creation) and drops the
/// oldest beyond [`MAX_ENTRIES`].
pub fn add(entries: &mut Vec<Entry>, entry: Entry) {
    entries.retain(|e| e.creation_id != entry.creation_id);
    entries.insert(0, entry);
    entries.truncate(MAX_ENTRIES);
}

/// Entries whose prompt, negative prompt or style contain every word of `query`
/// (case-insensitive), in their order.
pub fn search<'a>(entries: &'a [Entry], query: &str) -> Vec<&'a Entry> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    entries
        .iter()
        .filter(|e| {
            let text = (e.request.prompt().to_owned()
                + " "
                + e.request.negative_prompt().unwrap_or_default()
                + " "
                + e.request.style_label())
            .to_lowercase();
            words.iter().all(|w| text.contains(w.as_str()))
        })
        .collect()
}

/// Reads a saved history; anything unreadable counts as empty (never a panic).
pub fn from_json(text: &str) -> Vec<Entry> {
    serde_json::from_str(text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipcloud::StyleRequest;

    fn entry(id: &str, prompt: &str, style: &str) -> Entry {
        Entry {
            creation_id: id.into(),
            request: Request::Style(StyleRequest::new(prompt, style)),
            cost: 1.1,
            censored: 0,
            images: vec!["http://127.0.0.1:8787/images/a.webp".into()],
            finished_ms: 1.0,
            size: Some((512, 512)),
        }
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
        let h = vec![entry("1", "x", "standard")];
        assert_eq!(from_json(&serde_json::to_string(&h).unwrap()), h);
        assert!(from_json("{not json").is_empty());
        assert!(from_json("").is_empty());
    }
}
