//! Creations sent but not yet collected, kept so a reload picks them up again.

use crate::json::{self, Value};
use crate::request::Request;

#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub creation_id: String,
    pub request: Request,
    /// When the create was accepted, in ms since the Unix epoch.
    pub started_ms: f64,
    pub size: Option<(u32, u32)>,
}

impl Pending {
    fn to_json(&self) -> Value {
        let mut o = json::Object::default();
        o.string("creation_id", &self.creation_id);
        o.set("request", self.request.to_json());
        o.number("started_ms", self.started_ms);
        set_size(&mut o, self.size);
        o.finish()
    }

    fn from_json(v: &Value) -> Option<Self> {
        Some(Self {
            creation_id: json::get_string(v, "creation_id")?,
            request: Request::from_json(&json::get(v, "request")?)?,
            started_ms: json::get_f64(v, "started_ms")?,
            size: size_from_json(v),
        })
    }
}

/// An image size as `"size": [width, height]`; no field when unknown.
pub(crate) fn set_size(o: &mut json::Object, size: Option<(u32, u32)>) {
    if let Some((w, h)) = size {
        o.set("size", json::from_array(vec![json::from_f64(w.into()), json::from_f64(h.into())]));
    }
}

/// The `size` field of `v`; `None` when absent or unreadable.
pub(crate) fn size_from_json(v: &Value) -> Option<(u32, u32)> {
    match json::array(&json::get(v, "size")?)?.as_slice() {
        [w, h] => Some((json::to_u32(w)?, json::to_u32(h)?)),
        _ => None,
    }
}

/// A list as saved, JSON text.
pub fn to_json(list: &[Pending]) -> String {
    json::stringify(&json::from_array(list.iter().map(Pending::to_json).collect()))
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
    let list = json::parse(text).ok().as_ref().and_then(json::array).unwrap_or_default();
    list.iter().filter_map(Pending::from_json).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipcloud::StyleRequest;

    #[test]
    fn add_replace_remove() {
        let p = |id: &str| Pending {
            creation_id: id.into(),
            request: Request::Style(StyleRequest::new("x", "standard")),
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
