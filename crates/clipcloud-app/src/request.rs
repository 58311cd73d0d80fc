//! A creation request as the app keeps it (in the queue, the pending list and the
//! history): either kind of create, serializable both ways.

use clipcloud::model::DEFAULT_BASE_URL;
use clipcloud::{AdvancedRequest, CreateRequest, Style, StyleRequest};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

    /// Image size, when known: the style's from the styles list, or the advanced
    /// request's own (512×512 when it sets none, as the emulator does).
    pub fn dimensions(&self, styles: &[Style]) -> Option<(u32, u32)> {
        match self {
            Self::Style(r) => styles
                .iter()
                .find(|s| s.name == r.style_name)
                .and_then(|s| Some((s.width?, s.height?))),
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
        let mut adv = AdvancedRequest::new("a cat");
        adv.width = Some(768);
        adv.extra.insert("sampler".into(), serde_json::json!("euler"));
        for r in [Request::Style(style), Request::Advanced(adv)] {
            let text = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), r);
        }
    }

    #[test]
    fn dimensions_and_labels() {
        let styles = [Style { name: "HD-HQ".into(), width: Some(1280), height: Some(720), ..Style::default() }];
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
