//! The current form as code, ready to copy, the key masked: the npm package's call, and
//! curl commands that send what the app's client sends (the core builds the requests:
//! `clipcloud::preview`).

use clipcloud::codec::{HttpRequest, Method};
use clipcloud::model::DEFAULT_BASE_URL;
use clipcloud::preview;
use clipcloud::{json, Config, CreateRequest};

/// Shows enough of a key to recognise it, never all of it.
pub fn mask_key(key: &str) -> String {
    let key = key.trim();
    let shown: String = if key.chars().count() > 8 { key.chars().take(3).collect() } else { String::new() };
    shown + "••••••"
}

fn js_string(text: &str) -> String {
    json::quote(text)
}

/// `text` inside single quotes for a POSIX shell.
fn shell_quote(text: &str) -> String {
    "'".to_owned() + &text.replace('\'', "'\\''") + "'"
}

fn base(base_url: &str) -> &str {
    base_url.trim().trim_end_matches('/')
}

/// `generate` with the npm package (`new ClipCloud({...})`, camelCase options).
pub fn npm(request: &CreateRequest, base_url: &str, key: &str, soft_id: Option<u64>) -> String {
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
        CreateRequest::ByStyle(r) => {
            field("style", js_string(&r.style_name));
            if let Some(n) = &r.negative_prompt {
                field("negativePrompt", js_string(n));
            }
            if let Some(n) = num(r.count) {
                field("count", n);
            }
        }
        CreateRequest::Advanced(r) => {
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

/// One request as a curl command.
fn curl_command(request: &HttpRequest) -> String {
    let mut out = String::from("curl -s ");
    if request.method != Method::Get {
        out += "-X ";
        out += request.method.as_str();
        out += " ";
    }
    out += "\"";
    out += &request.url;
    out += "\"";
    for (name, value) in request.headers() {
        out += " \\\n  -H ";
        if name == "Authorization" {
            // `Bearer $KEY`: in double quotes, so that the shell puts the key in.
            out += &["\"", name, ": ", value, "\""].concat();
        } else {
            out += &shell_quote(&[name, ": ", value].concat());
        }
    }
    if let Some(body) = &request.body {
        out += " \\\n  -d ";
        out += &shell_quote(body);
    }
    out
}

/// Create, then check, with curl: the requests the app's client sends, the key in a shell
/// variable (masked here). `key`: `None` for a gateway that adds its own; `key_as_bearer`:
/// in `Authorization`, not the URL (to the gateway serving the page).
pub fn curl(
    request: &CreateRequest,
    base_url: &str,
    key: Option<&str>,
    soft_id: Option<u64>,
    key_as_bearer: bool,
) -> String {
    let mut config =
        key.map_or_else(Config::keyless, Config::new).base_url(base_url).key_as_bearer(key_as_bearer);
    config.soft_id = soft_id;
    let create = preview::create(&config, request.clone(), "$KEY");
    let check = preview::check(&config, preview::CREATION_ID, "$KEY");
    let mut out = String::new();
    if let Some(key) = key {
        out += "KEY=";
        out += &shell_quote(&mask_key(key));
        out += "   # your API key (masked here)\n\n";
    }
    out += "# 1. start the creation\n";
    out += &curl_command(&create);
    out += "\n# → {\"success\":true,\"creation_id\":\"…\"}\n\n# 2. check until \"results\" holds the image links\n";
    out += &curl_command(&check);
    out += "\n";
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
        let code = npm(&r.into(), "http://127.0.0.1:8787/", "sk-1234567890", Some(1742));
        assert_eq!(
            code,
            "import { ClipCloud } from \"clipcloud\";\n\nconst cc = new ClipCloud({\n  apiKey: \"sk-••••••\", // your API key (masked here)\n  baseUrl: \"http://127.0.0.1:8787\",\n  softId: 1742,\n});\n\nconst { images, cost, censored } = await cc.generate({\n  prompt: \"A \\\"ripe\\\" apple\",\n  style: \"HD-HQ\",\n  negativePrompt: \"blur\",\n  count: 2,\n});\n"
        );
        let mut adv = AdvancedRequest::new("x");
        adv.width = Some(768);
        adv.seed = Some(7);
        let code = npm(&adv.into(), DEFAULT_BASE_URL, "k", None);
        assert!(!code.contains("baseUrl") && code.contains("  width: 768,\n  seed: 7,\n"), "{code}");
    }

    #[test]
    fn curl_commands() {
        let r = StyleRequest::new("It's an apple", "standard");
        let code = curl(&r.into(), "https://clipcloud.clipai.pro", Some("sk-1234567890"), Some(5), false);
        assert!(code.starts_with("KEY='sk-••••••'"), "{code}");
        assert!(!code.contains("1234567890"));
        assert!(code.contains(
            "curl -s -X POST \"https://clipcloud.clipai.pro/api/creation?apikey=$KEY\" \\\n  -H 'Content-Type: application/json' \\\n  -d '{\"prompt\":\"It'\\''s an apple\",\"styleName\":\"standard\",\"soft_id\":5}'"
        ), "{code}");
        assert!(
            code.contains("curl -s \"https://clipcloud.clipai.pro/api/creation/CREATION_ID?apikey=$KEY\"")
        );
        // A gateway that adds its own key: none is sent.
        let r: CreateRequest = StyleRequest::new("x", "standard").into();
        let keyless = curl(&r, "https://images.example.org/", None, None, false);
        assert!(!keyless.contains("KEY") && !keyless.contains("apikey"), "{keyless}");
        assert!(keyless.ends_with("curl -s \"https://images.example.org/api/creation/CREATION_ID\"\n"));
        // To the gateway serving the page, the key in a header the shell fills in.
        let bearer = curl(&r, "https://images.example.org", Some("sk-1234567890"), None, true);
        assert!(!bearer.contains("apikey") && !bearer.contains("1234567890"), "{bearer}");
        assert!(bearer.ends_with(
            "curl -s \"https://images.example.org/api/creation/CREATION_ID\" \\\n  -H \"Authorization: Bearer $KEY\"\n"
        ), "{bearer}");
    }
}
