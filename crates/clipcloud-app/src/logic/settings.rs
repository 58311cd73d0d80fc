//! Where and how the app connects, as the connection panel edits it and as much of it as
//! is saved (the base URL and the affiliate id; the key is saved apart).

use clipcloud::json::{self, ObjectWriter};

/// Where and how to connect. The key itself is stored apart (see `device::storage`). No `Debug`:
/// it holds the key.
#[derive(Clone, Default, PartialEq)]
pub struct Settings {
    pub key: String,
    pub remember: bool,
    pub base_url: String,
    /// Developer affiliate id, as typed.
    pub soft_id: String,
    /// What the gateway serving this page wants as the key (`None`: no gateway, or not
    /// known yet; see `ui::gateway`). Not saved: asked on every start. A field here rather
    /// than a signal of its own, whose generic code cost the wasm 0.5 KB gzipped.
    pub gateway: Option<clipcloud::gateway::KeyNeed>,
    /// The longest hold of a check that gateway offers (`Prefer: wait=N`): the client
    /// then asks for held checks and gets each result the moment it exists. Not saved.
    pub hold: Option<core::time::Duration>,
}

impl Settings {
    /// The saved part: `{"base_url": ..., "soft_id": ...}`.
    pub fn to_json(&self) -> String {
        let mut o = ObjectWriter::default();
        o.string("base_url", &self.base_url);
        o.string("soft_id", &self.soft_id);
        o.finish()
    }

    pub fn from_json(text: &str) -> Self {
        let v = json::parse(text).ok();
        let text = |key| v.as_ref().and_then(|v| json::field(v, key, json::string)).unwrap_or_default();
        Self { base_url: text("base_url"), soft_id: text("soft_id"), ..Self::default() }
    }

    /// Whether the key goes in `Authorization: Bearer` rather than the URL (where every
    /// proxy's log keeps it): to the gateway that served this page (`page_origin`), which
    /// said so in `/gateway/info`. Anywhere else, `?apikey=`, as the service's docs ask.
    pub fn key_as_bearer(&self, page_origin: &str) -> bool {
        let base = self.base_url.trim().trim_end_matches('/');
        self.gateway.is_some() && !page_origin.is_empty() && base.eq_ignore_ascii_case(page_origin)
    }

    pub fn soft_id(&self) -> Result<Option<u64>, String> {
        let text = self.soft_id.trim();
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| "soft_id must be a whole number, e.g. 1742".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_base_url_and_soft_id_are_saved() {
        let settings = Settings {
            key: "secret".into(),
            remember: true,
            base_url: "http://127.0.0.1:8787".into(),
            soft_id: " 1742 ".into(),
            gateway: Some(clipcloud::gateway::KeyNeed::None),
            hold: Some(core::time::Duration::from_secs(25)),
        };
        let text = settings.to_json();
        assert!(!text.contains("secret"), "{text}");
        let read = Settings::from_json(&text);
        assert_eq!((read.base_url.as_str(), read.soft_id.as_str()), ("http://127.0.0.1:8787", " 1742 "));
        assert!(read.key.is_empty() && !read.remember && read.gateway.is_none() && read.hold.is_none());
        assert!(Settings::from_json("{]") == Settings::default());
    }

    #[test]
    fn the_key_is_a_header_only_for_the_gateway_that_served_the_page() {
        let gateway = Some(clipcloud::gateway::KeyNeed::Required);
        let settings =
            |base_url: &str, gateway| Settings { base_url: base_url.into(), gateway, ..Settings::default() };
        assert!(settings("https://images.example/", gateway).key_as_bearer("https://images.example"));
        assert!(
            !settings("https://images.example", None).key_as_bearer("https://images.example"),
            "no gateway"
        );
        assert!(!settings("https://clipcloud.clipai.pro", gateway).key_as_bearer("https://images.example"));
        assert!(!settings("", gateway).key_as_bearer(""));
    }

    #[test]
    fn soft_id_is_a_whole_number_or_nothing() {
        let with = |soft_id: &str| Settings { soft_id: soft_id.into(), ..Settings::default() }.soft_id();
        assert_eq!(with(" 1742 "), Ok(Some(1742)));
        assert_eq!(with("  "), Ok(None));
        assert_eq!(with("17.5"), Err("soft_id must be a whole number, e.g. 1742".to_owned()));
        assert!(with("-1").is_err());
    }
}
