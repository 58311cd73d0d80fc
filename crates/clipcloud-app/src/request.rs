//! A creation request as the app keeps it (in the queue, the pending list and the
//! history): either kind of create, kept as JSON both ways.

use crate::json::{self, Value};
use clipcloud::model::DEFAULT_BASE_URL;
use clipcloud::{AdvancedRequest, CreateRequest, Style, StyleRequest};

#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    Style(StyleRequest),
    Advanced(AdvancedRequest),
}

impl Request {
    pub fn to_create(&self) -> CreateRequest {
        match self {
            Self::Style(r) => CreateRequest::ByStyle(r.clone()),
            Self::Advanced(r) => CreateRequest::Advanced(r.clone()),
        }
    }

    pub fn prompt(&self) -> &str {
        match self {
            Self::Style(r) => &r.prompt,
            Self::Advanced(r) => &r.prompt,
        }
    }

    pub fn negative_prompt(&self) -> Option<&str> {
        match self {
            Self::Style(r) => r.negative_prompt.as_deref(),
            Self::Advanced(r) => r.negative_prompt.as_deref(),
        }
    }

    pub fn count(&self) -> u32 {
        match self {
            Self::Style(r) => r.count,
            Self::Advanced(r) => r.count,
        }
        .unwrap_or(1)
    }

    /// The style name, or "advanced" for an advanced create.
    pub fn style_label(&self) -> &str {
        match self {
            Self::Style(r) => &r.style_name,
            Self::Advanced(_) => "advanced",
        }
    }

    /// As saved: `{"Style": {...}}` or `{"Advanced": {...}}`, the fields spelled as the
    /// API spells them. Extra advanced fields are not kept (the app never sets any).
    pub fn to_json(&self) -> Value {
        let mut o = json::Object::default();
        let int = |n: Option<u32>| n.map(f64::from);
        let big = |n: Option<u64>| n.map(|n| n as f64);
        let kind = match self {
            Self::Style(r) => {
                o.string("prompt", &r.prompt);
                o.string("styleName", &r.style_name);
                o.opt_string("negative_prompt", r.negative_prompt.as_deref());
                o.opt_number("count", int(r.count));
                o.opt_number("soft_id", big(r.soft_id));
                "Style"
            }
            Self::Advanced(r) => {
                o.string("prompt", &r.prompt);
                o.opt_string("negative_prompt", r.negative_prompt.as_deref());
                o.opt_string("model", r.model.as_deref());
                for (key, v) in
                    [("width", r.width), ("height", r.height), ("quality", r.quality), ("steps", r.steps)]
                {
                    o.opt_number(key, int(v));
                }
                o.opt_number("seed", big(r.seed));
                o.opt_number("count", int(r.count));
                o.opt_number("soft_id", big(r.soft_id));
                "Advanced"
            }
        };
        let mut outer = json::Object::default();
        outer.set(kind, o.finish());
        outer.finish()
    }

    /// Reads what [`Request::to_json`] wrote; `None` when it is not a request.
    pub fn from_json(v: &Value) -> Option<Self> {
        let text = |r: &Value, key: &str| json::get_string(r, key);
        if let Some(r) = json::get(v, "Style") {
            let mut s = StyleRequest::new(text(&r, "prompt")?, text(&r, "styleName")?);
            s.negative_prompt = text(&r, "negative_prompt");
            s.count = json::get_u32(&r, "count");
            s.soft_id = json::get_u64(&r, "soft_id");
            return Some(Self::Style(s));
        }
        let r = json::get(v, "Advanced")?;
        let mut a = AdvancedRequest::new(text(&r, "prompt")?);
        a.negative_prompt = text(&r, "negative_prompt");
        a.model = text(&r, "model");
        a.width = json::get_u32(&r, "width");
        a.height = json::get_u32(&r, "height");
        a.quality = json::get_u32(&r, "quality");
        a.steps = json::get_u32(&r, "steps");
        a.seed = json::get_u64(&r, "seed");
        a.count = json::get_u32(&r, "count");
        a.soft_id = json::get_u64(&r, "soft_id");
        Some(Self::Advanced(a))
    }

    /// Image size, when known: the style's from the styles list, or the advanced
    /// request's own (512×512 when it sets none, as the emulator does).
    pub fn dimensions(&self, styles: &[Style]) -> Option<(u32, u32)> {
        match self {
            Self::Style(r) => {
                styles.iter().find(|s| s.name == r.style_name).and_then(|s| Some((s.width?, s.height?)))
            }
            Self::Advanced(r) => Some((r.width.unwrap_or(512), r.height.unwrap_or(512))),
        }
    }
}

/// The origin to use as the default base URL: the page's own when it is an
/// http(s) origin, else the real service.
pub fn default_base_url(page_origin: &str) -> String {
    if clipcloud::codec::is_http_url(page_origin) {
        page_origin.trim_end_matches('/').to_owned()
    } else {
        DEFAULT_BASE_URL.to_owned()
    }
}

/// The demo key is pre-filled only for a page served from this machine.
pub fn is_local_host(hostname: &str) -> bool {
    matches!(hostname, "localhost" | "127.0.0.1" | "[::1]" | "::1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_json() {
        let mut style = StyleRequest::new("a red apple", "HD-HQ");
        style.count = Some(2);
        style.negative_prompt = Some("blur".into());
        style.soft_id = Some(1742);
        let mut adv = AdvancedRequest::new("a cat");
        adv.width = Some(768);
        adv.height = Some(512);
        adv.quality = Some(90);
        adv.steps = Some(30);
        adv.seed = Some(42);
        adv.count = Some(3);
        adv.model = Some("sdxl".into());
        for r in [Request::Style(style), Request::Advanced(adv), Request::Style(StyleRequest::new("x", "y"))]
        {
            let text = json::stringify(&r.to_json());
            assert_eq!(Request::from_json(&json::parse(&text).unwrap()), Some(r));
        }
    }

    #[test]
    fn reads_what_earlier_versions_saved() {
        // serde's spelling of the same enum, as saved before the JSON seam.
        let old = r#"{"Style":{"prompt":"p","styleName":"standard","count":2}}"#;
        let mut expected = StyleRequest::new("p", "standard");
        expected.count = Some(2);
        assert_eq!(Request::from_json(&json::parse(old).unwrap()), Some(Request::Style(expected)));
        let old = r#"{"Advanced":{"prompt":"p","width":768,"sampler":"euler"}}"#;
        let Some(Request::Advanced(a)) = Request::from_json(&json::parse(old).unwrap()) else { panic!() };
        assert_eq!((a.prompt.as_str(), a.width), ("p", Some(768)));
        for bad in [
            r#"{"Style":{"prompt":"p"}}"#,
            r#"{"Other":{}}"#,
            "[]",
            "3",
            r#"{"Style":{"prompt":1,"styleName":"s"}}"#,
        ] {
            assert_eq!(Request::from_json(&json::parse(bad).unwrap()), None, "{bad}");
        }
    }

    #[test]
    fn dimensions_and_labels() {
        let styles =
            [Style { name: "HD-HQ".into(), width: Some(1280), height: Some(720), ..Style::default() }];
        let r = Request::Style(StyleRequest::new("x", "HD-HQ"));
        assert_eq!(r.dimensions(&styles), Some((1280, 720)));
        assert_eq!(Request::Style(StyleRequest::new("x", "other")).dimensions(&styles), None);
        let mut adv = AdvancedRequest::new("x");
        adv.height = Some(1024);
        assert_eq!(Request::Advanced(adv).dimensions(&[]), Some((512, 1024)));
        assert_eq!(r.style_label(), "HD-HQ");
        assert_eq!(r.count(), 1);
    }

    #[test]
    fn base_url_defaults() {
        assert_eq!(default_base_url("http://127.0.0.1:8787"), "http://127.0.0.1:8787");
        assert_eq!(default_base_url("null"), DEFAULT_BASE_URL);
        assert_eq!(default_base_url("file://"), DEFAULT_BASE_URL);
        assert!(is_local_host("localhost") && is_local_host("127.0.0.1") && !is_local_host("example.com"));
    }
}
