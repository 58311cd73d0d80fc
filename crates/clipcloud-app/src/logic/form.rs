//! The prompt form as the user types it (text in every field), checked field by field
//! with the core's own rules, and turned into the core's [`CreateRequest`].

use clipcloud::json::{self, ObjectWriter};
use clipcloud::{validate, AdvancedRequest, CreateRequest, Field, Style, StyleRequest};

/// Every field as typed. Kept (and saved) as text so nothing the user typed is lost.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Form {
    pub prompt: String,
    pub negative_prompt: String,
    pub count: String,
    pub style: String,
    /// Advanced create instead of the style (for rare cases, as the docs say).
    pub advanced: bool,
    pub model: String,
    pub width: String,
    pub height: String,
    pub quality: String,
    pub steps: String,
    pub seed: String,
}

/// What is wrong with each field, as a sentence; `None` when the field is fine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Problems {
    pub prompt: Option<String>,
    pub style: Option<String>,
    pub count: Option<String>,
    pub width: Option<String>,
    pub height: Option<String>,
    pub quality: Option<String>,
    pub steps: Option<String>,
    pub seed: Option<String>,
}

impl Problems {
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The first problem, to say why the form cannot be sent.
    pub fn first(&self) -> Option<&str> {
        [
            &self.prompt,
            &self.style,
            &self.count,
            &self.width,
            &self.height,
            &self.quality,
            &self.steps,
            &self.seed,
        ]
        .into_iter()
        .find_map(|p| p.as_deref())
    }
}

/// Empty → `None`; digits → the number; anything else → the problem.
fn number<T: core::str::FromStr>(text: &str, name: &str) -> Result<Option<T>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(name.to_owned() + " must be a whole number");
    }
    text.parse().map(Some).map_err(|_| name.to_owned() + " is too large")
}

fn optional_text(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl Form {
    fn text_fields(&mut self) -> [(&'static str, &mut String); 10] {
        [
            ("prompt", &mut self.prompt),
            ("negative_prompt", &mut self.negative_prompt),
            ("count", &mut self.count),
            ("style", &mut self.style),
            ("model", &mut self.model),
            ("width", &mut self.width),
            ("height", &mut self.height),
            ("quality", &mut self.quality),
            ("steps", &mut self.steps),
            ("seed", &mut self.seed),
        ]
    }

    /// The draft as saved: an object of its fields.
    pub fn to_json(&self) -> String {
        let mut o = ObjectWriter::default();
        for (key, value) in self.clone().text_fields() {
            o.string(key, value);
        }
        o.boolean("advanced", self.advanced);
        o.finish()
    }

    /// A saved draft; missing or unreadable fields are empty.
    pub fn from_json(text: &str) -> Self {
        let mut form = Self::default();
        let Ok(v) = json::parse(text) else { return form };
        for (key, value) in form.text_fields() {
            *value = json::field(&v, key, json::string).unwrap_or_default();
        }
        form.advanced = json::field(&v, "advanced", json::boolean).unwrap_or(false);
        form
    }

    /// Checks every field (all problems at once, for as-you-type hints) with the core's
    /// rules ([`validate::problems`]); a number that does not read is this form's own
    /// problem. The style is checked against `styles` when the live list is known.
    pub fn problems(&self, styles: &[Style]) -> Problems {
        let mut p = Problems::default();
        let read = |text: &str, name: &str, problem: &mut Option<String>| {
            number::<u32>(text, name).unwrap_or_else(|e| {
                *problem = Some(e);
                None
            })
        };
        let count = read(&self.count, "count", &mut p.count);
        let request: CreateRequest = if self.advanced {
            let mut r = AdvancedRequest::new(self.prompt.as_str());
            r.count = count;
            r.width = read(&self.width, "width", &mut p.width);
            r.height = read(&self.height, "height", &mut p.height);
            r.quality = read(&self.quality, "quality", &mut p.quality);
            r.steps = read(&self.steps, "steps", &mut p.steps);
            p.seed = number::<u64>(&self.seed, "seed").err();
            r.into()
        } else {
            let mut r = StyleRequest::new(self.prompt.as_str(), self.style.as_str());
            r.count = count;
            r.into()
        };
        let known = (!styles.is_empty()).then_some(styles);
        for problem in validate::problems(&request, known) {
            let slot = match problem.field {
                Field::Prompt => &mut p.prompt,
                Field::Style if self.style.trim().is_empty() => {
                    p.style = Some("pick a style below".to_owned());
                    continue;
                }
                Field::Style => &mut p.style,
                Field::Count => &mut p.count,
                Field::Width => &mut p.width,
                Field::Height => &mut p.height,
                Field::Quality => &mut p.quality,
                Field::Steps => &mut p.steps,
                _ => continue,
            };
            slot.get_or_insert(problem.message);
        }
        p
    }

    /// The request to send, or the first problem.
    pub fn request(&self, styles: &[Style]) -> Result<CreateRequest, String> {
        let problems = self.problems(styles);
        if let Some(first) = problems.first() {
            return Err(first.to_owned());
        }
        let count = number::<u32>(&self.count, "count")?;
        let negative_prompt = optional_text(&self.negative_prompt);
        let prompt = self.prompt.trim().to_owned();
        if !self.advanced {
            let mut r = StyleRequest::new(prompt, self.style.trim());
            r.negative_prompt = negative_prompt;
            r.count = count;
            return Ok(r.into());
        }
        let mut r = AdvancedRequest::new(prompt);
        r.negative_prompt = negative_prompt;
        r.count = count;
        r.model = optional_text(&self.model);
        r.width = number(&self.width, "width")?;
        r.height = number(&self.height, "height")?;
        r.quality = number(&self.quality, "quality")?;
        r.steps = number(&self.steps, "steps")?;
        r.seed = number(&self.seed, "seed")?;
        Ok(r.into())
    }

    /// The form that re-creates `request` (re-run from the history).
    pub fn from_request(request: &CreateRequest) -> Self {
        let text = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        match request {
            CreateRequest::ByStyle(r) => Self {
                prompt: r.prompt.clone(),
                negative_prompt: r.negative_prompt.clone().unwrap_or_default(),
                count: text(r.count),
                style: r.style_name.clone(),
                ..Self::default()
            },
            CreateRequest::Advanced(r) => Self {
                prompt: r.prompt.clone(),
                negative_prompt: r.negative_prompt.clone().unwrap_or_default(),
                count: text(r.count),
                advanced: true,
                model: r.model.clone().unwrap_or_default(),
                width: text(r.width),
                height: text(r.height),
                quality: text(r.quality),
                steps: text(r.steps),
                seed: r.seed.map(|n| n.to_string()).unwrap_or_default(),
                ..Self::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles() -> Vec<Style> {
        ["standard", "HD-HQ"].iter().map(|n| Style { name: (*n).into(), ..Style::default() }).collect()
    }

    #[test]
    fn the_draft_survives_json() {
        let form = Form {
            prompt: "a \"red\" apple".into(),
            count: "two".into(),
            advanced: true,
            seed: "7".into(),
            ..Form::default()
        };
        assert_eq!(Form::from_json(&form.to_json()), form);
        assert_eq!(
            Form::from_json(r#"{"prompt":"p","count":3,"advanced":"yes"}"#),
            Form { prompt: "p".into(), ..Form::default() }
        );
        assert_eq!(Form::from_json("garbage"), Form::default());
    }

    #[test]
    fn a_fresh_form_asks_for_prompt_and_style() {
        let p = Form::default().problems(&styles());
        assert_eq!(p.prompt.as_deref(), Some("prompt must not be empty"));
        assert_eq!(p.style.as_deref(), Some("pick a style below"));
        assert_eq!(p.count, None);
    }

    #[test]
    fn style_request() {
        let form = Form {
            prompt: "  a red apple ".into(),
            style: "HD-HQ".into(),
            count: "2".into(),
            negative_prompt: " ".into(),
            ..Form::default()
        };
        assert!(form.problems(&styles()).is_empty());
        let Ok(CreateRequest::ByStyle(r)) = form.request(&styles()) else { panic!() };
        assert_eq!(
            (r.prompt.as_str(), r.style_name.as_str(), r.count, r.negative_prompt.clone()),
            ("a red apple", "HD-HQ", Some(2), None)
        );
        assert_eq!(Form::from_request(&r.clone().into()).request(&styles()), Ok(r.into()));
    }

    #[test]
    fn core_rules_show_per_field() {
        let form = Form { prompt: "x".into(), style: "nope".into(), count: "9".into(), ..Form::default() };
        let p = form.problems(&styles());
        assert_eq!(p.count.as_deref(), Some("count must be between 1 and 4 (got 9)"));
        assert_eq!(p.style.as_deref(), Some("unknown style \"nope\"; choose one of the styles list"));
        // Without a live list any name is allowed.
        assert_eq!(form.problems(&[]).style, None);
        let form = Form { count: "two".into(), ..form };
        assert_eq!(form.problems(&[]).count.as_deref(), Some("count must be a whole number"));
    }

    #[test]
    fn advanced_request() {
        let mut form = Form {
            prompt: "a cat".into(),
            advanced: true,
            width: "100".into(),
            height: "516".into(),
            quality: "101".into(),
            steps: "0".into(),
            seed: "-1".into(),
            ..Form::default()
        };
        let p = form.problems(&[]);
        assert_eq!(p.style, None, "no style in advanced mode");
        assert_eq!(p.width.as_deref(), Some("width must be between 256 and 2048 (got 100)"));
        assert_eq!(p.height.as_deref(), Some("height must be a multiple of 8 (got 516)"));
        assert!(p.quality.is_some() && p.steps.is_some());
        assert_eq!(p.seed.as_deref(), Some("seed must be a whole number"));
        assert_eq!(form.request(&[]), Err("width must be between 256 and 2048 (got 100)".into()));
        form.width = "768".into();
        form.height = "512".into();
        form.quality = "90".into();
        form.steps = "30".into();
        form.seed = "42".into();
        form.model = "sdxl".into();
        let Ok(CreateRequest::Advanced(r)) = form.request(&[]) else { panic!() };
        assert_eq!(
            (r.width, r.height, r.quality, r.steps, r.seed),
            (Some(768), Some(512), Some(90), Some(30), Some(42))
        );
        assert_eq!(r.model.as_deref(), Some("sdxl"));
        assert_eq!(Form::from_request(&r.clone().into()).request(&[]), Ok(r.into()));
    }
}
