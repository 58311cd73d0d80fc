//! Creations sent but not yet collected, kept so a reload picks them up again.

use crate::logic::request;
use clipcloud::json::{self, ArrayWriter, ObjectWriter, Value};
use clipcloud::CreateRequest;

#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub creation_id: String,
    pub request: CreateRequest,
    /// When the create was accepted, in ms since the Unix epoch.
    pub started_ms: f64,
    pub size: Option<(u32, u32)>,
}

impl Pending {
    fn to_json(&self) -> Value {
        let mut o = ObjectWriter::default();
        o.string("creation_id", &self.creation_id);
        o.value("request", &request::to_json(&self.request));
        o.number("started_ms", self.started_ms);
        set_size(&mut o, self.size);
        o.into_value()
    }

    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            creation_id: json::field(v, "creation_id", json::string)?,
            request: json::field(v, "request", request::from_json)?,
            started_ms: json::field(v, "started_ms", json::number)?,
            size: size_from_json(v),
        })
    }
}

/// An image size as `"size": [width, height]`; no field when unknown.
pub(crate) fn set_size(o: &mut ObjectWriter, size: Option<(u32, u32)>) {
    if let Some((w, h)) = size {
        let mut pair = ArrayWriter::default();
        pair.number(w.into());
        pair.number(h.into());
        o.value("size", &pair.into_value());
    }
}

/// The `size` field of `v`; `None` when absent or unreadable.
pub(crate) fn size_from_json(v: &Value) -> Option<(u32, u32)> {
    match json::field(v, "size", |size| json::items(size, json::whole))?.as_slice() {
        [w, h] => Some((*w, *h)),
        _ => None,
    }
}

/// A list as saved, JSON text.
pub fn to_json(list: &[Pending]) -> String {
    let mut saved = ArrayWriter::default();
    for pending in list {
        saved.value(&pending.to_json());
    }
    saved.finish()
}

/// Adds or replaces the entry of the same creation.
pub fn add(list: &mut Vec<Pending>, entry: Pending) {
    list.retain(|p| p.creation_id != entry.creation_id);
    list.push(entry);
}

pub fn remove(list: &mut Vec<Pending>, creation_id: &str) {
    list.retain(|p| p.creation_id != creation_id);
}

/// Reads a saved list; anything unreadable counts as empty (an unreadable entry is
/// dropped).
pub fn from_json(text: &str) -> Vec<Pending> {
    json::readable_items(text, Pending::from_json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipcloud::StyleRequest;

    #[test]
    fn add_replace_remove() {
        let p = |id: &str| Pending {
            creation_id: id.into(),
            request: StyleRequest::new("x", "standard").into(),
            started_ms: 0.0,
            size: None,
        };
        let mut list = Vec::new();
        add(&mut list, p("a"));
        add(&mut list, p("b"));
        add(&mut list, p("a"));
        assert_eq!(list.iter().map(|p| p.creation_id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        remove(&mut list, "b");
        list[0].size = Some((512, 768));
        assert_eq!(from_json(&to_json(&list)), list);
        assert!(from_json("[{]").is_empty());
        assert_eq!(to_json(&[]), "[]");
    }
}
