//! Input rules, checked before anything is sent. One typed error per rule, with a
//! message that names the field and the allowed range.
//!
//! One function per field, for a form that checks as the user types; [`problems`] for
//! every problem of a request at once; [`create`] for the first, before sending.

use crate::error::{Field, InvalidInput};
use crate::model::{AdvancedRequest, CreateRequest, Extra, Style, StyleRequest};
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
    if crate::text::trim(prompt).is_empty() {
        return fail(Field::Prompt, "prompt must not be empty".into());
    }
    Ok(())
}

/// A style name must be given; when the live list is known it must be on it.
pub fn style_name(name: &str, known: Option<&[Style]>) -> Result {
    if crate::text::trim(name).is_empty() {
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

/// An advanced request's width: [`SIDE`], a multiple of [`SIDE_STEP`].
pub fn width(width: Option<u32>) -> Result {
    side(Field::Width, width)
}

/// An advanced request's height: [`SIDE`], a multiple of [`SIDE_STEP`].
pub fn height(height: Option<u32>) -> Result {
    side(Field::Height, height)
}

pub fn quality(quality: Option<u32>) -> Result {
    in_range(Field::Quality, quality, &QUALITY)
}

pub fn steps(steps: Option<u32>) -> Result {
    in_range(Field::Steps, steps, &STEPS)
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
    width(req.width)?;
    height(req.height)?;
    quality(req.quality)?;
    steps(req.steps)?;
    extra(&req.extra)
}

/// An advanced request's `extra` fields: JSON values, none of the named fields.
pub fn extra(extra: &Extra) -> Result {
    for (key, json) in extra.iter() {
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
        if crate::json::parse(json).is_err() {
            return fail(Field::Extra, ["extra field \"", key, "\" is not a JSON value"].concat());
        }
    }
    Ok(())
}

/// All rules for a create: the first one broken. `known_styles` is the live styles list
/// when the caller has it.
pub fn create(req: &CreateRequest, known_styles: Option<&[Style]>) -> Result {
    match req {
        CreateRequest::ByStyle(r) => style_request(r, known_styles),
        CreateRequest::Advanced(r) => advanced_request(r),
    }
}

/// Every rule a create breaks, in the order of its fields, one problem per field at most
/// (empty: fine to send): what a form shows beside each field as the user types.
pub fn problems(req: &CreateRequest, known_styles: Option<&[Style]>) -> Vec<InvalidInput> {
    let checks = match req {
        CreateRequest::ByStyle(r) => {
            vec![prompt(&r.prompt), style_name(&r.style_name, known_styles), count(r.count)]
        }
        CreateRequest::Advanced(r) => vec![
            prompt(&r.prompt),
            count(r.count),
            width(r.width),
            height(r.height),
            quality(r.quality),
            steps(r.steps),
            extra(&r.extra),
        ],
    };
    checks.into_iter().filter_map(core::result::Result::err).collect()
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
    fn problems_lists_every_broken_rule_at_once() {
        let mut req = AdvancedRequest::new(" ");
        (req.count, req.width, req.height, req.quality, req.steps) =
            (Some(9), Some(100), Some(516), None, Some(0));
        req.extra.insert("sampler", "euler");
        let fields: Vec<Field> = problems(&req.clone().into(), None).iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            [Field::Prompt, Field::Count, Field::Width, Field::Height, Field::Steps, Field::Extra]
        );
        // The first of them is what `create` refuses with.
        let first = problems(&req.clone().into(), None).into_iter().next();
        assert_eq!(first, create(&req.into(), None).err());

        let known = [Style { name: "standard".into(), ..Style::default() }];
        let by_style: CreateRequest = StyleRequest::new("a cat", "HD-HQ").into();
        let found = problems(&by_style, Some(&known));
        assert_eq!(found.iter().map(|p| p.field).collect::<Vec<_>>(), [Field::Style]);
        assert!(problems(&by_style, None).is_empty());
    }

    #[test]
    fn creation_id_rules() {
        assert!(creation_id("12345678-abcd-ef12-3456-7890abcdef12").is_ok());
        assert!(creation_id("").is_err());
        assert!(creation_id("../balance").is_err());
        assert!(creation_id("a?apikey=x").is_err());
    }
}
