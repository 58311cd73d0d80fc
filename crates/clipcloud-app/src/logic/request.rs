//! A creation request (the core's [`CreateRequest`]) as the app keeps it in the pending
//! list and the history, and the app's defaults for where to send it.

use clipcloud::codec::{create_body, read_create_body};
use clipcloud::json::{self, ObjectWriter, Value};
use clipcloud::model::DEFAULT_BASE_URL;
use clipcloud::{CreateRequest, Style};

/// As saved: `{"Style": body}` or `{"Advanced": body}`, the body being the create body the
/// core sends ([`create_body`]), as every version of the app saved it.
pub fn to_json(request: &CreateRequest) -> Value {
    let mut saved = ObjectWriter::default();
    saved.json(if request.style_name().is_some() { "Style" } else { "Advanced" }, &create_body(request));
    saved.into_value()
}

/// Reads what [`to_json`] wrote; `None` when it is not a request.
pub fn from_json(v: &Value) -> Option<CreateRequest> {
    let (body, by_style) = match json::get(v, "Style") {
        Some(body) => (body, true),
        None => (json::get(v, "Advanced")?, false),
    };
    read_create_body(&body).filter(|r| r.style_name().is_some() == by_style)
}

/// The style's name, or "advanced" for an advanced create.
pub fn style_label(request: &CreateRequest) -> &str {
    request.style_name().unwrap_or("advanced")
}

/// Image size, when known: the style's from the styles list, or the advanced
/// request's own (512×512 when it sets none, as the emulator does).
pub fn image_size(request: &CreateRequest, styles: &[Style]) -> Option<(u32, u32)> {
    match request {
        CreateRequest::ByStyle(r) => {
            styles.iter().find(|s| s.name == r.style_name).and_then(|s| Some((s.width?, s.height?)))
        }
        CreateRequest::Advanced(r) => Some((r.width.unwrap_or(512), r.height.unwrap_or(512))),
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
    use clipcloud::{AdvancedRequest, StyleRequest};

    fn read(text: &str) -> Option<CreateRequest> {
        from_json(&json::parse(text).unwrap())
    }

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
        for r in
            [style.into(), adv.into(), StyleRequest::new("x", "y").into(), AdvancedRequest::new("").into()]
        {
            let text = json::stringify(&to_json(&r));
            assert_eq!(read(&text), Some(r));
        }
    }

    #[test]
    fn reads_what_earlier_versions_saved() {
        // serde's spelling of the app's own enum, as saved before the JSON seam, and as
        // the app's own request type wrote it after.
        let mut expected = StyleRequest::new("p", "standard");
        expected.count = Some(2);
        assert_eq!(
            read(r#"{"Style":{"prompt":"p","styleName":"standard","count":2}}"#),
            Some(expected.into())
        );
        let Some(CreateRequest::Advanced(a)) =
            read(r#"{"Advanced":{"prompt":"p","width":768,"sampler":"euler"}}"#)
        else {
            panic!()
        };
        assert_eq!((a.prompt.as_str(), a.width), ("p", Some(768)));
        let mut old = StyleRequest::new("a", "HD-HQ");
        (old.negative_prompt, old.soft_id) = (Some("blur".into()), Some(1742));
        let saved = r#"{"Style":{"prompt":"a","styleName":"HD-HQ","negative_prompt":"blur","soft_id":1742}}"#;
        assert_eq!(read(saved), Some(old.into()));
        for bad in [
            r#"{"Style":{"prompt":"p"}}"#,
            r#"{"Advanced":{"prompt":"p","styleName":"s"}}"#,
            r#"{"Other":{}}"#,
            "[]",
            "3",
            r#"{"Style":{"prompt":1,"styleName":"s"}}"#,
        ] {
            assert_eq!(read(bad), None, "{bad}");
        }
    }

    #[test]
    fn sizes_and_labels() {
        let styles =
            [Style { name: "HD-HQ".into(), width: Some(1280), height: Some(720), ..Style::default() }];
        let r: CreateRequest = StyleRequest::new("x", "HD-HQ").into();
        assert_eq!(image_size(&r, &styles), Some((1280, 720)));
        assert_eq!(image_size(&StyleRequest::new("x", "other").into(), &styles), None);
        let mut adv = AdvancedRequest::new("x");
        adv.height = Some(1024);
        assert_eq!(image_size(&adv.clone().into(), &[]), Some((512, 1024)));
        assert_eq!((style_label(&r), style_label(&adv.into())), ("HD-HQ", "advanced"));
        assert_eq!(r.image_count(), 1);
    }

    #[test]
    fn base_url_defaults() {
        assert_eq!(default_base_url("http://127.0.0.1:8787"), "http://127.0.0.1:8787");
        assert_eq!(default_base_url("null"), DEFAULT_BASE_URL);
        assert_eq!(default_base_url("file://"), DEFAULT_BASE_URL);
        assert!(is_local_host("localhost") && is_local_host("127.0.0.1") && !is_local_host("example.com"));
    }
}
