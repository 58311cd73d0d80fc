//! Input rules, checked before anything is sent. One typed error per rule, with a
//! message that names the field and the allowed range.

use crate::error::{Field, InvalidInput};
use crate::model::{AdvancedRequest, CreateRequest, Style, StyleRequest};
use core::ops::RangeInclusive;

pub const COUNT: RangeInclusive<u32> = 1..=4;
pub const SIDE: RangeInclusive<u32> = 256..=2048;
/// Width and height must be multiples of this.
pub const SIDE_STEP: u32 = 8;
pub const QUALITY: RangeInclusive<u32> = 1..=100;
pub const STEPS: RangeInclusive<u32> = 1..=150;

type Result = core::result::Result<(), InvalidInput>;

fn fail(field: Field, message: String) -> Result {
    Err(InvalidInput { field, message })
}

/// The prompt must say something.
pub fn prompt(prompt: &str) -> Result {
    if prompt.trim().is_empty() {
        return fail(Field::Prompt, "prompt must not be empty".into());
    }
    Ok(())
}

/// A style name must be given; when the live list is known it must be on it.
pub fn style_name(name: &str, known: Option<&[Style]>) -> Result {
    if name.trim().is_empty() {
        return fail(Field::Style, "style must not be empty".into());
    }
    if let Some(styles) = known {
        if !styles.is_empty() && !styles.iter().any(|s| s.name == name) {
            return fail(
                Field::Style,
                ["unknown style \"", name, "\"; choose one of the styles list"].concat(),
            );
        }
    }
    Ok(())
}

// Messages are put together without `format!`, to keep `core::fmt` out of the browser build.
fn n(value: u32) -> String {
    crate::error::decimal(u64::from(value))
}

fn got(value: u32) -> String {
    [" (got ", &n(value), ")"].concat()
}

fn in_range(field: Field, value: Option<u32>, range: &RangeInclusive<u32>) -> Result {
    match value {
        Some(v) if !range.contains(&v) => fail(
            field,
            [
                field.as_str(),
                " must be between ",
                &n(*range.start()),
                " and ",
                &n(*range.end()),
                got(v).as_str(),
            ]
            .concat(),
        ),
        _ => Ok(()),
    }
}

fn side(field: Field, value: Option<u32>) -> Result {
    in_range(field, value, &SIDE)?;
    match value {
        Some(v) if v % SIDE_STEP != 0 => {
            fail(field, [field.as_str(), " must be a multiple of ", &n(SIDE_STEP), got(v).as_str()].concat())
        }
        _ => Ok(()),
    }
}

pub fn count(count: Option<u32>) -> Result {
    in_range(Field::Count, count, &COUNT)
}

pub fn style_request(req: &StyleRequest, known: Option<&[Style]>) -> Result {
    prompt(&req.prompt)?;
    style_name(&req.style_name, known)?;
    count(req.count)
}

/// The wire names of an advanced request's own fields: `extra` may not set them (it
/// would override a checked value, or send the field twice).
pub const ADVANCED_FIELDS: [&str; 11] = [
    "prompt",
    "negative_prompt",
    "model",
    "width",
    "height",
    "quality",
    "steps",
    "seed",
    "count",
    "soft_id",
    "styleName",
];

pub fn advanced_request(req: &AdvancedRequest) -> Result {
    prompt(&req.prompt)?;
    count(req.count)?;
    side(Field::Width, req.width)?;
    side(Field::Height, req.height)?;
    in_range(Field::Quality, req.quality, &QUALITY)?;
    in_range(Field::Steps, req.steps, &STEPS)?;
    for (key, json) in req.extra.iter() {
        if ADVANCED_FIELDS.contains(&key) {
            return fail(
                Field::Extra,
                ["extra field \"", key, "\" is one of the named fields; set it directly"].concat(),
            );
        }
        // In the browser the body is built as a JS object, where this key would set the
        // prototype and vanish from the JSON: refused in every build alike.
        if key == "__proto__" {
            return fail(Field::Extra, "extra field \"__proto__\" cannot be sent".into());
        }
        if crate::json::parse(json).is_none() {
            return fail(Field::Extra, ["extra field \"", key, "\" is not a JSON value"].concat());
        }
    }
    Ok(())
}

/// All rules for a create. `known_styles` is the live styles list when the caller has it.
pub fn create(req: &CreateRequest, known_styles: Option<&[Style]>) -> Result {
    match req {
        CreateRequest::ByStyle(r) => style_request(r, known_styles),
        CreateRequest::Advanced(r) => advanced_request(r),
    }
}

/// A creation id goes into the URL path: it must be non-empty and URL-safe.
pub fn creation_id(id: &str) -> Result {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        fail(
            Field::CreationId,
            "creation id must be the id a create returned (letters, digits and dashes)".into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(r: Result) -> Field {
        r.expect_err("should fail").field
    }

    #[test]
    fn prompt_rules() {
        assert!(prompt("a red apple").is_ok());
        assert_eq!(field_of(prompt("")), Field::Prompt);
        assert_eq!(prompt(" \n\t").unwrap_err().message, "prompt must not be empty");
    }

    #[test]
    fn style_rules() {
        let known = [Style { name: "standard".into(), ..Style::default() }];
        assert!(style_name("HD-HQ", None).is_ok());
        assert!(style_name("standard", Some(&known)).is_ok());
        let err = style_name("HD-HQ", Some(&known)).unwrap_err();
        assert_eq!(err.message, "unknown style \"HD-HQ\"; choose one of the styles list");
        assert_eq!(field_of(style_name(" ", None)), Field::Style);
    }

    #[test]
    fn numeric_rules_name_field_range_and_value() {
        assert!(count(None).is_ok() && count(Some(4)).is_ok());
        assert_eq!(count(Some(9)).unwrap_err().message, "count must be between 1 and 4 (got 9)");
        assert_eq!(field_of(count(Some(0))), Field::Count);

        let mut req = AdvancedRequest::new("x");
        req.width = Some(100);
        assert_eq!(
            advanced_request(&req).unwrap_err().message,
            "width must be between 256 and 2048 (got 100)"
        );
        req.width = Some(516);
        assert_eq!(advanced_request(&req).unwrap_err().message, "width must be a multiple of 8 (got 516)");
        req.width = Some(512);
        req.height = Some(4096);
        assert_eq!(field_of(advanced_request(&req)), Field::Height);
        req.height = None;
        req.quality = Some(101);
        assert_eq!(field_of(advanced_request(&req)), Field::Quality);
        req.quality = Some(100);
        req.steps = Some(0);
        assert_eq!(field_of(advanced_request(&req)), Field::Steps);
        req.steps = Some(150);
        assert!(advanced_request(&req).is_ok());
        req.extra.insert("sampler", r#""euler""#);
        assert!(advanced_request(&req).is_ok());
        req.extra.insert("sampler", "euler");
        assert_eq!(
            advanced_request(&req).unwrap_err().message,
            "extra field \"sampler\" is not a JSON value"
        );
        assert_eq!(field_of(advanced_request(&req)), Field::Extra);
        req.extra.insert("sampler", "null");
        req.extra.insert("__proto__", "{}");
        assert_eq!(advanced_request(&req).unwrap_err().message, "extra field \"__proto__\" cannot be sent");
        req.extra = crate::model::Extra::default();
        req.extra.insert("prompt", r#""unchecked""#);
        assert_eq!(
            advanced_request(&req).unwrap_err().message,
            "extra field \"prompt\" is one of the named fields; set it directly"
        );
    }

    #[test]
    fn creation_id_rules() {
        assert!(creation_id("12345678-abcd-ef12-3456-7890abcdef12").is_ok());
        assert!(creation_id("").is_err());
        assert!(creation_id("../balance").is_err());
        assert!(creation_id("a?apikey=x").is_err());
    }
}
