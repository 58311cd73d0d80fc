//! Creations sent but not yet collected, kept so a reload picks them up again.

use crate::request::Request;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub creation_id: String,
    pub request: Request,
    /// When the create was accepted, in ms since the Unix epoch.
    pub started_ms: f64,
    #[serde(default)]
    pub size: Option<(u32, u32)>,
}

/// Adds or replaces the entry of the same creation.
pub fn add(list: &mut Vec<Pending>, entry: Pending) {
    list.retain(|p| p.creation_id != entry.creation_id);
    list.push(entry);
}

pub fn remove(list: &mut Vec<Pending>, creation_id: &str) {
    list.retain(|p| p.creation_id != creation_id);
}

/// Reads a saved list; anything unreadable counts as empty.
pub fn from_json(text: &str) -> Vec<Pending> {
    serde_json::from_str(text).unwrap_or_default()
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
        assert_eq!(from_json(&serde_json::to_string(&list).unwrap()), list);
        assert!(from_json("[{]").is_empty());
    }
}
