//! The docs' article workflow: ask an LLM for one picture prompt per illustration
//! (the docs' own template), then read its JSON answer back and queue one creation per
//! picture with its style and negative prompt.

use clipcloud::{json, validate, CreateRequest, Style, StyleRequest, KNOWN_STYLES};

/// Pictures per article the helper asks for at most.
pub const MAX_PICTURES: u32 = 10;

/// The docs' request for image descriptions, with the article title, the picture count
/// and the style names filled in.
pub fn llm_request(title: &str, count: u32, styles: &[Style]) -> String {
    let names: Vec<&str> = if styles.is_empty() {
        KNOWN_STYLES.to_vec()
    } else {
        styles.iter().map(|s| s.name.as_str()).collect()
    };
    let mut out = String::from(
        "You are an assistant who gives the result of the task execution strictly in the specified form. \
Your goal is to select a prompt and parameters for generating images using another AI. \
To do this, you need to describe what and how should be depicted in the picture or photograph. \
At the same time, your entire output must be in English, regardless of the input language. \
Avoid using text on images or image requests where the neural network might add text, letters, or digits. \
Use high-quality styles if the image should contain, for example, a person or many different complex objects. \
Specify queries so that they should not generate prohibited content: eg NSFW. \
Use specific styles only if you feel it is necessary for this particular article.\n\n\
You have been given the title of the article or query: \"",
    );
    out.push_str(title.trim());
    out.push_str("\". You need to generate ");
    out.push_str(&count.to_string());
    out.push_str(
        " picture prompts, outputting the result as a single valid JSON array. \
Each element of the array must be a JSON object with the following structure: \
{\"picture_number\": 1, \"query\": \"describe here what should be in the picture\", \
\"negative_prompt\": \"here describe what could theoretically appear with such a request, but at the same time \
should clearly not be in the picture according to your idea. This parameter is optional\", \
\"style\": \"select a style from: ",
    );
    out.push_str(&names.join(","));
    out.push_str("\"}");
    out
}

/// One picture of the LLM's answer, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub number: u32,
    pub request: CreateRequest,
}

/// Reads the LLM's answer: a JSON array (code fences and text around it are ignored),
/// each element `{picture_number, query, negative_prompt?, style}`. Every picture is
/// checked with the core's rules (the style against the live list when known).
/// Problems are sentences that name the picture.
pub fn parse_answer(text: &str, styles: &[Style]) -> Result<Vec<Picture>, String> {
    // `get`, not indexing: no panic path (and its formatting code) in the wasm.
    let array_text = match (text.find('['), text.rfind(']')) {
        (Some(start), Some(end)) if start < end => text.get(start..=end),
        _ => None,
    };
    let Some(array_text) = array_text else {
        return Err("The answer holds no JSON array: paste the whole answer, from [ to ].".into());
    };
    let items = json::parse(array_text)
        .map_err(|e| "The answer is not valid JSON: ".to_owned() + e.message().trim_end_matches('.') + ".")?;
    let items = json::items(&items, |item| Some(item.clone()))
        .ok_or("The answer holds no JSON array: paste the whole answer, from [ to ].")?;
    if items.is_empty() {
        return Err("The answer is an empty list: it holds no pictures.".into());
    }
    if items.len() > MAX_PICTURES as usize {
        return Err("The answer holds more than ".to_owned() + &MAX_PICTURES.to_string() + " pictures.");
    }
    let known = (!styles.is_empty()).then_some(styles);
    let mut pictures = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let number = json::field(item, "picture_number", |n| {
            json::whole(n).or_else(|| json::string(n).and_then(|s| s.trim().parse().ok()))
        })
        .unwrap_or(index as u32 + 1);
        let problem = |what: &str| "Picture ".to_owned() + &number.to_string() + ": " + what + ".";
        if !json::is_object(item) {
            return Err(problem("not a JSON object"));
        }
        let text_of = |key: &str| json::field(item, key, json::string).unwrap_or_default();
        let (query, style, negative) = (text_of("query"), text_of("style"), text_of("negative_prompt"));
        let (query, style, negative) = (query.trim(), style.trim(), negative.trim());
        // The core names the field "prompt"; the LLM's answer calls it "query".
        validate::prompt(query).map_err(|e| {
            problem(
                &e.message.strip_prefix("prompt").map_or(e.message.clone(), |rest| "query".to_owned() + rest),
            )
        })?;
        validate::style_name(style, known).map_err(|e| problem(&e.message))?;
        let mut request = StyleRequest::new(query, style);
        request.negative_prompt = (!negative.is_empty()).then(|| negative.to_owned());
        pictures.push(Picture { number, request: request.into() });
    }
    Ok(pictures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn styles() -> Vec<Style> {
        KNOWN_STYLES.iter().map(|n| Style { name: (*n).into(), ..Style::default() }).collect()
    }

    #[test]
    fn request_follows_the_docs_template() {
        let text = llm_request("  How to grow apples ", 3, &[]);
        assert!(text.starts_with("You are an assistant who gives the result"));
        assert!(text.contains("the title of the article or query: \"How to grow apples\". You need to generate 3 picture prompts"));
        assert!(text.contains("{\"picture_number\": 1, \"query\":"));
        assert!(text.ends_with("select a style from: standard,smallHQ,HD-HQ,FullHD-HQ-h,FullHD-HQ-v,graffiti,illustration,oldphoto,aquarelle,pixel-art,pop-art,tilt-shift,HQ-768-512-h,HQ-832-448-h,HQ-832-640-h,HQ-1024-640-h,HQ-1200-640-h,HQ-1280-720-h,HQ-512-768-v,HQ-640-1024-v\"}"));
        let live = [Style { name: "only".into(), ..Style::default() }];
        assert!(llm_request("t", 1, &live).ends_with("select a style from: only\"}"));
    }

    #[test]
    fn reads_an_answer_in_a_code_fence() {
        let answer = "Here you go:\n```json\n[\n {\"picture_number\": 1, \"query\": \"An apple orchard at dawn\", \"negative_prompt\": \"people, text\", \"style\": \"FullHD-HQ-h\"},\n {\"picture_number\": \"2\", \"query\": \"A basket of apples\", \"style\": \"standard\", \"negative_prompt\": \"\"}\n]\n```";
        let pictures = parse_answer(answer, &styles()).unwrap();
        assert_eq!(pictures.len(), 2);
        let CreateRequest::ByStyle(first) = &pictures[0].request else { panic!() };
        assert_eq!(
            (first.prompt.as_str(), first.style_name.as_str()),
            ("An apple orchard at dawn", "FullHD-HQ-h")
        );
        assert_eq!(first.negative_prompt.as_deref(), Some("people, text"));
        assert_eq!(pictures[1].number, 2);
        assert_eq!(pictures[1].request.negative_prompt(), None);
    }

    #[test]
    fn problems_name_the_picture() {
        let cases = [
            ("no json here", "The answer holds no JSON array"),
            ("[1, 2", "The answer holds no JSON array"),
            ("[{\"query\": \"x\",}]", "The answer is not valid JSON"),
            ("[]", "empty list"),
            (
                "[{\"picture_number\": 1, \"query\": \"ok\", \"style\": \"standard\"}, 5]",
                "Picture 2: not a JSON object.",
            ),
            (
                "[{\"picture_number\": 7, \"query\": \" \", \"style\": \"standard\"}]",
                "Picture 7: query must not be empty.",
            ),
            ("[{\"query\": \"a\", \"style\": \"watercolour\"}]", "Picture 1: unknown style \"watercolour\""),
            ("[{\"query\": \"a\"}]", "Picture 1: style must not be empty."),
        ];
        for (answer, expected) in cases {
            let err = parse_answer(answer, &styles()).unwrap_err();
            assert!(err.contains(expected), "{answer}: {err}");
        }
        let many = format!("[{}]", [r#"{"query":"a","style":"standard"}"#; 11].join(","));
        assert!(parse_answer(&many, &styles()).unwrap_err().contains("more than 10"));
        // Unknown lists accept any style name.
        assert!(parse_answer(r#"[{"query":"a","style":"new-style"}]"#, &[]).is_ok());
    }
}
