//! The current form as code: the npm package's call and curl commands, with the key
//! masked, ready to copy.

use crate::request::Request;
use clipcloud::model::DEFAULT_BASE_URL;

/// Shows enough of a key to recognise it, never all of it.
pub fn mask_key(key: &str) -> String {
    let key = key.trim();
    let shown: String = if key.chars().count() > 8 { key.chars().take(3).collect() } else { String::new() };
    shown + "••••••"
}

fn js_string(text: &str) -> String {
    crate::json::quote(text)
}

/// `text` inside single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    "'".to_owned() + &text.replace('\'', "'\\''") + "'"
}

fn base(base_url: &str) -> &str {
    base_url.trim().trim_end_matches('/')
}

/// `generate` with the npm package (`new ClipCloud({...})`, camelCase options).
pub fn npm(request: &Request, base_url: &str, key: &str, soft_id: Option<u64>) -> String {
    let mut out =
        String::from("import { ClipCloud } from \"clipcloud\";\n\nconst cc = new ClipCloud({\n  apiKey: ");
    out += &js_string(&mask_key(key));
    out += ", // your API key (masked here)\n";
    if base(base_url) != DEFAULT_BASE_URL {
        out += "  baseUrl: ";
        out += &js_string(base(base_url));
        out += ",\n";
    }
    if let Some(id) = soft_id {
        out += "  softId: ";
        out += &id.to_string();
        out += ",\n";
    }
    out += "});\n\nconst { images, cost, censored } = await cc.generate({\n";
    let mut field = |name: &str, value: String| {
        out += "  ";
        out += name;
        out += ": ";
        out += &value;
        out += ",\n";
    };
    field("prompt", js_string(request.prompt()));
    let num = |n: Option<u32>| n.map(|n| n.to_string());
    match request {
        Request::Style(r) => {
            field("style", js_string(&r.style_name));
            if let Some(n) = &r.negative_prompt {
                field("negativePrompt", js_string(n));
            }
            if let Some(n) = num(r.count) {
                field("count", n);
            }
        }
        Request::Advanced(r) => {
            if let Some(n) = &r.negative_prompt {
                field("negativePrompt", js_string(n));
            }
            if let Some(m) = &r.model {
                field("model", js_string(m));
            }
            for (name, value) in [
                ("count", r.count),
                ("width", r.width),
                ("height", r.height),
                ("quality", r.quality),
                ("steps", r.steps),
            ] {
                if let Some(v) = num(value) {
                    field(name, v);
                }
            }
            if let Some(seed) = r.seed {
                field("seed", seed.to_string());
            }
        }
    }
    out += "});\n";
    out
}

/// Create, then check, with curl. The key is in a shell variable, masked here.
pub fn curl(request: &Request, base_url: &str, key: &str, soft_id: Option<u64>) -> String {
    let mut create = request.to_create();
    if let (Some(id), clipcloud::CreateRequest::ByStyle(r)) = (soft_id, &mut create) {
        r.soft_id = r.soft_id.or(Some(id));
    }
    if let (Some(id), clipcloud::CreateRequest::Advanced(r)) = (soft_id, &mut create) {
        r.soft_id = r.soft_id.or(Some(id));
    }
    let base = base(base_url);
    // The body exactly as the core sends it.
    let body =
        clipcloud::codec::Endpoint { base_url: base, api_key: None }.create(&create).body.unwrap_or_default();
    let mut out = String::from("KEY=");
    out += &shell_quote(&mask_key(key));
    out += "   # your API key (masked here)\n\n# 1. start the creation\ncurl -s -X POST \"";
    out += base;
    out += "/api/creation?apikey=$KEY\" \\\n  -H 'Content-Type: application/json' \\\n  -d ";
    out += &shell_quote(&body);
    out += "\n# → {\"success\":true,\"creation_id\":\"…\"}\n\n# 2. check until \"results\" holds the image links\ncurl -s \"";
    out += base;
    out += "/api/creation/CREATION_ID?apikey=$KEY\"\n";
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clipcloud::{AdvancedRequest, StyleRequest};

    #[test]
    fn masks_keys() {
        assert_eq!(mask_key("demo-key"), "••••••");
        assert_eq!(mask_key("sk-1234567890"), "sk-••••••");
        assert!(!mask_key("sk-1234567890").contains("1234"));
    }

    #[test]
    fn npm_call() {
        let mut r = StyleRequest::new("A \"ripe\" apple", "HD-HQ");
        r.count = Some(2);
        r.negative_prompt = Some("blur".into());
        let code = npm(&Request::Style(r), "http://127.0.0.1:8787/", "sk-1234567890", Some(1742));
        assert_eq!(
            code,
            "import { ClipCloud } from \"clipcloud\";\n\nconst cc = new ClipCloud({\n  apiKey: \"sk-••••••\", // your API key (masked here)\n  baseUrl: \"http://127.0.0.1:8787\",\n  softId: 1742,\n});\n\nconst { images, cost, censored } = await cc.generate({\n  prompt: \"A \\\"ripe\\\" apple\",\n  style: \"HD-HQ\",\n  negativePrompt: \"blur\",\n  count: 2,\n});\n"
        );
        let mut adv = AdvancedRequest::new("x");
        adv.width = Some(768);
        adv.seed = Some(7);
        let code = npm(&Request::Advanced(adv), DEFAULT_BASE_URL, "k", None);
        assert!(!code.contains("baseUrl") && code.contains("  width: 768,\n  seed: 7,\n"), "{code}");
    }

    #[test]
    fn curl_commands() {
        let r = StyleRequest::new("It's an apple", "standard");
        let code = curl(&Request::Style(r), "https://clipcloud.clipai.pro", "sk-1234567890", Some(5));
        assert!(code.starts_with("KEY='sk-••••••'"), "{code}");
        assert!(!code.contains("1234567890"));
        assert!(code.contains(
            "curl -s -X POST \"https://clipcloud.clipai.pro/api/creation?apikey=$KEY\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"prompt\":\"It'\\''s an apple\",\"styleName\":\"standard\",\"soft_id\":5}'"
        ), "{code}");
        assert!(
            code.contains("curl -s \"https://clipcloud.clipai.pro/api/creation/CREATION_ID?apikey=$KEY\"")
        );
    }
}
