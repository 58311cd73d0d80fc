//! From a create's JSON body to an [`Order`]: decode (by style when `styleName` is
//! present, else advanced), validate with the core's rules, size it, and run the content filter.

use crate::pricing;
use clipcloud::model::{CreateRequest, Style};

/// Size of an advanced creation when the request leaves it out.
pub const DEFAULT_SIDE: u32 = 512;

/// What the emulator will make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Order {
    pub prompt: String,
    pub width: u32,
    pub height: u32,
    pub count: u32,
    /// The content filter withholds every image.
    pub censored: bool,
}

/// The whole path of a create body; `Err` is the 400 message.
pub fn order_from_body(body: &[u8], known_styles: &[Style]) -> Result<Order, String> {
    let request = decode(body)?;
    clipcloud::validate::create(&request, Some(known_styles)).map_err(|e| e.to_string())?;
    order(&request)
}

/// JSON → the core's request types (the core's reading). Every failure is a 400 message.
pub fn decode(body: &[u8]) -> Result<CreateRequest, String> {
    clipcloud::server::decode_create_body(body)
}

/// Size and count of a valid request; an unknown style is a 400 message.
pub fn order(request: &CreateRequest) -> Result<Order, String> {
    let (prompt, (width, height), count) = match request {
        CreateRequest::ByStyle(r) => {
            let size = pricing::style_size(&r.style_name)
                .ok_or_else(|| format!("unknown style \"{}\"; GET /api/styles lists them", r.style_name))?;
            (&r.prompt, size, r.count)
        }
        CreateRequest::Advanced(r) => {
            (&r.prompt, (r.width.unwrap_or(DEFAULT_SIDE), r.height.unwrap_or(DEFAULT_SIDE)), r.count)
        }
    };
    Ok(Order {
        prompt: prompt.clone(),
        width,
        height,
        count: count.unwrap_or(1),
        censored: is_filtered(prompt),
    })
}

/// The content filter: the word `nsfw` anywhere in the prompt, in any case.
pub fn is_filtered(prompt: &str) -> bool {
    prompt.split(|c: char| !c.is_alphanumeric()).any(|word| word.eq_ignore_ascii_case("nsfw"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::styles;

    fn order_of(body: &str) -> Result<Order, String> {
        order_from_body(body.as_bytes(), &styles())
    }

    #[test]
    fn by_style_and_advanced() {
        let o = order_of(r#"{"prompt":"a cat","styleName":"FullHD-HQ-v","count":2}"#).unwrap();
        assert_eq!((o.width, o.height, o.count, o.censored), (1080, 1920, 2, false));
        let o = order_of(r#"{"prompt":"a cat","model":"m","width":1024,"quality":90,"future":[1]}"#).unwrap();
        assert_eq!((o.width, o.height, o.count), (1024, 512, 1));
    }

    #[test]
    fn bad_bodies_name_the_problem() {
        for (body, needle) in [
            ("{", "malformed JSON"),
            ("[1]", "JSON object"),
            (r#"{"styleName":"standard"}"#, "prompt is required"),
            (r#"{"prompt":5}"#, "prompt must be a string"),
            (r#"{"prompt":" ","styleName":"standard"}"#, "prompt"),
            (r#"{"prompt":"x","styleName":""}"#, "style"),
            (r#"{"prompt":"x","styleName":"nope"}"#, "unknown style"),
            (r#"{"prompt":"x","styleName":7}"#, "bad field"),
            (r#"{"prompt":"x","count":9}"#, "count"),
            (r#"{"prompt":"x","count":-1}"#, "bad field"),
            (r#"{"prompt":"x","width":100}"#, "width"),
            (r#"{"prompt":"x","height":516}"#, "multiple of 8"),
            (r#"{"prompt":"x","quality":0}"#, "quality"),
            (r#"{"prompt":"x","steps":151}"#, "steps"),
        ] {
            let err = order_of(body).unwrap_err();
            assert!(err.contains(needle), "{body}: {err}");
        }
    }

    #[test]
    fn content_filter_matches_the_word() {
        assert!(is_filtered("NSFW cat"));
        assert!(is_filtered("a cat, nsfw!"));
        assert!(!is_filtered("nsfwx cat"));
        assert!(!is_filtered("a cat"));
    }
}
