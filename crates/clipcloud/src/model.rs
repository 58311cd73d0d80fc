//! The API's data: what the caller builds (requests), what the caller gets (results),
//! and the JSON bodies exactly as they travel on the wire (`wire`).
//!
//! The emulator serializes the same `wire` types, so client and emulator cannot drift
//! apart; the emulator's own tests pin them to docs/api.md with literal JSON.

use serde::{Deserialize, Serialize};

/// The real service. Every client can point elsewhere (the emulator, a proxy).
pub const DEFAULT_BASE_URL: &str = "https://clipcloud.clipai.pro";

/// Style names the docs list, in the docs' order. The live list comes from `styles()`.
pub const KNOWN_STYLES: [&str; 20] = [
    "standard",
    "smallHQ",
    "HD-HQ",
    "FullHD-HQ-h",
    "FullHD-HQ-v",
    "graffiti",
    "illustration",
    "oldphoto",
    "aquarelle",
    "pixel-art",
    "pop-art",
    "tilt-shift",
    "HQ-768-512-h",
    "HQ-832-448-h",
    "HQ-832-640-h",
    "HQ-1024-640-h",
    "HQ-1200-640-h",
    "HQ-1280-720-h",
    "HQ-512-768-v",
    "HQ-640-1024-v",
];

/// Create by style, the docs' recommended way: the style sets model, size and steps.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StyleRequest {
    pub prompt: String,
    #[serde(rename = "styleName")]
    pub style_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    /// Images in this one creation (1..=4; the service's default is 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Developer affiliate id; the client fills it from its config when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_id: Option<u64>,
}

impl StyleRequest {
    pub fn new(prompt: impl Into<String>, style_name: impl Into<String>) -> Self {
        Self { prompt: prompt.into(), style_name: style_name.into(), ..Self::default() }
    }
}

/// Advanced create, "for rare cases" as the docs say: the caller sets the parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AdvancedRequest {
    pub prompt: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_prompt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quality: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_id: Option<u64>,
    /// Fields the docs may name later, sent unchanged so they need no new release.
    #[serde(flatten)]
    pub extra: Extra,
}

impl AdvancedRequest {
    pub fn new(prompt: impl Into<String>) -> Self {
        Self { prompt: prompt.into(), ..Self::default() }
    }
}

/// An advanced request's fields beyond the named ones, in the order given, each value
/// kept as JSON text. Text, not a JSON tree: the browser build (the npm package) hands JS
/// values over through the browser's own `JSON`, with no JSON library in its wasm. The
/// texts are checked when the request is validated.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extra(Vec<(String, String)>);

impl Extra {
    /// Sets `key` to the JSON value written in `json`, e.g. `"\"euler\""`, `7.5` or
    /// `{"scale":7}`. Setting a key again replaces its value.
    pub fn insert(&mut self, key: impl Into<String>, json: impl Into<String>) {
        let (key, json) = (key.into(), json.into());
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = json,
            None => self.0.push((key, json)),
        }
    }

    /// `(key, JSON text)` pairs, in the order they were first set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for Extra {
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        Self(map.into_iter().map(|(k, v)| (k, v.to_string())).collect())
    }
}

/// As a JSON object's members (so `#[serde(flatten)]` puts them beside the named fields).
impl Serialize for Extra {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeMap};
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, json) in &self.0 {
            let value: serde_json::Value = serde_json::from_str(json)
                .map_err(|_| S::Error::custom(["extra field \"", key, "\" is not JSON"].concat()))?;
            map.serialize_entry(key, &value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        serde_json::Map::deserialize(deserializer).map(Self::from)
    }
}

/// Either kind of create; both go to the same endpoint.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CreateRequest {
    ByStyle(StyleRequest),
    Advanced(AdvancedRequest),
}

impl From<StyleRequest> for CreateRequest {
    fn from(r: StyleRequest) -> Self {
        Self::ByStyle(r)
    }
}

impl From<AdvancedRequest> for CreateRequest {
    fn from(r: AdvancedRequest) -> Self {
        Self::Advanced(r)
    }
}

impl CreateRequest {
    pub fn prompt(&self) -> &str {
        match self {
            Self::ByStyle(r) => &r.prompt,
            Self::Advanced(r) => &r.prompt,
        }
    }

    pub fn negative_prompt(&self) -> Option<&str> {
        match self {
            Self::ByStyle(r) => r.negative_prompt.as_deref(),
            Self::Advanced(r) => r.negative_prompt.as_deref(),
        }
    }

    /// The style's name; `None` for an advanced create.
    pub fn style_name(&self) -> Option<&str> {
        match self {
            Self::ByStyle(r) => Some(&r.style_name),
            Self::Advanced(_) => None,
        }
    }

    /// Images it asks for: its `count`, or the service's default, 1.
    pub fn image_count(&self) -> u32 {
        match self {
            Self::ByStyle(r) => r.count,
            Self::Advanced(r) => r.count,
        }
        .unwrap_or(1)
    }

    /// Sets `soft_id` (a client's [`crate::Config::soft_id`]) when the request sets none,
    /// as every client sends it (and a preview shows it).
    pub(crate) fn default_soft_id(&mut self, soft_id: Option<u64>) {
        let own = match self {
            Self::ByStyle(r) => &mut r.soft_id,
            Self::Advanced(r) => &mut r.soft_id,
        };
        if own.is_none() {
            *own = soft_id;
        }
    }
}

/// A finished creation: the temporary WebP links, what it cost, how many were withheld.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finished {
    pub creation_id: String,
    /// One URL per delivered image.
    pub images: Vec<String>,
    pub cost: f64,
    /// Images withheld by the content filter (`images` is shorter by this many).
    pub censored: u32,
}

/// What a check says about a creation.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    InProgress,
    Done(Finished),
}

/// One entry of the live styles list. Only `name` is guaranteed: the service may
/// answer with bare names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Style {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

/// JSON bodies as the service sends them. Readers are lenient (every field optional
/// where docs/api.md allows variation); the emulator writes them in its exact form.
pub mod wire {
    use serde::{Deserialize, Serialize};

    /// Message of a finished check; the misspelling is the service's own.
    pub const MESSAGE_DONE: &str = "Images processed succesfully";
    pub const MESSAGE_IN_PROGRESS: &str = "In progress";

    /// Every error, and a 200 with `success: false`.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct ErrorBody {
        pub success: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<String>,
    }

    /// `POST /api/creation` → the id to check later.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct CreatedBody {
        pub success: bool,
        pub creation_id: String,
    }

    /// `GET /api/creation/{id}`: in progress has no `results`; done has them.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct CheckBody {
        pub success: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub message: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub creation_id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cost: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub censored: Option<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub results: Option<Vec<String>>,
    }

    /// `GET /api/balance`: the balance may come as a number or a numeric string.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct BalanceBody {
        pub success: bool,
        pub balance: Amount,
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum Amount {
        Number(f64),
        Text(String),
    }

    /// `GET /api/styles`: objects, or bare names, or a bare array of either.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum StylesBody {
        Wrapped { success: bool, styles: Vec<StyleEntry> },
        Bare(Vec<StyleEntry>),
    }

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum StyleEntry {
        Full(super::Style),
        Name(String),
    }
}
